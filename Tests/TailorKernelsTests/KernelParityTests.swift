// Every fast CPU kernel against the naive reference backend on random inputs.
import Foundation
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class KernelParityTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    func testLinearMatchesReferenceForEveryWeightDType() {
        let x = Tensor.random([7, 33], seed: 1), w = Tensor.random([1030, 33], seed: 2), b = Tensor.random([1030], seed: 3)
        for dtype in [DType.f32, .bf16, .f16] {
            let stored = w.converted(to: dtype)
            // f32 sums of 33 products: a few ulps of the largest term.
            assertClose(cpu.linear(x, weight: stored, bias: b), reference.linear(x, weight: stored, bias: b),
                        tolerance: 1e-5, "linear \(dtype)")
        }
        assertClose(cpu.linear(x, weight: w, bias: nil), reference.linear(x, weight: w, bias: nil), tolerance: 1e-5, "linear no bias")
    }

    func testEmbeddingRMSNormSwiGLUAdd() {
        let table = Tensor.random([50, 16], seed: 4)
        let ids: [Int32] = [3, 0, 49, 3, 17]
        assertClose(cpu.embedding(ids: ids, table: table.converted(to: .bf16)),
                    reference.embedding(ids: ids, table: table.converted(to: .bf16)), tolerance: 0, "embedding bf16")
        let x = Tensor.random([300, 64], seed: 5, scale: 3), w = Tensor.random([64], seed: 6)
        let fast = cpu.rmsNorm(x, weight: w, eps: 1e-5), slow = reference.rmsNorm(x, weight: w, eps: 1e-5)
        assertClose(fast.output, slow.output, tolerance: 1e-5, "rmsnorm")
        assertClose(fast.inverseRMS, slow.inverseRMS, tolerance: 1e-6, "rmsnorm rstd")
        let g = Tensor.random([300, 96], seed: 7, scale: 6), u = Tensor.random([300, 96], seed: 8)
        assertClose(cpu.swiglu(gate: g, up: u), reference.swiglu(gate: g, up: u), tolerance: 1e-6, "swiglu")
        assertClose(cpu.add(g, u), reference.add(g, u), tolerance: 0, "add")
        assertClose(cpu.addScaled(g, u, scale: 0.37), reference.addScaled(g, u, scale: 0.37), tolerance: 0, "add scaled")
    }

    func testRotary() {
        let inv: [Float] = (0..<8).map { 1 / Float(pow(10000.0, Double(2 * $0) / 16)) }
        let positions: [Int32] = [0, 1, 2, 7, 100, 5]
        let angles = cpu.rotaryAngles(positions: positions, inverseFrequencies: inv)
        let x = Tensor.random([6, 3 * 16], seed: 9)
        assertClose(cpu.applyRotary(x, heads: 3, angles: angles), reference.applyRotary(x, heads: 3, angles: angles),
                    tolerance: 1e-6, "rope")
        // Position 0 leaves the vector unchanged.
        XCTAssertEqual(Array(cpu.applyRotary(x, heads: 3, angles: angles).floats()[0..<48]), Array(x.floats()[0..<48]))
    }

    /// The RoPE kernel on every body, head sizes with and without vector tails, forward and backward, in place (the
    /// only reference handed over) and into a fresh tensor (a shared input, which must stay unchanged).
    func testRotaryKernelInPlaceAndShared() {
        let positions: [Int32] = [3, 0, 17, 1000, 2, 9, 64]
        forEachKernelBody { kernel in
            for half in [1, 3, 4, 8, 19, 32] {
                let inv: [Float] = (0..<half).map { 1 / Float(pow(10000.0, Double(2 * $0) / Double(2 * half))) }
                let angles = cpu.rotaryAngles(positions: positions, inverseFrequencies: inv)
                let x = Tensor.random([positions.count, 3 * 2 * half], seed: UInt64(half))
                let before = x.floats()
                let forward = reference.applyRotary(x, heads: 3, angles: angles)
                let backward = reference.applyRotaryBackward(x, heads: 3, angles: angles)
                assertClose(cpu.applyRotary(x, heads: 3, angles: angles), forward, tolerance: 1e-6, "\(kernel) rope \(half)")
                assertClose(cpu.applyRotaryBackward(x, heads: 3, angles: angles), backward, tolerance: 1e-6,
                            "\(kernel) rope backward \(half)")
                XCTAssertEqual(x.floats(), before, "\(kernel): a shared input is not rotated")
                var owned = Tensor(shape: x.shape, values: before)
                let bytes = owned.storage.pointer
                owned = cpu.applyRotary(consume owned, heads: 3, angles: angles)
                assertClose(owned, forward, tolerance: 1e-6, "\(kernel) rope in place \(half)")
                XCTAssertEqual(owned.storage.pointer, bytes, "\(kernel): the only reference is rotated in place")
                // Backward undoes forward: the rotation is orthogonal.
                owned = cpu.applyRotaryBackward(consume owned, heads: 3, angles: angles)
                assertClose(owned, x, tolerance: 1e-5, "\(kernel) rope round trip \(half)")
            }
        }
    }

    func testAttentionCausalGQAWithSegmentsAndCacheOffsets() {
        // batch 2, 4 query heads sharing 2 kv heads; keys stored with spare capacity; queries start at offset 3.
        let shape = AttentionShape(batch: 2, queryLength: 5, keyLength: 8, keyCapacity: 10, heads: 4, kvHeads: 2,
                                   headDim: 8, queryOffset: 3)
        let q = Tensor.random([2 * 5, 4 * 8], seed: 10), k = Tensor.random([2 * 10, 2 * 8], seed: 11)
        let v = Tensor.random([2 * 10, 2 * 8], seed: 12)
        var segments = [Int32](repeating: 0, count: 20)
        segments[1] = -1                       // a padding key in row 0
        for j in 4..<10 { segments[10 + j] = 1 } // two packed samples in row 1
        for segs in [nil, segments] as [KeySegments?] {
            let fast = cpu.attention(query: q, key: k, value: v, shape: shape, segments: segs, keepLogSumExp: true)
            let slow = reference.attention(query: q, key: k, value: v, shape: shape, segments: segs, keepLogSumExp: true)
            assertClose(fast.output, slow.output, tolerance: 1e-5, "attention output")
            if let fl = fast.logSumExp, let sl = slow.logSumExp { assertClose(fl, sl, tolerance: 1e-5, "attention log-sum-exp") }
            else { XCTFail("log-sum-exp missing") }
        }
    }

    func testAttentionHidesFutureKeys() {
        // Changing a key after the query's position must not change that query's output.
        let shape = AttentionShape(batch: 1, queryLength: 4, keyLength: 4, heads: 2, kvHeads: 1, headDim: 4)
        let q = Tensor.random([4, 8], seed: 13), v = Tensor.random([4, 4], seed: 15)
        var k = Tensor.random([4, 4], seed: 14)
        let before = cpu.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: false).output.floats()
        k.withUnsafeMutableFloats { $0[12] += 5 }   // key 3
        let after = cpu.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: false).output.floats()
        XCTAssertEqual(Array(before[0..<24]), Array(after[0..<24]), "queries 0-2 must not see key 3")
        XCTAssertNotEqual(Array(before[24..<32]), Array(after[24..<32]), "query 3 sees key 3")
    }

    func testAttentionSlidingWindowHidesOldKeys() {
        // Window 3 with a cache offset of 2 (queries at key indices 2…6 of 7): query p sees keys p-2…p only, in the
        // fast and the reference kernel alike; changing key 1 changes queries at 2 and 3 only.
        let shape = AttentionShape(batch: 1, queryLength: 5, keyLength: 7, keyCapacity: 9, heads: 2, kvHeads: 1, headDim: 4,
                                   queryOffset: 2, slidingWindow: 3)
        let q = Tensor.random([5, 8], seed: 23), v = Tensor.random([9, 4], seed: 25)
        var k = Tensor.random([9, 4], seed: 24)
        let fast = cpu.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: true)
        let slow = reference.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: true)
        assertClose(fast.output, slow.output, tolerance: 1e-5, "sliding-window attention")
        if let fl = fast.logSumExp, let sl = slow.logSumExp { assertClose(fl, sl, tolerance: 1e-5, "sliding-window log-sum-exp") }
        else { XCTFail("log-sum-exp missing") }
        // Each query sees exactly its window: changing one key moves exactly the queries whose window holds it.
        for j in 0..<7 {
            var changed = k
            changed.withUnsafeMutableFloats { for e in 0..<4 { $0[j * 4 + e] += 3 } }
            let moved = cpu.attention(query: q, key: changed, value: v, shape: shape, segments: nil, keepLogSumExp: false).output.floats()
            let base = fast.output.floats()
            for head in 0..<2 {
                for i in 0..<5 {
                    let visible = j <= i + 2 && i + 2 - j < 3
                    let row = (i * 2 + head) * 4
                    XCTAssertEqual(Array(moved[row..<(row + 4)]) != Array(base[row..<(row + 4)]), visible, "head \(head) query \(i + 2) key \(j)")
                }
            }
        }
        k.withUnsafeMutableFloats { $0[4] += 5 }   // key 1
        let after = cpu.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: false).output.floats()
        let before = fast.output.floats()
        XCTAssertNotEqual(Array(before[0..<16]), Array(after[0..<16]), "queries at 2 and 3 see key 1")
        XCTAssertEqual(Array(before[16..<40]), Array(after[16..<40]), "queries at 4…6 do not")
    }

    func testCrossEntropyIgnoresMinus100() {
        let logits = Tensor.random([6, 300], seed: 16, scale: 8)
        let targets: [Int32] = [5, -100, 299, 0, -100, 150]
        let fast = cpu.crossEntropy(logits: logits, targets: targets)
        assertClose(fast, reference.crossEntropy(logits: logits, targets: targets), tolerance: 1e-6, "cross entropy")
        XCTAssertEqual(fast.floats()[1], 0)
        XCTAssertEqual(fast.floats()[4], 0)
    }

    /// The vector kernel (each body this CPU has, and the portable one) against the reference's separate passes: rows
    /// of several 256-value blocks and of a ragged last block and vector, logits far below the maximum (exp clamped),
    /// -100 targets and a zero loss weight.
    func testFusedCrossEntropyMatchesForwardAndBackward() {
        for cap in [StreamingKernelBody.avx512, .scalar] {
            withStreamingKernels(cappedAt: cap) {
                for width in [3000, 257, 7] {
                    var logits = Tensor.random([6, width], seed: 17, scale: 8)
                    logits.withUnsafeMutableFloats { $0[width + 1] = -200 }   // e^(x - max) below e^-87
                    let targets: [Int32] = [5, -100, Int32(width - 1), 0, -100, Int32(width / 2)]
                    let dLoss: [Float] = [0.5, 0.5, 0.25, 1, 0.5, 0]
                    let (losses, dLogits) = cpu.crossEntropyWithGradient(logits: logits, targets: targets, dLoss: dLoss)
                    let what = "width \(width), body cap \(cap)"
                    assertClose(losses, reference.crossEntropy(logits: logits, targets: targets), tolerance: 1e-6, "fused loss, \(what)")
                    assertClose(dLogits, reference.crossEntropyBackward(logits: logits, targets: targets, dLoss: dLoss),
                                tolerance: 1e-6, "fused gradient, \(what)")
                    XCTAssertEqual(logits.floats()[0], Tensor.random([6, width], seed: 17, scale: 8).floats()[0],
                                   "a caller's copy of the logits is not overwritten")
                }
                // A NaN logit makes its row's loss NaN (training stops on it), not a finite number.
                var poisoned = Tensor.random([2, 300], seed: 18)
                poisoned.withUnsafeMutableFloats { $0[7] = .nan }
                let losses = cpu.crossEntropyWithGradient(logits: poisoned, targets: [3, 3], dLoss: [1, 1]).losses.floats()
                XCTAssertTrue(losses[0].isNaN, "body cap \(cap): \(losses)")
                XCTAssertTrue(losses[1].isFinite, "body cap \(cap): \(losses)")
            }
        }
    }

    func testFastExpWithinThreeTenMillionths() {
        var x: Float = -87
        while x <= 0 {
            let want = Foundation.exp(x), got = fastExp(x)
            XCTAssertLessThanOrEqual(abs(got - want), 3e-7 * want, "exp(\(x))")
            x += 0.0137
        }
        XCTAssertEqual(fastExp(0), 1)
        XCTAssertEqual(fastExp(-.infinity), 0, accuracy: 1e-37)
    }
}
