// bf16 products (oneDNN on Linux) against the reference backend's definition: operands rounded to bf16, exact sums.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class BF16MatmulTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        if let failure = closenessFailure(actual.floats(), expected.floats(), tolerance: tolerance, what: what) {
            XCTFail(failure, file: file, line: line)
        }
    }

    func testForwardMatchesRoundedOperandsForEveryWeightDType() {
        // Odd sizes and a row count above the kernels' blocking, so edge tiles are exercised.
        let x = Tensor.random([37, 200], seed: 1), w = Tensor.random([300, 200], seed: 2), b = Tensor.random([300], seed: 3)
        for dtype in [DType.bf16, .f32] {
            let stored = w.converted(to: dtype)
            // Both sides multiply the same bf16 operands; only the f32 summation order differs (200 terms).
            assertClose(cpu.linear(x, weight: stored, bias: b, precision: .bf16),
                        reference.linear(x, weight: stored, bias: b, precision: .bf16), tolerance: 1e-5, "bf16 linear \(dtype)")
        }
    }

    func testBF16DiffersFromF32ByRoundingOnly() {
        // The rounding is real: bf16 keeps 8 significant bits, so products move by about 2⁻⁸ relative, not 0.
        let x = Tensor.random([16, 128], seed: 4), w = Tensor.random([64, 128], seed: 5)
        let f32 = cpu.linear(x, weight: w, bias: nil).floats(), bf16 = cpu.linear(x, weight: w, bias: nil, precision: .bf16).floats()
        let worst = zip(f32, bf16).map { abs($0 - $1) }.max() ?? 0, scale = f32.map(abs).max() ?? 1
        XCTAssertGreaterThan(worst / scale, 1e-5)
        XCTAssertLessThan(worst / scale, 2e-2)
    }

    func testInputGradientMatchesReferenceAndWeightGradientStaysF32() {
        let x = Tensor.random([29, 96], seed: 6), w = Tensor.random([160, 96], seed: 7), dy = Tensor.random([29, 160], seed: 8)
        var fastGradient: Tensor? = Tensor(zeros: w.shape), slowGradient: Tensor? = Tensor(zeros: w.shape)
        var noBias: Tensor? = nil, noBias2: Tensor? = nil
        let fast = cpu.linearBackward(dOutput: dy, input: x, weight: w.converted(to: .bf16), weightGradient: &fastGradient,
                                      biasGradient: &noBias, needInputGradient: true, precision: .bf16)
        let slow = reference.linearBackward(dOutput: dy, input: x, weight: w.converted(to: .bf16), weightGradient: &slowGradient,
                                            biasGradient: &noBias2, needInputGradient: true, precision: .bf16)
        guard let fast, let slow, let fastGradient, let slowGradient else { return XCTFail("missing gradients") }
        assertClose(fast, slow, tolerance: 1e-5, "bf16 dx")
        assertClose(fastGradient, slowGradient, tolerance: 1e-5, "f32 dW")
        // dW used the f32 activations: equal to the all-f32 weight gradient.
        var f32Gradient: Tensor? = Tensor(zeros: w.shape), noBias3: Tensor? = nil
        _ = reference.linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &f32Gradient, biasGradient: &noBias3,
                                     needInputGradient: false)
        assertClose(fastGradient, f32Gradient ?? Tensor(zeros: [0]), tolerance: 1e-5, "dW precision")
    }

    func testPortableFallbackAgreesWithOneDNN() {
        let x = Tensor.random([33, 70], seed: 9), w = Tensor.random([90, 70], seed: 10).converted(to: .bf16)
        let a = BF16Matmul.roundedToBF16(x)
        var emulated = [Float](repeating: 0, count: 33 * 90)
        a.withUnsafeRawBytes { aRaw in
            w.withUnsafeRawBytes { wRaw in
                emulated.withUnsafeMutableBufferPointer { c in
                    BF16Matmul.emulated(m: 33, k: 70, n: 90, a: aRaw.bindMemory(to: UInt16.self).baseAddress!,
                                        weight: wRaw.bindMemory(to: UInt16.self).baseAddress!, .timesTransposedWeight,
                                        c: c.baseAddress!)
                }
            }
        }
        assertClose(BF16Matmul.multiply(x, weight: w, .timesTransposedWeight), Tensor(shape: [33, 90], values: emulated),
                    tolerance: 1e-5, "fallback")
        #if canImport(CDNNL)
        // On Linux the product must really run on oneDNN (a silent fallback would lose the speed).
        var direct = [Float](repeating: 0, count: 33 * 90)
        let ran = a.withUnsafeRawBytes { aRaw in
            w.withUnsafeRawBytes { wRaw in
                direct.withUnsafeMutableBufferPointer { c in
                    OneDNN.matmul(m: 33, k: 70, n: 90, a: aRaw.bindMemory(to: UInt16.self).baseAddress!,
                                  weight: wRaw.bindMemory(to: UInt16.self).baseAddress!, .timesTransposedWeight, c: c.baseAddress!)
                }
            }
        }
        XCTAssertTrue(ran, "oneDNN refused a bf16 matmul")
        assertClose(Tensor(shape: [33, 90], values: direct), Tensor(shape: [33, 90], values: emulated), tolerance: 1e-5, "oneDNN")
        #endif
    }
}
