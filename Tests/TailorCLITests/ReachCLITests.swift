// What a new user brings: a Hugging Face cache snapshot as --model, a tokenizer-only folder, a conversation with
// tools; and the adapter's record of its base (a Hub name PEFT can resolve, never a path of this machine).
import Foundation
import XCTest

final class ReachCLITests: TailorCLITestCase {
    static let smolTokenizer = CLITests.repository.appendingPathComponent("Tests/TailorDataTests/Fixtures/smollm2")

    func adapterConfig(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("adapter_config.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func train(_ model: String, out: URL, extra: [String] = []) throws -> Result {
        let data = try write("{\"input_ids\": [5, 9, 14, 3, 7, 11]}\n{\"input_ids\": [8, 2, 6, 12, 4]}\n", "train.jsonl")
        return try tailor(["train", "--model", model, "--data", data, "--method", "lora", "--max-steps", "1",
                           "--batch-size", "2", "--out", out.path] + extra)
    }

    /// A cache snapshot folder (files are links into blobs/, as huggingface_hub writes them) loads, and the adapter
    /// records ORG/NAME plus a PEFT model card naming it.
    func testCacheSnapshotRecordsTheRepositoryName() throws {
        let snapshot = scratch.appendingPathComponent("hub/models--TinyOrg--tiny-llama/snapshots/0123abcd")
        let blobs = scratch.appendingPathComponent("hub/models--TinyOrg--tiny-llama/blobs")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            let blob = blobs.appendingPathComponent("blob-\(name)")
            try FileManager.default.copyItem(at: CLITests.tinyLlama.appendingPathComponent(name), to: blob)
            try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/blob-\(name)")
        }
        let out = scratch.appendingPathComponent("adapter")
        let result = try train(snapshot.path, out: out)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(try adapterConfig(out)["base_model_name_or_path"] as? String, "TinyOrg/tiny-llama")
        let card = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(card.contains("base_model: TinyOrg/tiny-llama\nlibrary_name: peft"), card)
    }

    /// Without a known Hub name the adapter records a bare name and says how to set one; --base-model-name sets
    /// it, and a path is refused.
    func testBaseModelNameIsNeverALocalPath() throws {
        let out = scratch.appendingPathComponent("plain")
        let plain = try train(CLITests.tinyLlama.path, out: out)
        XCTAssertEqual(plain.status, 0, plain.output)
        XCTAssertEqual(try adapterConfig(out)["base_model_name_or_path"] as? String, "tiny-llama")
        XCTAssertTrue(plain.output.contains("pass --base-model-name ORG/NAME"), plain.output)
        let named = scratch.appendingPathComponent("named")
        XCTAssertEqual(try train(CLITests.tinyLlama.path, out: named, extra: ["--base-model-name", "me/tiny"]).status, 0)
        XCTAssertEqual(try adapterConfig(named)["base_model_name_or_path"] as? String, "me/tiny")
        try assertFails(["train", "--model", CLITests.tinyLlama.path, "--data", "x.jsonl", "--method", "lora", "--out", scratch.path + "/x",
                         "--base-model-name", "/home/me/models/tiny"], mentioning: ["--base-model-name", "not a path"])
    }

    /// tokenize and template accept a folder with only tokenizer files (as AutoTokenizer does); template shows a
    /// conversation's tools and tool calls, from the file or from --tools.
    func testTokenizerOnlyFolderAndTools() throws {
        let tokenize = try tailor(["tokenize", "--model", Self.smolTokenizer.path, "--text", "Hello world", "--json"])
        XCTAssertEqual(tokenize.status, 0, tokenize.output)
        XCTAssertTrue(tokenize.output.contains("\"ids\""), tokenize.output)
        let messages = try write(#"{"messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}]}"#, "chat.json")
        let tools = try write(#"[{"type": "function", "function": {"name": "get_weather", "description": "Weather now.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#, "tools.json")
        let rendered = try tailor(["template", "--model", Self.smolTokenizer.path, "--template", "qwen2.5", "--messages", messages, "--tools", tools])
        XCTAssertEqual(rendered.status, 0, rendered.output)
        XCTAssertTrue(rendered.output.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather now.\""), rendered.output)
        XCTAssertTrue(rendered.output.contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>"), rendered.output)
        try assertFails(["template", "--model", Self.smolTokenizer.path, "--messages", messages, "--tools", messages], mentioning: ["--tools", "list of tool objects"])
    }
}
