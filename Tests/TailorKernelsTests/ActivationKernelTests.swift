// The SwiGLU kernels (CTailorKernels/Activations.c) against the f64 reference, in the body this CPU runs and in the
// portable one: lengths that leave a tail after whole vectors, gates far out in both tails (where e^-g would
// overflow an f32), zero, and NaN.
import CTailorKernels
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class ActivationKernelTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    /// Gates: random values with extremes mixed in; the rest as Tensor.random gives them.
    static func gate(count: Int, seed: UInt64) -> Tensor {
        var values = Tensor.random([count], seed: seed, scale: 8).floats()
        let extremes: [Float] = [0, -0, 100, -100, 87.5, -87.5, 88.7, -88.7, 1e-30, -1e-30, 30, -30, 17.3, -17.3]
        for (i, v) in extremes.enumerated() where 3 * i < count { values[3 * i] = v }
        return Tensor(shape: [count], values: values)
    }

    /// Each value within `tolerance` of the reference, relative to the larger of 1 and the reference's magnitude.
    func assertValuesClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String) {
        let a = actual.floats(), e = expected.floats()
        XCTAssertEqual(a.count, e.count, what)
        for i in e.indices {
            let error = abs(a[i] - e[i]) / max(1, abs(e[i]))
            XCTAssertLessThanOrEqual(error, tolerance, "\(what)[\(i)]: \(a[i]) vs \(e[i])")
        }
    }

    func testSwiGLUKernelsMatchReference() {
        for cap in [StreamingKernelBody.scalar, .avx512] {
            tk_cap_inference_kernel(cap.rawValue)
            defer { tk_cap_inference_kernel(StreamingKernelBody.avx512.rawValue) }
            for count in [1, 3, 8, 13, 64, 9_001, 40_003] {   // 40,003: split over the cores
                let what = "\(cap) count \(count)"
                let g = Self.gate(count: count, seed: UInt64(count)), up = Tensor.random([count], seed: 99, scale: 3)
                let dy = Tensor.random([count], seed: 7)
                assertValuesClose(cpu.swiglu(gate: g, up: up), reference.swiglu(gate: g, up: up), tolerance: 2e-6, "\(what) forward")
                let fast = cpu.swigluBackward(dOutput: dy, gate: g, up: up), slow = reference.swigluBackward(dOutput: dy, gate: g, up: up)
                assertValuesClose(fast.gate, slow.gate, tolerance: 2e-6, "\(what) dgate")
                assertValuesClose(fast.up, slow.up, tolerance: 2e-6, "\(what) dup")
            }
        }
    }

    func testNaNGatePropagates() {
        let g = Tensor(shape: [9], values: [.nan, 1, 2, 3, 4, 5, 6, 7, .nan]), up = Tensor(shape: [9], values: [Float](repeating: 1, count: 9))
        let out = cpu.swiglu(gate: g, up: up).floats()
        XCTAssertTrue(out[0].isNaN && out[8].isNaN, "NaN gates (vector and tail) give NaN: \(out)")
        XCTAssertFalse(out[1..<8].contains { $0.isNaN })
        let grads = cpu.swigluBackward(dOutput: up, gate: g, up: up)
        XCTAssertTrue(grads.gate.floats()[0].isNaN && grads.up.floats()[8].isNaN)
    }
}
