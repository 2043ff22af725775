// Linear layer: y = x·Wᵀ + b with W stored [N, K] (the Hugging Face layout).
import TailorTensor

/// Fast path: BLAS over weight row tiles (bf16/f16 weights are converted one tile at a time), or the bf16 product
/// (`weightIsReused`: false for a weight decoded for this call only, which is not worth packing).
func linearForward(_ x: Tensor, weight: Tensor, bias: Tensor?, precision: MatmulPrecision = .f32,
                   weightIsReused: Bool = true) -> Tensor {
    let k = weight.shape[1], n = weight.shape[0], m = x.count / k
    precondition(x.count == m * k, "linear: input \(x.shape) does not match weight \(weight.shape)")
    var y: Tensor
    if precision == .bf16 {
        y = BF16Matmul.multiply(x, weight: weight, .timesTransposedWeight, isReused: weightIsReused)
    } else {
        y = Tensor(uninitialized: [m, n])
        y.withUnsafeMutableFloats { out in
            x.withUnsafeFloats { input in
                forEachRowTile(of: weight, tileRows: packedTileRows) { rows, tile in
                    GEMM.sgemm(transposeA: false, transposeB: true, m: m, n: rows.count, k: k,
                               a: input.baseAddress!, lda: k, b: tile, ldb: k,
                               c: out.baseAddress! + rows.lowerBound, ldc: n)
                }
            }
        }
    }
    y.withUnsafeMutableFloats { out in
        if let bias {
            bias.withUnsafeFloats { b in
                for i in 0..<m { for j in 0..<n { out[i * n + j] += b[j] } }
            }
        }
    }
    return y
}

/// `y + scale · x·Wᵀ` with f32 `W[N, K]`, accumulated by SGEMM (α = scale, β = 1) into `y`'s bytes (copied first only
/// when shared): the LoRA update `s·(x·Aᵀ)·Bᵀ` lands in the base output without its own M × N tensor.
func linearAccumulating(_ y: consuming Tensor, _ x: Tensor, weight: Tensor, scale: Float) -> Tensor {
    let k = weight.shape[1], n = weight.shape[0], m = x.count / max(k, 1)
    precondition(x.count == m * k && y.count == m * n, "linear accumulate: x \(x.shape), weight \(weight.shape), y \(y.shape)")
    guard weight.dtype == .f32, x.dtype == .f32, m > 0, n > 0, k > 0 else {
        return addScaledForward(y, linearForward(x, weight: weight, bias: nil), scale: scale)
    }
    y.withUnsafeMutableFloats { c in
        x.withUnsafeFloats { a in
            weight.withUnsafeFloats { b in
                GEMM.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: scale, a: a.baseAddress!, lda: k,
                           b: b.baseAddress!, ldb: k, beta: 1, c: c.baseAddress!, ldc: n)
            }
        }
    }
    return y
}

/// Naive oracle: every output an f64 dot product.
func linearForwardReference(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let k = weight.shape[1], n = weight.shape[0], m = x.count / k
    let w = weight.floats(), xs = x.floats(), b = bias?.floats()
    var out = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k { sum += Double(xs[i * k + p]) * Double(w[j * k + p]) }
            out[i * n + j] = Float(sum + Double(b?[j] ?? 0))
        }
    }
    return Tensor(shape: [m, n], values: out)
}

/// Backward of `y = x·Wᵀ + b`: returns dx = dy·W; accumulates dW += dyᵀ·x and db += Σ_rows dy when asked.
func linearBackward(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                    biasGradient: inout Tensor?, needInputGradient: Bool, precision: MatmulPrecision = .f32) -> Tensor? {
    let n = weight.shape[0], k = weight.shape[1], m = input.count / k
    var dx: Tensor? = nil
    // bf16: dy is rounded once for both products.
    let roundedDOutput = precision == .bf16 ? BF16Matmul.roundedToBF16(dOutput) : dOutput
    if needInputGradient && precision == .bf16 { dx = BF16Matmul.multiply(roundedDOutput, weight: weight, .timesWeight) }
    dOutput.withUnsafeFloats { dy in
        if needInputGradient && precision == .f32 {
            var result = Tensor(uninitialized: [m, k])
            result.withUnsafeMutableFloats { out in
                forEachRowTile(of: weight, tileRows: packedTileRows) { rows, tile in
                    // dx[M, K] += dy[M, rows] · W[rows, K]
                    GEMM.sgemm(transposeA: false, transposeB: false, m: m, n: k, k: rows.count,
                               a: dy.baseAddress! + rows.lowerBound, lda: n, b: tile, ldb: k,
                               beta: rows.lowerBound == 0 ? 0 : 1, c: out.baseAddress!, ldc: k)
                }
            }
            dx = result
        }
        if weightGradient != nil && precision == .bf16 {
            BF16Matmul.accumulateWeightGradient(dOutput: roundedDOutput, input: input, into: &weightGradient!)
        } else if weightGradient != nil {
            input.withUnsafeFloats { x in
                weightGradient!.withUnsafeMutableFloats { dw in
                    GEMM.sgemm(transposeA: true, transposeB: false, m: n, n: k, k: m,
                               a: dy.baseAddress!, lda: n, b: x.baseAddress!, ldb: k, beta: 1, c: dw.baseAddress!, ldc: k)
                }
            }
        }
        if biasGradient != nil {
            biasGradient!.withUnsafeMutableFloats { db in
                for i in 0..<m { for j in 0..<n { db[j] += dy[i * n + j] } }
            }
        }
    }
    return dx
}

func linearBackwardReference(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                             biasGradient: inout Tensor?, needInputGradient: Bool) -> Tensor? {
    let n = weight.shape[0], k = weight.shape[1], m = input.count / k
    let dy = dOutput.floats(), x = input.floats(), w = weight.floats()
    if var dw = weightGradient?.floats() {
        for j in 0..<n { for p in 0..<k {
            var sum = 0.0
            for i in 0..<m { sum += Double(dy[i * n + j]) * Double(x[i * k + p]) }
            dw[j * k + p] += Float(sum)
        } }
        weightGradient = Tensor(shape: [n, k], values: dw)
    }
    if var db = biasGradient?.floats() {
        for j in 0..<n { db[j] += Float((0..<m).reduce(0.0) { $0 + Double(dy[$1 * n + j]) }) }
        biasGradient = Tensor(shape: [n], values: db)
    }
    guard needInputGradient else { return nil }
    var dx = [Float](repeating: 0, count: m * k)
    for i in 0..<m { for p in 0..<k {
        var sum = 0.0
        for j in 0..<n { sum += Double(dy[i * n + j]) * Double(w[j * k + p]) }
        dx[i * k + p] = Float(sum)
    } }
    return Tensor(shape: [m, k], values: dx)
}
