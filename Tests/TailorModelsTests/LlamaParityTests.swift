// Whole-model parity with transformers on tiny random Llama, Qwen2, llama3-rope, Qwen3, Phi-3 (fused qkv/gate_up, LongRoPE) and Mistral with a 4-token sliding window (fixtures from
// tools/reference/models_forward.py): logits of a right-padded batch, the loss, and the KV-cache path.
import XCTest
import TailorTensor
import TailorKernels
import TailorModels
import TailorTestSupport

final class LlamaParityTests: XCTestCase {
    static let names = ["tiny-llama", "tiny-qwen2", "tiny-llama3-rope", "tiny-qwen3", "tiny-phi3", "tiny-mistral-swa", "tiny-gemma2", "tiny-gemma3"]

    func testLogitsAndLossMatchTransformers() throws {
        for name in Self.names {
            let f = try FixtureModel(name)
            let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask"), labels = try f.ints("labels")
            let batch = try f.shape("input_ids")[0]
            let segments = mask.map { $0 == 1 ? Int32(0) : -1 }
            for backend in [CPUBackend() as any Backend, ReferenceBackend()] {
                let logits = f.model.forward(tokens: ids, batch: batch, segments: segments, backend: backend)
                // f32 everywhere; sums over ≤128 products in a different order than torch: 1e-4 relative,
                // with an absolute floor of 1 logit unit for values near zero.
                if let failure = closenessFailure(try f.comparable(logits.floats()), try f.comparable(f.floats("logits")), tolerance: 1e-4,
                                                  what: "\(name) logits (\(backend.name))") { XCTFail(failure) }
                let (sum, count) = CausalLMLoss.sum(logits: logits, targets: CausalLMLoss.shiftedTargets(labels: labels, batch: batch),
                                                    backend: backend)
                let expected = try f.floats("loss")[0]
                XCTAssertEqual(Float(sum / Double(count)), expected, accuracy: 1e-5 * max(1, expected), "\(name) loss")
            }
        }
    }

    func testBF16InferenceLogits() throws {
        for name in Self.names {
            var f = try FixtureModel(name)
            var weights = f.model.weights
            weights.setMatmulPrecision(.bf16, storeFrozenAsBF16: true)   // what `--compute-dtype bf16` does
            f = f.with(weights: weights)
            let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask"), batch = try f.shape("input_ids")[0]
            let segments = mask.map { $0 == 1 ? Int32(0) : -1 }
            let fast = try f.comparable(f.model.forward(tokens: ids, batch: batch, segments: segments, backend: CPUBackend()).floats())
            let slow = try f.comparable(f.model.forward(tokens: ids, batch: batch, segments: segments, backend: ReferenceBackend()).floats())
            let expected = try f.comparable(f.floats("logits")), scale = expected.map(abs).max() ?? 1
            // Relative to the largest logit. Same bf16 operands on both backends; summation order can flip a later
            // bf16 rounding (see the gradient tests): 1e-2 (4.4e-3 measured). Against transformers' f32 logits: bf16's
            // 8 significant bits compounded through these random tiny models, 5e-2 (2.2e-2 measured; a wrong
            // product is off by order 1).
            if let failure = closenessFailure(fast, slow, tolerance: 1e-2, floor: scale, what: "\(name) bf16 CPU vs reference") {
                XCTFail(failure)
            }
            if let failure = closenessFailure(fast, expected, tolerance: 5e-2, floor: scale, what: "\(name) bf16 vs f32") {
                XCTFail(failure)
            }
        }
    }

    func testKVCacheMatchesTransformersIncrementalDecoding() throws {
        for name in Self.names {
            let f = try FixtureModel(name)
            let ids = try f.ints("input_ids"), t = try f.shape("input_ids")[1]
            let expected = try f.floats("incremental_logits")
            var cache: KVCache? = KVCache(configuration: f.model.configuration, batch: 1, capacity: t)
            var produced: [Float] = []
            for i in 0..<t {
                produced += f.model.forward(tokens: [ids[i]], batch: 1, cache: &cache, backend: CPUBackend()).floats()
            }
            if let failure = closenessFailure(produced, expected, tolerance: 1e-4, what: "\(name) cached logits") {
                XCTFail(failure)
            }
        }
    }
}
