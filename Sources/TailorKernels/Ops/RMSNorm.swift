// RMSNorm as transformers computes it: y = w · (x · rsqrt(mean(x²) + eps)), statistics in f32.
import CTailorKernels
import TailorTensor

func rmsNormForward(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput {
    rmsNormRows(x, addend: nil, sum: nil, weight: weight, eps: eps)
}

/// The residual add and the RMSNorm after it, one pass over each row: `s = a + b` and the norm of `s`.
func addRMSNormForward(_ a: Tensor, _ b: Tensor, weight: Tensor, eps: Float) -> (sum: Tensor, normalized: RMSNormOutput) {
    precondition(a.count == b.count, "add + RMSNorm: \(a.shape) and \(b.shape) differ")
    var sum = Tensor(uninitialized: a.shape)
    let normalized = sum.withUnsafeMutableFloats { s in
        b.withUnsafeFloats { addend in rmsNormRows(a, addend: addend.baseAddress, sum: s.baseAddress, weight: weight, eps: eps) }
    }
    return (sum, normalized)
}

/// `tk_rmsnorm_forward` over the rows of `x`, split over the cores; with `addend`, x + addend is written to `sum`
/// and normalized instead.
private func rmsNormRows(_ x: Tensor, addend: UnsafePointer<Float>?, sum: UnsafeMutablePointer<Float>?, weight: Tensor,
                         eps: Float) -> RMSNormOutput {
    let c = weight.count, m = x.count / max(c, 1)
    precondition(x.count == m * c, "RMSNorm: input \(x.shape) does not match weight \(weight.shape)")
    var y = Tensor(uninitialized: x.shape), rstd = Tensor(uninitialized: [m])
    let w = weight.dtype == .f32 ? weight : weight.converted(to: .f32)
    guard m > 0 && c > 0 else { return RMSNormOutput(output: y, inverseRMS: rstd) }
    y.withUnsafeMutableFloats { out in rstd.withUnsafeMutableFloats { r in
        x.withUnsafeFloats { input in w.withUnsafeFloats { wp in
            let (o, rp, xp, wq) = (out.baseAddress!, r.baseAddress!, input.baseAddress!, wp.baseAddress!)
            Parallel.forEachChunk(m, costPerItem: 4 * c) { rows in
                tk_rmsnorm_forward(xp, addend, wq, eps, c, sum, o, rp, rows.lowerBound, rows.upperBound)
            }
        } }
    } }
    return RMSNormOutput(output: y, inverseRMS: rstd)
}

func rmsNormForwardReference(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput {
    let c = weight.count, m = x.count / c
    let xs = x.floats(), w = weight.floats()
    var out = [Float](repeating: 0, count: xs.count), r = [Float](repeating: 0, count: m)
    for i in 0..<m {
        var sum = 0.0
        for j in 0..<c { sum += Double(xs[i * c + j]) * Double(xs[i * c + j]) }
        let inv = 1 / (sum / Double(c) + Double(eps)).squareRoot()
        r[i] = Float(inv)
        for j in 0..<c { out[i * c + j] = Float(Double(w[j]) * Double(xs[i * c + j]) * inv) }
    }
    return RMSNormOutput(output: Tensor(shape: x.shape, values: out), inverseRMS: Tensor(shape: [m], values: r))
}

/// Backward of RMSNorm with saved `1/rms` per row r: with n = x·r and g = w·dy,
/// dx = r·(g - n·mean(g·n)) (+ `addend`, the residual's gradient, when given), dw += Σ_rows dy·n.
func rmsNormBackward(dOutput: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor, adding addend: Tensor? = nil,
                     weightGradient: inout Tensor?) -> Tensor {
    let c = weight.count, m = input.count / max(c, 1)
    precondition(dOutput.count == input.count && input.count == m * c && inverseRMS.count == m,
                 "RMSNorm backward: dy \(dOutput.shape), x \(input.shape), weight \(weight.shape), rstd \(inverseRMS.shape)")
    precondition(addend.map { $0.count == input.count } ?? true, "RMSNorm backward: addend \(addend?.shape ?? []) is not \(input.shape)")
    let w = weight.dtype == .f32 ? weight : weight.converted(to: .f32)
    var dx = Tensor(uninitialized: input.shape)
    guard m > 0 && c > 0 else { return dx }
    dx.withUnsafeMutableFloats { out in
        dOutput.withUnsafeFloats { dy in input.withUnsafeFloats { x in w.withUnsafeFloats { wp in inverseRMS.withUnsafeFloats { r in
            let (o, dyp, xp, wq, rp) = (out.baseAddress!, dy.baseAddress!, x.baseAddress!, wp.baseAddress!, r.baseAddress!)
            withOptionalFloats(addend) { a in
                Parallel.forEachChunk(m, costPerItem: 8 * c) { rows in
                    tk_rmsnorm_backward(dyp, xp, wq, rp, a, c, o, rows.lowerBound, rows.upperBound)
                }
            }
            if weightGradient != nil {
                weightGradient!.withUnsafeMutableFloats { dw in
                    let dwp = dw.baseAddress!
                    Parallel.forEachChunk(c, costPerItem: 3 * m) { columns in
                        tk_rmsnorm_weight_gradient(dyp, xp, rp, m, c, dwp, columns.lowerBound, columns.upperBound)
                    }
                }
            }
        } } } }
    }
    return dx
}

/// `body` with `t`'s floats, or nil without `t`.
private func withOptionalFloats<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withUnsafeFloats { body($0.baseAddress) }
}
