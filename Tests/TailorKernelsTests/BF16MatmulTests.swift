// bf16 products (oneDNN on Linux) against the reference backend's definition: operands rounded to bf16, exact sums.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class BF16MatmulTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

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

    func testFewRowsSplitByColumns() {
        // Decoding: one row (and a handful), the output split into column blocks over the workers.
        let w = Tensor.random([1000, 64], seed: 16).converted(to: .bf16)
        for rows in [1, 3] {
            let x = Tensor.random([rows, 64], seed: 17), dy = Tensor.random([rows, 1000], seed: 18)
            assertClose(cpu.linear(x, weight: w, bias: nil, precision: .bf16),
                        reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: 1e-5, "\(rows) rows forward")
            var none: Tensor? = nil, noBias: Tensor? = nil, none2: Tensor? = nil, noBias2: Tensor? = nil
            assertClose(cpu.linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &none, biasGradient: &noBias,
                                           needInputGradient: true, precision: .bf16) ?? Tensor(zeros: [0]),
                        reference.linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &none2, biasGradient: &noBias2,
                                                 needInputGradient: true, precision: .bf16) ?? Tensor(zeros: [0]),
                        tolerance: 1e-5, "\(rows) rows input gradient")
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

    func testBackwardMatchesReferenceWithBiasInF32() {
        let x = Tensor.random([29, 96], seed: 6), w = Tensor.random([160, 96], seed: 7), dy = Tensor.random([29, 160], seed: 8)
        let initial = Tensor.random([160, 96], seed: 11)   // gradients accumulate onto what is there
        var fastGradient: Tensor? = initial, slowGradient: Tensor? = initial
        var fastBias: Tensor? = Tensor(zeros: [160]), slowBias: Tensor? = Tensor(zeros: [160])
        let fast = cpu.linearBackward(dOutput: dy, input: x, weight: w.converted(to: .bf16), weightGradient: &fastGradient,
                                      biasGradient: &fastBias, needInputGradient: true, precision: .bf16)
        let slow = reference.linearBackward(dOutput: dy, input: x, weight: w.converted(to: .bf16), weightGradient: &slowGradient,
                                            biasGradient: &slowBias, needInputGradient: true, precision: .bf16)
        guard let fast, let slow, let fastGradient, let slowGradient, let fastBias, let slowBias else {
            return XCTFail("missing gradients")
        }
        assertClose(fast, slow, tolerance: 1e-5, "bf16 dx")
        assertClose(fastGradient, slowGradient, tolerance: 1e-5, "bf16 dW")
        assertClose(fastBias, slowBias, tolerance: 1e-5, "db")
        // The bias gradient sums the unrounded dy: equal to the f32 one.
        var f32Bias: Tensor? = Tensor(zeros: [160]), none: Tensor? = nil
        _ = reference.linearBackward(dOutput: dy, input: x, weight: w, weightGradient: &none, biasGradient: &f32Bias,
                                     needInputGradient: false)
        assertClose(fastBias, f32Bias ?? Tensor(zeros: [0]), tolerance: 1e-6, "db in f32")
    }

    func testPortableFallbackAgreesWithOneDNN() {
        // Strided operands as the weight gradient uses them: aᵀ read from a row-major [K, M] buffer.
        let aStore = BF16Matmul.roundedToBF16(Tensor.random([70, 33], seed: 9))
        let b = BF16Matmul.roundedToBF16(Tensor.random([70, 90], seed: 10)), start = Tensor.random([33, 90], seed: 12)
        func run(_ body: (BF16Operand, BF16Operand, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
            var c = start
            aStore.withUnsafeRawBytes { aRaw in
                b.withUnsafeRawBytes { bRaw in
                    c.withUnsafeMutableFloats { out in
                        body(BF16Operand(base: aRaw.bindMemory(to: UInt16.self).baseAddress!, rows: 33, columns: 70,
                                         rowStride: 1, columnStride: 33),
                             BF16Operand(base: bRaw.bindMemory(to: UInt16.self).baseAddress!, rows: 70, columns: 90,
                                         rowStride: 90, columnStride: 1), out.baseAddress!)
                    }
                }
            }
            return c
        }
        let emulated = run { BF16Matmul.emulated($0, $1, into: $2, ldc: 90, accumulate: true) }
        // The emulated product is the oracle's: f32 sums of the widened operands, added to c.
        let a32 = aStore.converted(to: .f32).floats(), b32 = b.converted(to: .f32).floats(), c0 = start.floats()
        let naive = (0..<(33 * 90)).map { index -> Float in
            let (i, j) = (index / 90, index % 90)
            return c0[index] + Float((0..<70).reduce(0.0) { $0 + Double(a32[$1 * 33 + i]) * Double(b32[$1 * 90 + j]) })
        }
        assertClose(emulated, Tensor(shape: [33, 90], values: naive), tolerance: 1e-5, "emulated")
        #if canImport(CDNNL)
        // On Linux with bf16 dot products the product must really run on oneDNN (a silent fallback would lose the
        // speed); without them oneDNN may refuse, and the fallback above is what runs.
        var ran = false
        let direct = run { ran = OneDNN.matmul($0, $1, into: $2, ldc: 90, accumulate: true) }
        if CPUFeatures.hasNativeBF16 { XCTAssertTrue(ran, "oneDNN refused a bf16 matmul") }
        if ran { assertClose(direct, emulated, tolerance: 1e-5, "oneDNN") }
        #endif
    }

    /// A packed matrix that stores plain f32 rows (the kernels only see `dequantizeRows`).
    struct PlainRows: PackedMatrix {
        let values: [Float]
        let shape: [Int]
        var byteCount: Int { 4 * values.count }
        func dequantizeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
            for i in 0..<(rows.count * shape[1]) { out[i] = values[rows.lowerBound * shape[1] + i] }
        }
    }

    func testPackedWeightsInBF16() {
        // 300 rows: several of the decoder's 64-row blocks, split over the workers.
        let w = Tensor.random([300, 48], seed: 13), x = Tensor.random([21, 48], seed: 14), dy = Tensor.random([21, 300], seed: 15)
        let packed = PlainRows(values: w.floats(), shape: w.shape)
        assertClose(cpu.linear(x, packedWeight: packed, bias: nil, precision: .bf16),
                    reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: 1e-5, "packed bf16 forward")
        assertClose(cpu.linearInputGradient(dOutput: dy, packedWeight: packed, precision: .bf16),
                    reference.linearInputGradient(dOutput: dy, packedWeight: packed, precision: .bf16), tolerance: 1e-5,
                    "packed bf16 input gradient")
    }
}
