// Inference with int8 (q8_0) weights: logits against transformers' f32 ones, and the KV-cache path (one row per
// product, the streaming kernels) against the same model's full forward.
import XCTest
import TailorFormats
import TailorTensor
import TailorTestSupport
@testable import TailorKernels
@testable import TailorModels

final class InferencePrecisionTests: XCTestCase {
    func testInt8InferenceLogits() throws {
        for name in LlamaParityTests.names {
            var f = try FixtureModel(name)
            var weights = f.model.weights
            weights.storeLinearLayersAsInt8()   // what `--compute-dtype int8` does
            var int8Layers = 0
            weights.updateEachLinear { if $0.packed is Int8BlockMatrix { int8Layers += 1 } }
            XCTAssertEqual(int8Layers, weights.layers.reduce(0) { $0 + $1.presentLinears.count },
                           "\(name): every layer's width is a multiple of 32")
            XCTAssertTrue(weights.outputPacked is Int8BlockMatrix, "\(name): the head is int8")
            if weights.lmHead == nil {
                XCTAssertEqual(weights.embedding.shape[0], 0, "\(name): a tied embedding is looked up in the int8 head")
            }
            f = f.with(weights: weights)
            let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask"), batch = try f.shape("input_ids")[0]
            let segments = mask.map { $0 == 1 ? Int32(0) : -1 }
            let logits = try f.comparable(f.model.forward(tokens: ids, batch: batch, segments: segments, backend: CPUBackend()).floats())
            let expected = try f.comparable(f.floats("logits")), scale = expected.map(abs).max() ?? 1
            // q8_0 rounds weights and inputs to 1/127 of each block's largest value, coarser than bf16 (bound 5e-2
            // here, 2.2e-2 measured) for these random tiny models' small values: 0.15 (7.0e-2 measured); a wrong
            // product (scale, row, block) is off by order 1.
            if let failure = closenessFailure(logits, expected, tolerance: 0.15, floor: scale, what: "\(name) int8 vs f32") {
                XCTFail(failure)
            }
            // Token by token through the KV cache: the same products one row at a time.
            let t = try f.shape("input_ids")[1], row = Array(ids.prefix(t))
            let full = f.model.forward(tokens: row, batch: 1, backend: CPUBackend()).floats()
            var cache: KVCache? = KVCache(configuration: f.model.configuration, batch: 1, capacity: t)
            var produced: [Float] = []
            for i in 0..<t { produced += f.model.forward(tokens: [row[i]], batch: 1, cache: &cache, backend: CPUBackend()).floats() }
            if case .longRoPE = f.model.configuration.ropeScaling {
                // LongRoPE's early one-token steps use the short factors (by design, as transformers): compare with
                // transformers' cached logits at the int8 tolerance instead.
                if let failure = closenessFailure(produced, try f.floats("incremental_logits"), tolerance: 0.15, floor: scale,
                                                  what: "\(name) int8 cached vs f32 cached") { XCTFail(failure) }
            } else if let failure = closenessFailure(produced, full, tolerance: 5e-2, floor: scale, what: "\(name) int8 cached") {
                // One-row attention (the decode kernel) sums in another order than the full forward's blocked kernel,
                // and an input that then lands on the other side of a q8_0 rounding step moves its products by 1/127
                // of its block's largest value: measured 1.9e-2 (tiny-llama3-rope) and 7.3e-3 (tiny-qwen3), 3e-7
                // for the other models; a wrong streaming product is off by order 1.
                XCTFail(failure)
            }
        }
    }

    /// q/k/v and gate/up run their base products together (`Backend.linears`: one job for the cores when decode
    /// streams the weights); each output equals its layer's own forward, adapter included, in every precision.
    func testLayersSharingAnInputRunTogetherAsEachAlone() throws {
        let f = try FixtureModel("tiny-llama"), cpu = CPUBackend()
        for precision in InferencePrecision.allCases {
            var weights = f.model.weights
            switch precision {
            case .f32: break
            case .bf16: weights.setMatmulPrecision(.bf16, storeFrozenAsBF16: true)
            case .int8: weights.storeLinearLayersAsInt8()
            }
            let layer = weights.layers[0]
            var k = try XCTUnwrap(layer.kProj)
            k.lora = LoRAAdapter(a: Tensor.random([4, k.inFeatures], seed: 1), b: Tensor.random([k.outFeatures, 4], seed: 2), scaling: 2)
            for (group, width) in [([try XCTUnwrap(layer.qProj), k, try XCTUnwrap(layer.vProj)], k.inFeatures),
                                   ([try XCTUnwrap(layer.gateProj), try XCTUnwrap(layer.upProj)], k.inFeatures)] {
                for rows in [1, 3, 40] {
                    let x = Tensor.random([rows, width], seed: UInt64(rows))
                    let together = Linear.forward(group, x, backend: cpu)
                    XCTAssertEqual(together.count, group.count)
                    for (linear, y) in zip(group, together) {
                        XCTAssertEqual(y.floats(), linear.forward(x, backend: cpu).floats(), "\(precision), \(rows) rows")
                    }
                }
            }
        }
    }

    /// bf16 inference keeps an f16 KV cache (half the bytes); one-token steps through it stay within f16 rounding
    /// of the same steps through an f32 cache.
    func testBF16InferenceKeepsAnF16Cache() throws {
        for name in ["tiny-llama", "tiny-qwen3", "tiny-gemma2"] {
            var f = try FixtureModel(name)
            var weights = f.model.weights
            weights.setMatmulPrecision(.bf16, storeFrozenAsBF16: true)   // what `--compute-dtype bf16` does
            f = f.with(weights: weights)
            XCTAssertEqual(f.model.kvCacheDType, .f16)
            let t = try f.shape("input_ids")[1], row = Array(try f.ints("input_ids").prefix(t))
            func decoded(_ dtype: DType) -> [Float] {
                var cache: KVCache? = KVCache(configuration: f.model.configuration, batch: 1, capacity: t, dtype: dtype)
                return (0..<t).flatMap { f.model.forward(tokens: [row[$0]], batch: 1, cache: &cache, backend: CPUBackend()).floats() }
            }
            let half = f.model.emptyCache(batch: 1, capacity: t), full = KVCache(configuration: f.model.configuration, batch: 1, capacity: t)
            XCTAssertEqual(2 * half.byteCount, full.byteCount, "\(name): an f16 cache holds half the bytes")
            let expected = decoded(.f32), scale = expected.map(abs).max() ?? 1
            // Keys and values rounded to 11 significant bits (relative 2^-12), then carried through the layers'
            // bf16-rounded product inputs, where a flipped rounding moves a product by 2^-9: measured 5.8e-3 to 8.4e-3
            // of the largest logit on these random tiny models (a bf16 cache: 9.5e-3 to 1.2e-2); a cache that
            // returned wrong rows or positions is off by order 1.
            if let failure = closenessFailure(decoded(.f16), expected, tolerance: 3e-2, floor: scale, what: "\(name) f16 cache") {
                XCTFail(failure)
            }
        }
        XCTAssertEqual(try FixtureModel("tiny-llama").model.kvCacheDType, .f32, "f32 inference keeps an f32 cache")
    }
}
