// Qwen3's and Gemma 3's per-head RMSNorm of q and k (q_norm/k_norm) before RoPE, forward and backward. Legend: M rows, H heads,
// D head size.
import TailorTensor

/// What the forward keeps for the backward: the per-row inverse RMS of the (M·H, D) view.
struct HeadNormSaved {
    var input: Tensor        // (M, H·D) before the norm
    var inverseRMS: Tensor   // (M·H)
}

/// RMS-normalises each head's D values of `x` (M, H·D) with `weight` (D, as applied: Gemma's 1 + w); returns `x`
/// unchanged when `weight` is nil (families without q/k norms).
func headNormForward(_ x: consuming Tensor, weight: Tensor?, heads: Int, eps: Float, backend: any Backend) -> (output: Tensor, saved: HeadNormSaved?) {
    guard let weight else { return (x, nil) }
    let rows = x.shape[0], d = weight.count
    let normed = backend.rmsNorm(x.reshaped([rows * heads, d]), weight: weight, eps: eps)
    return (normed.output.reshaped([rows, heads * d]), HeadNormSaved(input: x, inverseRMS: normed.inverseRMS))
}

/// The gradient of `headNormForward`'s input; adds into `weightGradient` (D) when non-nil.
func headNormBackward(_ dOutput: Tensor, weight: Tensor?, saved: HeadNormSaved?, heads: Int,
                      weightGradient: inout Tensor?, backend: any Backend) -> Tensor {
    guard let weight, let saved else { return dOutput }
    let rows = dOutput.shape[0], d = weight.count
    let dx = backend.rmsNormBackward(dOutput: dOutput.reshaped([rows * heads, d]), input: saved.input.reshaped([rows * heads, d]),
                                     weight: weight, inverseRMS: saved.inverseRMS, adding: nil, weightGradient: &weightGradient)
    return dx.reshaped([rows, heads * d])
}
