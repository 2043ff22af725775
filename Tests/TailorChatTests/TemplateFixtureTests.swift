// Real chat templates rendered over fixture conversations must equal transformers' apply_chat_template output.
import Foundation
import XCTest
@testable import TailorChat

final class TemplateFixtureTests: XCTestCase {
    func testRealTemplatesMatchTransformers() throws {
        let fixture = try Fixtures.json("chat_templates.json")
        let templates = try loadTemplates(fixture)
        var passed = 0
        var failures: [String] = []
        let cases = fixture["cases"]?.arrayValue ?? []
        XCTAssertGreaterThan(cases.count, 100)
        for c in cases {
            let name = c["template"]?.stringValue ?? ""
            let label = "\(name)/\(c["conversation"]?.stringValue ?? "")/gen=\(c["add_generation_prompt"]?.boolValue ?? false)"
            guard let (template, bos, eos) = templates[name] else { failures.append("\(label): template missing"); continue }
            let tools = c["tools"].flatMap { $0 == .none ? nil : $0.arrayValue }
            do {
                let out = try template.render(messages: c["messages"]?.arrayValue ?? [],
                                              addGenerationPrompt: c["add_generation_prompt"]?.boolValue ?? false,
                                              bosToken: bos, eosToken: eos, tools: tools)
                if let expected = c["expected"]?.stringValue {
                    if out == expected { passed += 1 } else { failures.append("\(label): got\n\(out)\nexpected\n\(expected)") }
                } else {
                    failures.append("\(label): rendered but transformers raised \(c["message"]?.stringValue ?? "")")
                }
            } catch let error as ChatTemplateError {
                guard let kind = c["error"]?.stringValue else { failures.append("\(label): threw \(error)"); continue }
                if kind == "raised" {
                    // raise_exception must surface the template's own message.
                    if error == .raised(c["message"]?.stringValue ?? "") { passed += 1 } else { failures.append("\(label): \(error)") }
                } else {
                    passed += 1
                }
            }
        }
        print("TemplateFixtureTests: \(passed)/\(cases.count) template x conversation x add_generation_prompt cases pass")
        XCTAssertEqual(failures.count, 0, failures.prefix(5).joined(separator: "\n----\n"))
    }

    func testBuiltInTextsMatchFixtureFiles() throws {
        let files = ["chatml": "smollm2", "qwen2.5": "qwen2.5", "qwen3": "qwen3", "llama3": "llama3", "llama2": "llama2", "mistral": "mistral",
                     "gemma2": "gemma2", "gemma3": "gemma3", "phi3": "phi3", "chatglm4": "chatglm4", "deepseek-v2": "deepseek-v2",
                     "deepseek-v3": "deepseek-v3"]
        XCTAssertEqual(Set(ChatTemplate.builtInNames), Set(files.keys))
        for (name, file) in files {
            let builtIn = try ChatTemplate.builtIn(named: name)
            XCTAssertEqual(builtIn.source, try Fixtures.text("templates/\(file).jinja"), name)
        }
        XCTAssertEqual(try ChatTemplate.builtIn(named: "smollm2").source, try ChatTemplate.builtIn(named: "chatml").source)
        XCTAssertEqual(try ChatTemplate.builtIn(named: "llama3").eosToken, "<|eot_id|>")
        XCTAssertThrowsError(try ChatTemplate.builtIn(named: "nope")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .unknownTemplate("nope"))
        }
    }

    /// The SmolLM2 rendering quoted in the compatibility spec (§6.8), through the ChatMessage API.
    func testSmolLM2SpecExample() throws {
        let template = try ChatTemplate.builtIn(named: "smollm2")
        let out = try template.render(conversation: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true,
                                      bosToken: "<|im_start|>", eosToken: "<|im_end|>")
        XCTAssertEqual(out, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testLoadFromFileAndTokenizerConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailorchat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Fixtures.text("templates/qwen2.5.jinja")
        let jinja = dir.appendingPathComponent("chat_template.jinja")
        try Data(source.utf8).write(to: jinja)
        XCTAssertEqual(try ChatTemplate(contentsOf: jinja).source, source)
        let config = JinjaValue.object([("chat_template", .string(source)), ("eos_token", "<|im_end|>")])
        let json = dir.appendingPathComponent("tokenizer_config.json")
        try JSONEncoder().encode(config).write(to: json)
        let loaded = try ChatTemplate(contentsOf: json)
        XCTAssertEqual(loaded.source, source)
        XCTAssertEqual(loaded.eosToken, "<|im_end|>")
    }

    func testChatMessageFlatJSONRoundTrip() throws {
        let json = #"{"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f"}}]}"#
        let message = try JSONDecoder().decode(ChatMessage.self, from: Data(json.utf8))
        XCTAssertEqual(message.role, "assistant")
        XCTAssertEqual(message.content, "")
        // Codable sorts nested keys; the ordered JSON path keeps the file's order.
        XCTAssertEqual(message.extra?["tool_calls"], [["function": ["name": "f"], "type": "function"]])
        let again = try JSONDecoder().decode(ChatMessage.self, from: try JSONEncoder().encode(message))
        XCTAssertEqual(again, message)
        let ordered = try ChatMessage(try JinjaValue(json: Data(json.utf8)))
        XCTAssertEqual(ordered.extra?["tool_calls"], [["type": "function", "function": ["name": "f"]]])
        XCTAssertThrowsError(try JSONDecoder().decode(ChatMessage.self, from: Data(#"{"content": "x"}"#.utf8)))
    }

    private func loadTemplates(_ fixture: JinjaValue) throws -> [String: (ChatTemplate, String?, String?)] {
        var out: [String: (ChatTemplate, String?, String?)] = [:]
        for (name, info) in fixture["templates"]?.objectPairs ?? [] {
            let text = try Fixtures.text(info["file"]?.stringValue ?? "")
            out[name] = (try ChatTemplate(source: text), info["bos_token"]?.optionalString, info["eos_token"]?.optionalString)
        }
        return out
    }
}
