// Gemma 2's logit soft-capping: y = cap·tanh(x / cap), as transformers computes it in f32 (divide, tanh, multiply),
// and its backward dx = dy·(1 - tanh²(x / cap)).
import Foundation
import TailorTensor

/// cap·tanh(x / cap) in f32, the order transformers' three ops take.
@inline(__always)
func softCapped(_ x: Float, cap: Float) -> Float { Foundation.tanh(x / cap) * cap }

/// d softCapped / dx at x: 1 - tanh²(x / cap).
@inline(__always)
func softCapDerivative(_ x: Float, cap: Float) -> Float {
    let t = Foundation.tanh(x / cap)
    return 1 - t * t
}

func softCapForward(_ x: Tensor, cap: Float) -> Tensor {
    elementwise(x, x, costPerItem: 20) { v, _ in softCapped(v, cap: cap) }
}

func softCapBackward(dOutput: Tensor, input: Tensor, cap: Float) -> Tensor {
    precondition(dOutput.shape == input.shape, "softCapBackward: dy \(dOutput.shape) ≠ x \(input.shape)")
    return elementwise(dOutput, input, costPerItem: 20) { dy, x in dy * softCapDerivative(x, cap: cap) }
}

/// Naive oracle in f64.
func softCapForwardReference(_ x: Tensor, cap: Float) -> Tensor {
    Tensor(shape: x.shape, values: x.floats().map { Float(Double(cap) * Foundation.tanh(Double($0) / Double(cap))) })
}

/// Naive oracle in f64.
func softCapBackwardReference(dOutput: Tensor, input: Tensor, cap: Float) -> Tensor {
    let dy = dOutput.floats(), x = input.floats()
    return Tensor(shape: input.shape, values: x.indices.map { i in
        let t = Foundation.tanh(Double(x[i]) / Double(cap))
        return Float(Double(dy[i]) * (1 - t * t))
    })
}
