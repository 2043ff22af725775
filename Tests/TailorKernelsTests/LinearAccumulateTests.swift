// `addingLinear`: a LoRA update accumulated into its base output equals base + scale·(x·Wᵀ) of the reference backend.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class LinearAccumulateTests: XCTestCase {
    func testAccumulatedProductMatchesReferenceOnOddShapes() {
        for (i, (m, k, n)) in [(1, 1, 1), (3, 5, 7), (17, 16, 33), (130, 8, 65), (64, 16, 1536)].enumerated() {
            let seed = UInt64(10 * i)
            let y = Tensor.random([m, n], seed: seed), x = Tensor.random([m, k], seed: seed + 1), w = Tensor.random([n, k], seed: seed + 2)
            let expected = ReferenceBackend().addingLinear(y, x, weight: w, scale: 0.37)
            let got = CPUBackend().addingLinear(y, x, weight: w, scale: 0.37)
            XCTAssertEqual(got.shape, [m, n])
            // f32 sums in another order than the reference's f64 dot products.
            XCTAssertLessThan(maxRelativeError(got.floats(), expected.floats()).error, 1e-5, "\(m)×\(k)×\(n)")
        }
    }

    func testSharedBaseIsNotWrittenAndBF16WeightsFallBack() {
        let y = Tensor.random([4, 6], seed: 1), x = Tensor.random([4, 3], seed: 2), w = Tensor.random([6, 3], seed: 3)
        let before = y.floats()
        let sum = CPUBackend().addingLinear(y, x, weight: w, scale: 2)   // y is still referenced here: copied, not written
        XCTAssertEqual(y.floats(), before)
        XCTAssertNotEqual(sum.floats(), before)
        let bf16 = w.converted(to: .bf16)
        let viaBF16 = CPUBackend().addingLinear(y, x, weight: bf16, scale: 2)
        let reference = ReferenceBackend().addingLinear(y, x, weight: bf16.converted(to: .f32), scale: 2)
        XCTAssertLessThan(maxRelativeError(viaBF16.floats(), reference.floats()).error, 1e-5)
    }
}
