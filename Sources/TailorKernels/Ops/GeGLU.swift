// GeGLU gate of the Gemma MLP: gelu_tanh(gate) · up, with transformers' `gelu_pytorch_tanh` (torch's
// `gelu(approximate="tanh")`): gelu(z) = ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).
import Foundation
import TailorTensor

/// √(2/π), as torch's kernel spells it (M_SQRT2 · M_2_SQRTPI · 0.5).
private let geluCoefficient = 0.7978845608028654
private let geluCubic = 0.044715

/// gelu_tanh(z) and its derivative, in f64 (f32 products lose the small cubic term's last bits on large z).
@inline(__always)
private func geluTanh(_ z: Double) -> (value: Double, derivative: Double) {
    let inner = geluCoefficient * (z + geluCubic * z * z * z)
    let t = Foundation.tanh(inner)
    let dInner = geluCoefficient * (1 + 3 * geluCubic * z * z)
    return (0.5 * z * (1 + t), 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * dInner)
}

func gegluForward(gate: Tensor, up: Tensor) -> Tensor {
    precondition(gate.shape == up.shape, "geglu: gate \(gate.shape) ≠ up \(up.shape)")
    return elementwise(gate, up, costPerItem: 30) { Float(geluTanh(Double($0)).value) * $1 }
}

/// Naive oracle: the formula term by term in f64.
func gegluForwardReference(gate: Tensor, up: Tensor) -> Tensor {
    let g = gate.floats(), u = up.floats()
    let out = (0..<g.count).map { i -> Float in
        let z = Double(g[i])
        let gelu = 0.5 * z * (1 + Foundation.tanh(0.7978845608028654 * (z + 0.044715 * Foundation.pow(z, 3))))
        return Float(gelu * Double(u[i]))
    }
    return Tensor(shape: gate.shape, values: out)
}

/// Backward of gelu_tanh(g)·u: du = dy·gelu_tanh(g), dg = dy·u·gelu_tanh′(g).
func gegluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
    var dGate = Tensor(uninitialized: gate.shape), dUp = Tensor(uninitialized: gate.shape)
    dGate.withUnsafeMutableFloats { dg in dUp.withUnsafeMutableFloats { du in
        dOutput.withUnsafeFloats { dy in gate.withUnsafeFloats { g in up.withUnsafeFloats { u in
            let (dgp, dup, dyp, gp, upp) = (dg.baseAddress!, du.baseAddress!, dy.baseAddress!, g.baseAddress!, u.baseAddress!)
            Parallel.forEachChunk(gate.count, costPerItem: 40) { range in
                for i in range {
                    let (value, derivative) = geluTanh(Double(gp[i]))
                    dup[i] = dyp[i] * Float(value)
                    dgp[i] = Float(Double(dyp[i]) * Double(upp[i]) * derivative)
                }
            }
        } } }
    } }
    return (dGate, dUp)
}
