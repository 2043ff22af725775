// Pre-packed bf16 weights and cached oneDNN primitives against the reference backend (odd sizes, views, in-place writes).
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class PackedBF16WeightTests: XCTestCase {
    let reference = ReferenceBackend()

    /// Tolerance: both sides multiply the same bf16 operands and sum in f32; only the summation order differs
    /// (K = 77 terms of size ≤ 1).
    let tolerance: Float = 1e-5

    func testPackedForwardMatchesReferenceOnOddShapes() {
        let w = Tensor.random([301, 77], seed: 21).converted(to: .bf16)
        for rows in [1, 5, 37, 130] {   // 130 rows: split over the workers, uneven chunks
            let x = Tensor.random([rows, 77], seed: UInt64(22 + rows))
            assertClose(BF16Matmul.multiply(x, weight: w, .timesTransposedWeight),
                        reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: tolerance, "\(rows) rows")
        }
        #if canImport(CDNNL)
        if CPUFeatures.hasNativeBF16 {
            // The packed path must really run (a silent fallback would lose the speed), and be made once.
            let first = BF16Matmul.packedTransposed(w), second = BF16Matmul.packedTransposed(w)
            XCTAssertNotNil(first, "oneDNN did not pack a bf16 weight")
            XCTAssertTrue(first === second, "the packed weight was made twice")
        }
        #endif
    }

    func testInPlaceWriteDropsThePackedCopy() {
        var w = Tensor.random([64, 40], seed: 31).converted(to: .bf16)
        let x = Tensor.random([50, 40], seed: 32)
        _ = BF16Matmul.multiply(x, weight: w, .timesTransposedWeight)   // packs the first values
        w.withUnsafeMutableRawBytes { raw in
            let v = raw.bindMemory(to: UInt16.self)
            for i in 0..<v.count where i % 3 == 0 { v[i] = HalfConversion.bf16(from: 0.5) }
        }
        assertClose(BF16Matmul.multiply(x, weight: w, .timesTransposedWeight),
                    reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: tolerance, "after the write")
    }

    func testViewsOfOneStorageArePackedSeparately() {
        // Two [33, 24] weights side by side in one storage (as memory-mapped checkpoints hold them).
        let both = Tensor.random([66, 24], seed: 41).converted(to: .bf16)
        let first = Tensor(shape: [33, 24], dtype: .bf16, storage: both.storage, byteOffset: both.byteOffset)
        let second = Tensor(shape: [33, 24], dtype: .bf16, storage: both.storage, byteOffset: both.byteOffset + 33 * 24 * 2)
        let x = Tensor.random([40, 24], seed: 42)
        for (name, w) in [("first", first), ("second", second), ("first again", first)] {
            assertClose(BF16Matmul.multiply(x, weight: w, .timesTransposedWeight),
                        reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: tolerance, name)
        }
    }

    func testEveryProductKindMatchesReferenceWithCachedPrimitives() {
        // Forward, input gradient and weight gradient twice each: the second round runs on cached primitives.
        let w = Tensor.random([45, 71], seed: 51).converted(to: .bf16)
        let x = Tensor.random([83, 71], seed: 52), dy = Tensor.random([83, 45], seed: 53)
        for round in 0..<2 {
            assertClose(linearForward(x, weight: w, bias: nil, precision: .bf16),
                        reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: tolerance, "forward \(round)")
            var fastGradient: Tensor? = Tensor(zeros: [45, 71]), slowGradient: Tensor? = Tensor(zeros: [45, 71])
            var noBias: Tensor? = nil
            let fast = linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &fastGradient, biasGradient: &noBias,
                                      needInputGradient: true, precision: .bf16)
            let slow = reference.linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &slowGradient,
                                                biasGradient: &noBias, needInputGradient: true, precision: .bf16)
            assertClose(fast ?? Tensor(zeros: [0]), slow ?? Tensor(zeros: [0]), tolerance: tolerance, "dx \(round)")
            // dW sums 83 products.
            assertClose(fastGradient ?? Tensor(zeros: [0]), slowGradient ?? Tensor(zeros: [0]), tolerance: tolerance, "dW \(round)")
        }
        #if canImport(CDNNL)
        // A product too small to split runs on this thread, so its primitive is found again.
        let small = Tensor.random([3, 71], seed: 54)
        _ = linearForward(small, weight: w, bias: nil, precision: .bf16)
        let cached = OneDNN.cachedPrimitiveCount
        _ = linearForward(small, weight: w, bias: nil, precision: .bf16)
        XCTAssertEqual(OneDNN.cachedPrimitiveCount, cached, "a repeated product created a new primitive")
        #endif
    }
}
