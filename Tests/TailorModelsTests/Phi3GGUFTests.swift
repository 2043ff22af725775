// tiny-phi3 written as GGUF by gguf-py (tools/reference/models_phi3_gguf.py): Tailor reads the phi3 architecture
// (attn_qkv, ffn_up holding gate and up, LongRoPE factor tensors and attention factor) and computes transformers'
// logits, the full forward (long factors) and the cached one-token path (short, then long) alike.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTestSupport

final class Phi3GGUFTests: XCTestCase {
    func testGGUFPyFileGivesTransformersLogits() throws {
        let f = try FixtureModel("tiny-phi3")
        let loaded = try LoadedModel.load(from: f.directory.appendingPathComponent("gguf-py-f32.gguf"))
        let config = loaded.checkpoint.config
        XCTAssertEqual(config.modelType, "phi3")
        XCTAssertTrue(config.fusedProjections)
        XCTAssertFalse(config.tieWordEmbeddings)
        XCTAssertEqual(config.parameterCount, f.model.configuration.parameterCount)
        guard case .longRoPE(let short, let long, let original, _, _) = config.ropeScaling,
              case .longRoPE(let wantShort, let wantLong, let wantOriginal, _, _) = f.model.configuration.ropeScaling else {
            return XCTFail("LongRoPE not read back: \(String(describing: config.ropeScaling))")
        }
        XCTAssertEqual(short.map(Float.init), wantShort.map(Float.init))
        XCTAssertEqual(long.map(Float.init), wantLong.map(Float.init))
        XCTAssertEqual(original, wantOriginal)
        // The GGUF stores the attention factor as f32.
        XCTAssertEqual(config.ropeAttentionScaling, f.model.configuration.ropeAttentionScaling, accuracy: 1e-6)

        let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask")
        let logits = loaded.model.forward(tokens: ids, batch: try f.shape("input_ids")[0],
                                          segments: mask.map { $0 == 1 ? Int32(0) : -1 }, backend: CPUBackend())
        // f32 throughout, as in LlamaParityTests: 1e-4 relative with a floor of one logit unit.
        if let failure = closenessFailure(logits.floats(), try f.floats("logits"), tolerance: 1e-4, what: "tiny-phi3 GGUF logits") {
            XCTFail(failure)
        }
        let t = try f.shape("input_ids")[1]
        var cache: KVCache? = KVCache(configuration: config, batch: 1, capacity: t)
        var produced: [Float] = []
        for i in 0..<t { produced += loaded.model.forward(tokens: [ids[i]], batch: 1, cache: &cache, backend: CPUBackend()).floats() }
        if let failure = closenessFailure(produced, try f.floats("incremental_logits"), tolerance: 1e-4, what: "tiny-phi3 GGUF cached logits") {
            XCTFail(failure)
        }
    }

    /// The config.json reader: LongRoPE as transformers 4.x wrote it (`rope_scaling` type `su`, top-level
    /// original_max_position_embeddings) and 5.x (`rope_parameters` longrope), and the attention factor's formula.
    func testLongRoPEConfigForms() throws {
        let factors = (0..<48).map { _ in "1.0" }.joined(separator: ", ")
        let v4 = """
        {"model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "vocab_size": 32064, "hidden_size": 3072,
         "intermediate_size": 8192, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
         "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
         "rope_scaling": {"type": "su", "short_factor": [\(factors)], "long_factor": [\(factors)]},
         "sliding_window": 262144, "tie_word_embeddings": false}
        """
        let config = try ModelConfig.decode(Data(v4.utf8))
        guard case .longRoPE(_, _, let original, nil, nil) = config.ropeScaling else {
            return XCTFail("su not read as LongRoPE: \(String(describing: config.ropeScaling))")
        }
        XCTAssertEqual(original, 4096)
        // Phi-3-mini-128k: sqrt(1 + ln(32) / ln(4096)) = 1.1902380714238083 (transformers' attention_factor).
        XCTAssertEqual(config.ropeAttentionScaling, 1.1902380714238083, accuracy: 1e-12)
        XCTAssertEqual(config.eosTokenIDs, [32000], "Phi3Config's eos default")
        XCTAssertEqual(config.parameterCount, 3_821_079_552, "Phi-3-mini as transformers counts it")
        // The 5.x form written back reads back to the same configuration.
        XCTAssertEqual(try ModelConfig.decode(try config.jsonData()), config)
        let bad = v4.replacingOccurrences(of: "\"long_factor\": [\(factors)]", with: "\"long_factor\": [1.0]")
        XCTAssertThrowsError(try ModelConfig.decode(Data(bad.utf8))) { error in
            XCTAssertTrue("\(error)".contains("long_factor"), "\(error)")
        }
    }
}
