// tiny-qwen3 written as GGUF by gguf-py (tools/reference/models_qwen3_gguf.py): Tailor reads the qwen3
// architecture (attn_q_norm/attn_k_norm, no q/k permutation, tied output) and computes transformers' logits.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTestSupport

final class Qwen3GGUFTests: XCTestCase {
    func testGGUFPyFileGivesTransformersLogits() throws {
        let f = try FixtureModel("tiny-qwen3")
        let loaded = try LoadedModel.load(from: f.directory.appendingPathComponent("gguf-py-f32.gguf"))
        XCTAssertEqual(loaded.checkpoint.config.modelType, "qwen3")
        XCTAssertEqual(loaded.checkpoint.config.headDim, 32)
        XCTAssertTrue(loaded.checkpoint.config.tieWordEmbeddings)
        XCTAssertEqual(loaded.checkpoint.config.parameterCount, f.model.configuration.parameterCount)
        let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask")
        let logits = loaded.model.forward(tokens: ids, batch: try f.shape("input_ids")[0],
                                          segments: mask.map { $0 == 1 ? Int32(0) : -1 }, backend: CPUBackend())
        // f32 throughout, as in LlamaParityTests: 1e-4 relative with a floor of one logit unit.
        if let failure = closenessFailure(logits.floats(), try f.floats("logits"), tolerance: 1e-4, what: "tiny-qwen3 GGUF logits") {
            XCTFail(failure)
        }
    }
}
