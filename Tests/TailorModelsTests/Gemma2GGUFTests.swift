// tiny-gemma2 written as GGUF by gguf-py (tools/reference/models_gemma2_gguf.py): Tailor reads the gemma2
// architecture (post_attention_norm/ffn_norm/post_ffw_norm, norm weights stored as 1 + w, soft-caps, window, attention
// scale, tied output) and computes transformers' logits, in the full forward and through the KV cache.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTestSupport

final class Gemma2GGUFTests: XCTestCase {
    func testGGUFPyFileGivesTransformersLogits() throws {
        let f = try FixtureModel("tiny-gemma2")
        let loaded = try LoadedModel.load(from: f.directory.appendingPathComponent("gguf-py-f32.gguf"))
        let config = loaded.checkpoint.config
        XCTAssertEqual(config.modelType, "gemma2")
        XCTAssertEqual(config.headDim, 32)
        XCTAssertEqual(config.queryPreAttentionScalar, 24)
        XCTAssertEqual(config.attentionLogitSoftCap, 4)
        XCTAssertEqual(config.finalLogitSoftCap, 3)
        XCTAssertEqual((0..<2).map { config.slidingWindow(layer: $0) }, [4, nil])
        XCTAssertTrue(config.tieWordEmbeddings)
        XCTAssertEqual(config.parameterCount, f.model.configuration.parameterCount)
        // The stored 1 + w comes back as transformers' w (to the f32 rounding of 1 + w).
        let read = try loaded.checkpoint.tensor("model.layers.1.post_feedforward_layernorm.weight").floats()
        let original = try XCTUnwrap(f.model.weights.layers[1].postMLPNorm).floats()
        XCTAssertEqual(read.count, original.count)
        for (a, b) in zip(read, original) { XCTAssertEqual(a, b, accuracy: 1.2e-7) }
        let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask")
        let logits = loaded.model.forward(tokens: ids, batch: try f.shape("input_ids")[0],
                                          segments: mask.map { $0 == 1 ? Int32(0) : -1 }, backend: CPUBackend())
        // f32 throughout, as in LlamaParityTests: 1e-4 relative with a floor of one logit unit.
        if let failure = closenessFailure(try f.comparable(logits.floats()), try f.comparable(f.floats("logits")), tolerance: 1e-4,
                                          what: "tiny-gemma2 GGUF logits") {
            XCTFail(failure)
        }
        var cache: KVCache? = KVCache(configuration: config, batch: 1, capacity: ids.count)
        var produced: [Float] = []
        for i in 0..<(try f.shape("input_ids")[1]) {
            produced += loaded.model.forward(tokens: [ids[i]], batch: 1, cache: &cache, backend: CPUBackend()).floats()
        }
        if let failure = closenessFailure(produced, try f.floats("incremental_logits"), tolerance: 1e-4, what: "tiny-gemma2 GGUF cached logits") {
            XCTFail(failure)
        }
    }

    /// llama.cpp's gemma2 writes no attention scale: without the key Tailor takes llama.cpp's rule (head_dim, or
    /// hidden / heads for the 46-layer 27B), the caps default to 50 and 30 and the window to 4096.
    func testGemma2ConfigJSONDefaultsAndRoundTrip() throws {
        let json = """
        {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 2304, "intermediate_size": 9216,
         "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 256000,
         "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh", "cache_implementation": "hybrid"}
        """
        let config = try ModelConfig.decode(Data(json.utf8))
        XCTAssertEqual(config.queryPreAttentionScalar, 256)
        XCTAssertEqual(config.attentionLogitSoftCap, 50)
        XCTAssertEqual(config.finalLogitSoftCap, 30)
        XCTAssertEqual(config.slidingWindow(layer: 0), 4096)
        XCTAssertNil(config.slidingWindow(layer: 1))
        XCTAssertTrue(config.tieWordEmbeddings)
        XCTAssertEqual([config.bosTokenID, config.padTokenID], [2, 0])
        XCTAssertEqual(config.eosTokenIDs, [1])
        XCTAssertEqual(config.parameterCount, 2_614_341_888)
        XCTAssertEqual(try ModelConfig.decode(config.jsonData()), config)
        let fixture = try FixtureModel("tiny-gemma2").model.configuration
        XCTAssertEqual(try ModelConfig.decode(fixture.jsonData()), fixture)
        XCTAssertThrowsError(try ModelConfig.decode(Data(json.replacingOccurrences(of: "\"hidden_activation\": \"gelu_pytorch_tanh\"",
                                                                                  with: "\"hidden_activation\": \"relu\"").utf8)))
        XCTAssertThrowsError(try ModelConfig.decode(Data(json.replacingOccurrences(of: "\"head_dim\": 256",
                                                                                  with: "\"head_dim\": 256, \"final_logit_softcapping\": -1").utf8)))
    }
}
