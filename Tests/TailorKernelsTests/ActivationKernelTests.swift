// The SwiGLU and GeGLU kernels (CTailorKernels/Activations.c) against the f64 reference, in the body this CPU runs and in the
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

    /// One gated activation's forward and backward, CPU kernels against the reference.
    struct Gated {
        let name: String
        let forward: (any Backend, Tensor, Tensor) -> Tensor
        let backward: (any Backend, Tensor, Tensor, Tensor) -> (gate: Tensor, up: Tensor)
        /// Gates placed at every third index from 1, on top of `gate(count:seed:)`'s.
        var extremes: [Float] = []
        var dGateTolerance: Float = 2e-6
    }

    func assertGatedKernelMatchesReference(_ kernel: Gated, seed: UInt64) {
        for cap in [StreamingKernelBody.scalar, .avx512] {
            tk_cap_inference_kernel(cap.rawValue)
            defer { tk_cap_inference_kernel(StreamingKernelBody.avx512.rawValue) }
            for count in [1, 3, 8, 13, 64, 9_001, 40_003] {   // 40,003: split over the cores
                let what = "\(kernel.name) \(cap) count \(count)"
                var gates = Self.gate(count: count, seed: UInt64(count) + seed).floats()
                for (i, v) in kernel.extremes.enumerated() where 3 * i + 1 < count { gates[3 * i + 1] = v }
                let g = Tensor(shape: [count], values: gates), up = Tensor.random([count], seed: 99 + seed, scale: 3)
                let dy = Tensor.random([count], seed: 7 + seed)
                assertValuesClose(kernel.forward(cpu, g, up), kernel.forward(reference, g, up), tolerance: 2e-6, "\(what) forward")
                let fast = kernel.backward(cpu, dy, g, up), slow = kernel.backward(reference, dy, g, up)
                assertValuesClose(fast.gate, slow.gate, tolerance: kernel.dGateTolerance, "\(what) dgate")
                assertValuesClose(fast.up, slow.up, tolerance: 2e-6, "\(what) dup")
            }
        }
    }

    func testSwiGLUKernelsMatchReference() {
        assertGatedKernelMatchesReference(Gated(name: "swiglu", forward: { $0.swiglu(gate: $1, up: $2) },
                                                backward: { $0.swigluBackward(dOutput: $1, gate: $2, up: $3) }), seed: 0)
    }

    func testGeGLUKernelsMatchReference() {
        // Past the clamp of the derivative's z (±100), where z³ and z² overflow an f32, and near 0. gelu′ is two terms
        // of opposite sign that cancel where it crosses zero (z ≈ -0.75): there the f32 tanh leaves up to 2.5e-6 of
        // dy·up (|dy·up| up to about 9 here); elsewhere under 2e-6.
        assertGatedKernelMatchesReference(Gated(name: "geglu", forward: { $0.geglu(gate: $1, up: $2) },
                                                backward: { $0.gegluBackward(dOutput: $1, gate: $2, up: $3) },
                                                extremes: [150, -150, 1e13, -1e13, 3e19, -3e19, 0.001, -0.001],
                                                dGateTolerance: 4e-6), seed: 5)
    }

    func testNaNGatePropagates() {
        let g = Tensor(shape: [9], values: [.nan, 1, 2, 3, 4, 5, 6, 7, .nan]), up = Tensor(shape: [9], values: [Float](repeating: 1, count: 9))
        let out = cpu.swiglu(gate: g, up: up).floats()
        XCTAssertTrue(out[0].isNaN && out[8].isNaN, "NaN gates (vector and tail) give NaN: \(out)")
        XCTAssertFalse(out[1..<8].contains { $0.isNaN })
        let grads = cpu.swigluBackward(dOutput: up, gate: g, up: up)
        XCTAssertTrue(grads.gate.floats()[0].isNaN && grads.up.floats()[8].isNaN)
        let gelu = cpu.geglu(gate: g, up: up).floats()
        XCTAssertTrue(gelu[0].isNaN && gelu[8].isNaN, "GeGLU: NaN gates give NaN: \(gelu)")
        XCTAssertFalse(gelu[1..<8].contains { $0.isNaN })
        let geluGrads = cpu.gegluBackward(dOutput: up, gate: g, up: up)
        XCTAssertTrue(geluGrads.gate.floats()[0].isNaN && geluGrads.up.floats()[8].isNaN)
    }
}
