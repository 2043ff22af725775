// config.json: transformers 4.x and 5.x inputs decoded, re-encoded and compared with transformers 5.24's output.
import Foundation
import TailorFormats
import XCTest

final class ModelConfigTests: XCTestCase {
    private let names = ["llama2_7b", "llama3_8b", "llama31_8b", "mistral_7b_v01", "qwen25_05b", "smollm2_135m", "llama_linear_rope"]

    /// Keys transformers copies through from the input that Tailor does not model.
    private let passThroughKeys: Set<String> = ["is_llama_config", "rope_interleaved"]

    private func object(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Compares our 5.x JSON with transformers' key by key (numbers by value: 100000 and 100000.0 are equal).
    private func assertSameJSON(_ ours: [String: Any], _ theirs: [String: Any], _ name: String) {
        let expectedKeys = Set(theirs.keys).subtracting(passThroughKeys)
        XCTAssertEqual(Set(ours.keys), expectedKeys, name)
        for key in expectedKeys {
            var expected = theirs[key]
            if key == "rope_parameters", var rope = expected as? [String: Any] {
                rope["type"] = nil  // legacy alias kept by transformers next to rope_type
                expected = rope
            }
            XCTAssertEqual(ours[key].map { NSDictionary(dictionary: ["v": $0]) }, expected.map { NSDictionary(dictionary: ["v": $0]) },
                           "\(name).\(key)")
        }
    }

    func testDecodesBothFormsAndEncodesLikeTransformers5() throws {
        for name in names {
            let fromV4 = try ModelConfig.load(from: try Fixtures.url("configs/\(name)/input.json"))
            let fromV5 = try ModelConfig.load(from: try Fixtures.url("configs/\(name)/expected.json"))
            XCTAssertEqual(fromV4, fromV5, "\(name): 4.x and 5.x files must decode to the same config")
            assertSameJSON(try object(try fromV4.jsonData()), try object(try Fixtures.data("configs/\(name)/expected.json")), name)
        }
    }

    func testFieldValues() throws {
        let llama31 = try ModelConfig.load(from: try Fixtures.url("configs/llama31_8b/input.json"))
        XCTAssertEqual(llama31.ropeScaling, .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
        XCTAssertEqual(llama31.eosTokenIDs, [128001, 128008, 128009])
        XCTAssertEqual(llama31.kvHeadCount, 8)
        XCTAssertEqual(llama31.headDim, 128)
        XCTAssertEqual(llama31.torchDtype, "bfloat16")
        let qwen = try ModelConfig.load(from: try Fixtures.url("configs/qwen25_05b/input.json"))
        XCTAssertTrue(qwen.qkvBias)
        XCTAssertFalse(qwen.outputBias)
        XCTAssertTrue(qwen.tieWordEmbeddings)
        XCTAssertFalse(qwen.useSlidingWindow)
        XCTAssertEqual(qwen.ropeTheta, 1_000_000)
        let mistral = try ModelConfig.load(from: try Fixtures.url("configs/mistral_7b_v01/input.json"))
        XCTAssertEqual(mistral.slidingWindow, 4096)
        XCTAssertTrue(mistral.useSlidingWindow)
        let linear = try ModelConfig.load(from: try Fixtures.url("configs/llama_linear_rope/input.json"))
        XCTAssertEqual(linear.ropeScaling, .linear(factor: 2))
        XCTAssertEqual(linear.bosTokenID, 1, "LlamaConfig default when absent")
        let smol = try ModelConfig.load(from: try Fixtures.url("configs/smollm2_135m/input.json"))
        XCTAssertEqual(smol.headDim, 64)
        XCTAssertEqual(smol.rmsNormEps, 1e-5)
        XCTAssertEqual(smol.padTokenID, 2)
    }

    /// A config transformers wrote itself (tiny Llama) is reproduced byte for byte.
    func testByteIdenticalWithSavePretrained() throws {
        let original = try Fixtures.data("safetensors/tiny_llama_single/config.json")
        let config = try ModelConfig.decode(original)
        XCTAssertEqual(String(decoding: try config.jsonData(), as: UTF8.self), String(decoding: original, as: UTF8.self))
    }

    func testCodableRoundTrip() throws {
        let config = try ModelConfig.load(from: try Fixtures.url("configs/llama31_8b/input.json"))
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: data), config)
    }

    private func mutated(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        var json = try object(try Fixtures.data("configs/llama3_8b/input.json"))
        edit(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    func testInvalidConfigsAreNamedErrors() throws {
        assertFormatError(try ModelConfig.decode(try mutated { $0["model_type"] = "gpt_neox" }, path: "cfg.json"),
                          contains: ["cfg.json", "unsupported architecture 'gpt_neox'"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["architectures"] = ["LlamaForSequenceClassification"] }, path: "cfg.json"),
                          contains: ["cfg.json", "'LlamaForSequenceClassification'"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["num_key_value_heads"] = 5 }, path: "cfg.json"),
                          contains: ["cfg.json", "num_key_value_heads", "does not divide"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["num_attention_heads"] = 24 }, path: "cfg.json"),
                          contains: ["num_attention_heads", "does not divide hidden_size 4096"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["hidden_size"] = 0 }, path: "cfg.json"),
                          contains: ["hidden_size", "must be positive"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["vocab_size"] = nil }, path: "cfg.json"),
                          contains: ["vocab_size", "missing"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["intermediate_size"] = "big" }, path: "cfg.json"),
                          contains: ["intermediate_size", "expected an integer"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0] }, path: "cfg.json"),
                          contains: ["rope_scaling.rope_type", "'yarn'"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["rope_scaling"] = ["rope_type": "llama3", "factor": 8.0] }, path: "cfg.json"),
                          contains: ["rope_scaling.original_max_position_embeddings", "missing"])
        assertFormatError(try ModelConfig.decode(try mutated { $0["hidden_act"] = "gelu" }, path: "cfg.json"),
                          contains: ["hidden_act", "gelu"])
        assertFormatError(try ModelConfig.decode(Data("{\"model_type\": ".utf8), path: "cfg.json"),
                          contains: ["cfg.json", "not valid JSON", "offset"])
        assertFormatError(try ModelConfig.load(from: URL(fileURLWithPath: "/nonexistent/config.json")),
                          contains: ["/nonexistent/config.json", "not found"])
    }
}
