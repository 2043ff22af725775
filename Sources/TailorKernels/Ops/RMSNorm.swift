// RMSNorm as transformers computes it: y = w · (x · rsqrt(mean(x²) + eps)), statistics in f32.
import TailorTensor

func rmsNormForward(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput {
    let c = weight.count, m = x.count / c
    var y = Tensor(uninitialized: x.shape)
    var rstd = Tensor(uninitialized: [m])
    let w = weight.dtype == .f32 ? weight : weight.converted(to: .f32)
    y.withUnsafeMutableFloats { out in
        rstd.withUnsafeMutableFloats { r in
            x.withUnsafeFloats { input in
                w.withUnsafeFloats { w in
                    let (o, rp, xp, wp) = (out.baseAddress!, r.baseAddress!, input.baseAddress!, w.baseAddress!)
                    Parallel.forEachChunk(m, costPerItem: 4 * c) { rows in
                        for i in rows {
                            let row = xp + i * c, dst = o + i * c
                            var sum: Float = 0
                            for j in 0..<c { sum += row[j] * row[j] }
                            let inv = 1 / (sum / Float(c) + eps).squareRoot()
                            rp[i] = inv
                            for j in 0..<c { dst[j] = wp[j] * (row[j] * inv) }
                        }
                    }
                }
            }
        }
    }
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
/// dx = r·(g - n·mean(g·n)), dw += Σ_rows dy·n.
func rmsNormBackward(dOutput: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor,
                     weightGradient: inout Tensor?) -> Tensor {
    let c = weight.count, m = input.count / c
    let w = weight.dtype == .f32 ? weight : weight.converted(to: .f32)
    var dx = Tensor(uninitialized: input.shape)
    dx.withUnsafeMutableFloats { out in
        dOutput.withUnsafeFloats { dy in input.withUnsafeFloats { x in w.withUnsafeFloats { wp in inverseRMS.withUnsafeFloats { r in
            let (o, dyp, xp, wpp, rp) = (out.baseAddress!, dy.baseAddress!, x.baseAddress!, wp.baseAddress!, r.baseAddress!)
            Parallel.forEachChunk(m, costPerItem: 8 * c) { rows in
                for i in rows {
                    let inv = rp[i], xr = xp + i * c, dr = dyp + i * c, dst = o + i * c
                    var dot: Float = 0
                    for j in 0..<c { dot += wpp[j] * dr[j] * xr[j] * inv }
                    let meanDot = dot / Float(c)
                    for j in 0..<c { dst[j] = inv * (wpp[j] * dr[j] - xr[j] * inv * meanDot) }
                }
            }
            if weightGradient != nil {
                weightGradient!.withUnsafeMutableFloats { dw in
                    for i in 0..<m {
                        let inv = rp[i]
                        for j in 0..<c { dw[j] += dyp[i * c + j] * xp[i * c + j] * inv }
                    }
                }
            }
        } } } }
    }
    return dx
}
