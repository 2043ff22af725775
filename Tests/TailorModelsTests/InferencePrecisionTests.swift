// Inference with int8 (q8_0) weights: logits against transformers' f32 ones, and the KV-cache path (one row per
// product, the streaming kernels) against the same model's full forward. Joined projections (q/k/v and gate/up as
// one product each) against the same weights kept apart, in bf16 and int8.
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

    /// The weights `storeForInference` makes for `precision`, with or without joined projections.
    static func inferenceWeights(_ weights: LlamaWeights, _ precision: InferencePrecision, joined: Bool) -> LlamaWeights {
        var w = weights
        switch precision {
        case .f32: break
        case .bf16:
            if joined { w.joinProjectionsForInference(storedAs: .bf16) }
            w.setMatmulPrecision(.bf16, storeFrozenAsBF16: true)
        case .int8:
            w.storeLinearLayersAsInt8()
            if joined { w.joinProjectionsForInference() }
        }
        return w
    }

    func testJoinedProjectionsGiveTheSameLogits() throws {
        for name in LlamaParityTests.names {
            let f = try FixtureModel(name)
            let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask"), batch = try f.shape("input_ids")[0]
            let segments = mask.map { $0 == 1 ? Int32(0) : -1 }
            let t = try f.shape("input_ids")[1], row = Array(ids.prefix(t))
            for precision in [InferencePrecision.bf16, .int8] {
                let apart = f.with(weights: Self.inferenceWeights(f.model.weights, precision, joined: false))
                let joined = f.with(weights: Self.inferenceWeights(f.model.weights, precision, joined: true))
                for (l, layer) in joined.model.weights.layers.enumerated() {
                    XCTAssertNotNil(layer.qkvProj, "\(name) \(precision) layer \(l): q/k/v joined")
                    XCTAssertNotNil(layer.gateUpProj, "\(name) \(precision) layer \(l): gate/up joined")
                    XCTAssertNil(layer.qProj ?? layer.kProj ?? layer.vProj ?? layer.gateProj ?? layer.upProj)
                }
                let what = "\(name) \(precision)"
                let expected = apart.model.forward(tokens: ids, batch: batch, segments: segments, backend: CPUBackend()).floats()
                let scale = expected.map(abs).max() ?? 1
                // Each output column is the same sum of the same products; only a prefill product's blocking over
                // the wider joined weight may order it differently.
                if let failure = closenessFailure(joined.model.forward(tokens: ids, batch: batch, segments: segments, backend: CPUBackend()).floats(),
                                                  expected, tolerance: 1e-5, floor: scale, what: "\(what) prefill") { XCTFail(failure) }
                func decoded(_ m: FixtureModel) -> [Float] {
                    var cache: KVCache? = KVCache(configuration: m.model.configuration, batch: 1, capacity: t)
                    return (0..<t).flatMap { m.model.forward(tokens: [row[$0]], batch: 1, cache: &cache, backend: CPUBackend()).floats() }
                }
                XCTAssertEqual(decoded(joined), decoded(apart), "\(what): one-row products are the same sums, bit for bit")
            }
        }
    }

    /// Layers with an adapter, or whose storage differs, are left apart; the others are still joined.
    func testJoiningLeavesAdaptedLayersApart() throws {
        let f = try FixtureModel(LlamaParityTests.names[0])
        var weights = f.model.weights
        let k = weights.layers[0].qProj?.inFeatures ?? 0, n = weights.layers[0].qProj?.outFeatures ?? 0
        weights.layers[0].qProj?.lora = LoRAAdapter(a: Tensor.random([2, k], seed: 1), b: Tensor.random([n, 2], seed: 2), scaling: 2)
        if weights.layers.count > 1, let up = weights.layers[1].upProj { weights.layers[1].upProj?.weight = up.weight.converted(to: .bf16) }
        weights.joinProjectionsForInference()
        XCTAssertNil(weights.layers[0].qkvProj, "an adapted q_proj keeps q/k/v apart")
        XCTAssertNotNil(weights.layers[0].qProj?.lora)
        XCTAssertNotNil(weights.layers[0].gateUpProj, "the block's gate/up are still joined")
        if weights.layers.count > 1 {
            XCTAssertNil(weights.layers[1].gateUpProj, "gate in f32 and up in bf16 stay apart")
            XCTAssertNotNil(weights.layers[1].qkvProj)
        }
    }

    func testStackedInt8MatrixHoldsThePartsRows() throws {
        let a = try Int8BlockMatrix(quantizing: Tensor.random([5, 64], seed: 3)), b = try Int8BlockMatrix(quantizing: Tensor.random([3, 64], seed: 4))
        guard let stacked = Int8BlockMatrix(stacking: [a, b]) else { return XCTFail("same widths stack") }
        XCTAssertEqual(stacked.shape, [8, 64])
        func rows(_ m: Int8BlockMatrix, _ r: Range<Int>) -> [Float] {
            var out = [Float](repeating: .nan, count: r.count * 64)
            out.withUnsafeMutableBufferPointer { m.dequantizeRows(r, into: $0.baseAddress!) }
            return out
        }
        XCTAssertEqual(rows(stacked, 0..<8), rows(a, 0..<5) + rows(b, 0..<3))
        XCTAssertNil(Int8BlockMatrix(stacking: [a, try Int8BlockMatrix(quantizing: Tensor.random([2, 32], seed: 5))]), "widths differ")
        XCTAssertNil(Int8BlockMatrix(stacking: []))
    }
}
