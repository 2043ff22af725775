// tiny-gemma3 written as GGUF by gguf-py (tools/reference/models_gemma3_gguf.py): Tailor reads the gemma3
// architecture (attn_q_norm/attn_k_norm and the other norms stored as 1 + w, the global RoPE base with its linear
// scaling, llama.cpp's default local base 10000, five sliding layers of six) and computes transformers' logits;
// config.json in the transformers 4.x form (rope_local_base_freq, rope_scaling, sliding_window_pattern) reads as the
// 5.x one.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTestSupport

final class Gemma3GGUFTests: XCTestCase {
    func testGGUFPyFileGivesTransformersLogits() throws {
        let f = try FixtureModel("tiny-gemma3")
        let loaded = try LoadedModel.load(from: f.directory.appendingPathComponent("gguf-py-f32.gguf"))
        let config = loaded.checkpoint.config
        XCTAssertEqual(config.modelType, "gemma3_text")
        XCTAssertEqual(config.localRopeTheta, 10000)
        XCTAssertEqual(config.ropeTheta, 1_000_000)
        XCTAssertEqual(config.ropeScaling, .linear(factor: 2))
        XCTAssertNil(config.attentionLogitSoftCap)
        XCTAssertNil(config.finalLogitSoftCap)
        XCTAssertEqual((0..<6).map { config.slidingWindow(layer: $0) }, [4, 4, 4, 4, 4, nil])
        XCTAssertEqual(config.parameterCount, f.model.configuration.parameterCount)
        let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask")
        let logits = loaded.model.forward(tokens: ids, batch: try f.shape("input_ids")[0],
                                          segments: mask.map { $0 == 1 ? Int32(0) : -1 }, backend: CPUBackend())
        if let failure = closenessFailure(try f.comparable(logits.floats()), try f.comparable(f.floats("logits")), tolerance: 1e-4,
                                          what: "tiny-gemma3 GGUF logits") {
            XCTFail(failure)
        }
    }

    func testTransformers4ConfigReadsAsTheFixture() throws {
        let fixture = try FixtureModel("tiny-gemma3").model.configuration
        XCTAssertEqual(try ModelConfig.decode(fixture.jsonData()), fixture)
        let json = """
        {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 256,
         "query_pre_attn_scalar": 24, "sliding_window": 4, "sliding_window_pattern": 6, "rope_theta": 1000000.0,
         "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0}, "max_position_embeddings": 128,
         "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "torch_dtype": "float32", "hidden_activation": "gelu_pytorch_tanh",
         "final_logit_softcapping": null, "attn_logit_softcapping": null}
        """
        var old = try ModelConfig.decode(Data(json.utf8))
        old.initializerRange = fixture.initializerRange
        XCTAssertEqual(old, fixture)
    }
}
