// DoRA (weight-decomposed LoRA, PEFT `use_dora`): a magnitude vector m rescales every output row of the adapted
// weight W + s·B·A to norm m. PEFT's tuners/lora/dora.py:
//   n = ‖W + s·B·A‖ per output row (L2 over the K inputs), detached; g = m / n
//   y = base(x) + (g − 1)⊙(x'·Wᵀ) + g⊙s·(x'·Aᵀ)·Bᵀ,  x' = dropout(x)
// With no dropout (inference) x'·Wᵀ is the base output minus the bias, so y = g⊙(x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + b: the bias
// is not rescaled. Merged: W' = g[:, None]⊙(W + s·B·A).
// Legend: M rows, K input features, N output features, R LoRA rank.
import TailorTensor

extension LoRAAdapter {
    /// Whether this adapter is DoRA (has a magnitude vector).
    public var isDoRA: Bool { magnitude != nil }

    /// The update s·(B·A) `[N, K]` row-major in f32: the products summed over the rank in f32, then scaled, as
    /// PEFT's get_delta_weight computes (B @ A) * scaling.
    public func deltaWeight() -> [Float] {
        let av = a.converted(to: .f32).floats(), bv = b.converted(to: .f32).floats()
        let r = rank, k = a.shape[1], n = b.shape[0]
        var out = [Float](repeating: 0, count: n * k)
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<n {
                for j in 0..<r {
                    let bij = bv[i * r + j]
                    if bij == 0 { continue }
                    let aRow = j * k, oRow = i * k
                    for c in 0..<k { o[oRow + c] += bij * av[aRow + c] }
                }
                for c in 0..<k { o[i * k + c] *= scaling }
            }
        }
        return out
    }
}

/// DoRA's weight norms and rescaling.
public enum DoRA {
    /// ‖W + Δ‖ per output row of `base` `[N, K]` (f32, row-major) plus `delta` (same layout): torch.linalg.norm over
    /// dim 1 of the f32 sum. The squares are accumulated in f64 and the root rounded once to f32.
    public static func rowNorms(base: [Float], delta: [Float], rows n: Int, columns k: Int) -> [Float] {
        precondition(base.count == n * k && delta.count == n * k, "DoRA norms: \(base.count), \(delta.count) ≠ \(n)×\(k)")
        return (0..<n).map { i in
            var sum = 0.0
            for c in (i * k)..<((i + 1) * k) {
                let w = base[c] + delta[c]          // f32 add, as torch adds the two f32 matrices
                sum += Double(w) * Double(w)
            }
            return Float(sum.squareRoot())
        }
    }

    /// The base weight of `linear` as f32 `[N, K]` values: dense weights converted, packed 4-bit weights dequantized
    /// (PEFT's dequantize_module_weight: DoRA on a QLoRA base takes the norm of the dequantized weight).
    public static func denseBase(_ linear: Linear) -> [Float] {
        guard let packed = linear.packed else { return linear.weight.converted(to: .f32).floats() }
        let n = packed.shape[0], k = packed.shape[1]
        var out = [Float](repeating: 0, count: n * k)
        out.withUnsafeMutableBufferPointer { dst in
            guard let base = dst.baseAddress, n > 0 else { return }
            packed.dequantizeRows(0..<n, into: base)
        }
        return out
    }

    /// ‖W + s·B·A‖ per output row of `linear` with `lora`.
    public static func weightNorm(_ linear: Linear, _ lora: LoRAAdapter) -> Tensor {
        let n = linear.outFeatures, k = linear.inFeatures
        return Tensor(shape: [n], values: rowNorms(base: denseBase(linear), delta: lora.deltaWeight(), rows: n, columns: k))
    }

    /// g = m / ‖W + s·B·A‖_row, from the adapter's cached norm when it has one.
    public static func scale(_ linear: Linear, _ lora: LoRAAdapter) -> [Float] {
        guard let magnitude = lora.magnitude else { return [Float](repeating: 1, count: linear.outFeatures) }
        let norms = (lora.weightNorm ?? weightNorm(linear, lora)).converted(to: .f32).floats()
        return zip(magnitude.converted(to: .f32).floats(), norms).map { $0 / $1 }
    }
}

extension Linear {
    /// DoRA's output from the pieces the LoRA forward computed: `base` = x·Wᵀ + b, `update` = (x'·Aᵀ)·Bᵀ `(M, N)`,
    /// `dropped` = x' when dropout is active (then x'·Wᵀ is recomputed without bias, as PEFT does in training).
    func doraOutput(base: Tensor, update: Tensor, dropped: Tensor?, lora: LoRAAdapter, backend: any Backend) -> Tensor {
        let g = DoRA.scale(self, lora)
        let n = outFeatures
        var y = base.converted(to: .f32).floats()
        let u = update.converted(to: .f32).floats()
        let s = lora.scaling
        if let dropped {
            let direct = (packed.map { backend.linear(dropped, packedWeight: $0, bias: nil) }
                          ?? backend.linear(dropped, weight: weight, bias: nil)).converted(to: .f32).floats()
            for i in y.indices {
                let gj = g[i % n]
                y[i] += (gj - 1) * direct[i] + gj * (s * u[i])
            }
        } else {
            let b = bias?.converted(to: .f32).floats()
            for i in y.indices {
                let j = i % n, bj = b?[j] ?? 0
                let direct = y[i] - bj
                y[i] += (g[j] - 1) * direct + g[j] * (s * u[i])
            }
        }
        return Tensor(shape: base.shape, values: y).converted(to: base.dtype)
    }
}
