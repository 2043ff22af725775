// RMSNorm's vector kernels (CTailorKernels/NormalizationBody.h) against the reference backend on every body the CPU
// has: the residual add fused in front of the forward, the residual's gradient fused into the backward, the weight
// gradient split over columns, on sizes with and without vector tails.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class RMSNormKernelTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    /// (rows, columns): one row (decode), odd widths below, at and past a vector, a head width, SmolLM2's width + 1.
    let shapes = [(1, 576), (3, 1), (5, 7), (4, 13), (2, 16), (300, 64), (7, 577), (1024, 24)]

    func testAddAndNormMatchTheReferenceOnEveryBody() {
        forEachKernelBody { kernel in
            for (m, c) in shapes {
                let a = Tensor.random([m, c], seed: UInt64(m * 100 + c), scale: 3), b = Tensor.random([m, c], seed: 5)
                let w = Tensor.random([c], seed: 6)
                let fast = cpu.addRMSNorm(a, b, weight: w, eps: 1e-5), slow = reference.addRMSNorm(a, b, weight: w, eps: 1e-5)
                // The sum is one f32 addition per value on both sides: exact.
                assertClose(fast.sum, slow.sum, tolerance: 0, "\(kernel) sum \(m)×\(c)")
                assertClose(fast.normalized.output, slow.normalized.output, tolerance: 2e-6, "\(kernel) add+norm \(m)×\(c)")
                assertClose(fast.normalized.inverseRMS, slow.normalized.inverseRMS, tolerance: 2e-6, "\(kernel) rstd \(m)×\(c)")
                let plain = cpu.rmsNorm(a, weight: w, eps: 1e-5), plainSlow = reference.rmsNorm(a, weight: w, eps: 1e-5)
                assertClose(plain.output, plainSlow.output, tolerance: 2e-6, "\(kernel) norm \(m)×\(c)")
            }
        }
    }

    func testBackwardWithTheResidualGradientMatchesTheReferenceOnEveryBody() {
        forEachKernelBody { kernel in
            for (m, c) in shapes {
                let x = Tensor.random([m, c], seed: UInt64(m * 100 + c), scale: 2), w = Tensor.random([c], seed: 7)
                let dy = Tensor.random([m, c], seed: 8), residual = Tensor.random([m, c], seed: 9)
                let rstd = cpu.rmsNorm(x, weight: w, eps: 1e-6).inverseRMS
                for addend in [nil, residual] as [Tensor?] {
                    // The weight gradient accumulates into what is there.
                    let start = Tensor.random([c], seed: 10)
                    var dwFast: Tensor? = start, dwSlow: Tensor? = start
                    let fast = cpu.rmsNormBackward(dOutput: dy, input: x, weight: w, inverseRMS: rstd, adding: addend,
                                                   weightGradient: &dwFast)
                    let slow = reference.rmsNormBackward(dOutput: dy, input: x, weight: w, inverseRMS: rstd, adding: addend,
                                                         weightGradient: &dwSlow)
                    let what = "\(kernel) \(m)×\(c)\(addend == nil ? "" : " + residual")"
                    assertClose(fast, slow, tolerance: 1e-5, "dx \(what)")
                    // f32 sums over up to 1,024 rows against f64 ones.
                    assertClose(dwFast ?? start, dwSlow ?? start, tolerance: 1e-4, "dw \(what)")
                }
                var none: Tensor? = nil
                _ = cpu.rmsNormBackward(dOutput: dy, input: x, weight: w, inverseRMS: rstd, adding: nil, weightGradient: &none)
                XCTAssertNil(none, "no weight gradient asked, none made")
            }
        }
    }
}
