// SwiGLU gate of the Llama MLP: silu(gate) · up, with silu(z) = z · sigmoid(z) (vector kernels: CTailorKernels/Activations.c).
import CTailorKernels
import Foundation
import TailorTensor

func swigluForward(gate: Tensor, up: Tensor) -> Tensor {
    precondition(gate.shape == up.shape, "swiglu: gate \(gate.shape) ≠ up \(up.shape)")
    return gatedForward(gate: gate, up: up, costPerItem: 4, tk_swiglu_forward)
}

/// A gated activation's forward `out = act(gate)·up` by its vector kernel (`kernel(gate, up, out, begin, end)`),
/// split over the cores; `costPerItem` as in `Parallel.forEachChunk`.
func gatedForward(gate: Tensor, up: Tensor, costPerItem: Int,
                  _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Tensor {
    var y = Tensor(uninitialized: gate.shape)
    y.withUnsafeMutableFloats { out in
        gate.withUnsafeFloats { g in
            up.withUnsafeFloats { u in
                let (o, gp, upp) = (out.baseAddress!, g.baseAddress!, u.baseAddress!)
                Parallel.forEachChunk(gate.count, costPerItem: costPerItem) { range in
                    kernel(gp, upp, o, range.lowerBound, range.upperBound)
                }
            }
        }
    }
    return y
}

func swigluForwardReference(gate: Tensor, up: Tensor) -> Tensor {
    let g = gate.floats(), u = up.floats()
    let out = (0..<g.count).map { i -> Float in
        let z = Double(g[i])
        return Float(z / (1 + Foundation.exp(-z)) * Double(u[i]))
    }
    return Tensor(shape: gate.shape, values: out)
}

/// Elementwise `f(a[i], b[i])` over two tensors of equal size, split over the cores (`costPerItem`: `f`'s rough
/// cost, which decides how finely the work is split).
@inline(__always)
func elementwise(_ a: Tensor, _ b: Tensor, costPerItem: Int = 2, _ f: (Float, Float) -> Float) -> Tensor {
    precondition(a.count == b.count, "elementwise: \(a.shape) and \(b.shape) differ")
    var y = Tensor(uninitialized: a.shape)
    y.withUnsafeMutableFloats { out in
        a.withUnsafeFloats { x in b.withUnsafeFloats { z in
            let (o, xp, zp) = (out.baseAddress!, x.baseAddress!, z.baseAddress!)
            Parallel.forEachChunk(a.count, costPerItem: costPerItem) { range in for i in range { o[i] = f(xp[i], zp[i]) } }
        } }
    }
    return y
}

func addForward(_ a: Tensor, _ b: Tensor) -> Tensor { addScaledForward(a, b, scale: 1) }

/// `a + scale·b`, split over the cores. A loop of its own rather than `elementwise`: there the operation is a
/// closure that the chunk's loop calls once per value, which does not vectorize (the residual adds, LoRA's scaled
/// update and the gradient sums were 5% of a QLoRA step through it). With scale 1 the sums are exactly `a + b`.
func addScaledForward(_ a: Tensor, _ b: Tensor, scale: Float) -> Tensor {
    precondition(a.count == b.count, "add: \(a.shape) and \(b.shape) differ")
    var y = Tensor(uninitialized: a.shape)
    y.withUnsafeMutableFloats { out in
        a.withUnsafeFloats { x in b.withUnsafeFloats { z in
            let (o, xp, zp) = (out.baseAddress!, x.baseAddress!, z.baseAddress!)
            Parallel.forEachChunk(a.count, costPerItem: 2) { range in
                for i in range { o[i] = xp[i] + scale * zp[i] }
            }
        } }
    }
    return y
}

/// Backward of silu(g)·u: du = dy·silu(g), dg = dy·u·σ(g)·(1 + g·(1 - σ(g))).
func swigluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
    gatedBackward(dOutput: dOutput, gate: gate, up: up, costPerItem: 6, tk_swiglu_backward)
}

/// A gated activation's backward by its vector kernel (`kernel(dout, gate, up, dgate, dup, begin, end)`), split
/// over the cores: returns (dgate, dup).
func gatedBackward(dOutput: Tensor, gate: Tensor, up: Tensor, costPerItem: Int,
                   _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                              UnsafeMutablePointer<Float>, Int, Int) -> Void) -> (gate: Tensor, up: Tensor) {
    var dGate = Tensor(uninitialized: gate.shape), dUp = Tensor(uninitialized: gate.shape)
    dGate.withUnsafeMutableFloats { dg in dUp.withUnsafeMutableFloats { du in
        dOutput.withUnsafeFloats { dy in gate.withUnsafeFloats { g in up.withUnsafeFloats { u in
            let (dgp, dup, dyp, gp, upp) = (dg.baseAddress!, du.baseAddress!, dy.baseAddress!, g.baseAddress!, u.baseAddress!)
            Parallel.forEachChunk(gate.count, costPerItem: costPerItem) { range in
                kernel(dyp, gp, upp, dgp, dup, range.lowerBound, range.upperBound)
            }
        } } }
    } }
    return (dGate, dUp)
}
