// GeGLU gate of the Gemma MLP: gelu_tanh(gate) · up, with transformers' `gelu_pytorch_tanh` (torch's
// `gelu(approximate="tanh")`): gelu(z) = ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))). Vector kernels:
// CTailorKernels/Activations.c (tanh from the polynomial exp, in f32 like torch's kernel).
import CTailorKernels
import Foundation
import TailorTensor

func gegluForward(gate: Tensor, up: Tensor) -> Tensor {
    precondition(gate.shape == up.shape, "geglu: gate \(gate.shape) ≠ up \(up.shape)")
    return gatedForward(gate: gate, up: up, costPerItem: 6, tk_geglu_forward)
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
    gatedBackward(dOutput: dOutput, gate: gate, up: up, costPerItem: 8, tk_geglu_backward)
}
