// The naive backend: straightforward loops with f64 accumulation. Slow; the oracle the fast kernels are tested against.
import Foundation
import TailorTensor

/// Runs every op with the simplest loops and f64 sums. Use it in tests, never for real work.
public struct ReferenceBackend: Backend {
    public init() {}
    public var name: String { "reference" }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, precision: MatmulPrecision) -> Tensor {
        linearForwardReference(rounded(x, precision), weight: rounded(weight, precision), bias: bias)
    }
    public func embedding(ids: [Int32], table: Tensor) -> Tensor {
        let c = table.shape[1], values = table.floats()
        return Tensor(shape: [ids.count, c], values: ids.flatMap { values[(Int($0) * c)..<(Int($0) * c + c)] })
    }
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput { rmsNormForwardReference(x, weight: weight, eps: eps) }
    public func addRMSNorm(_ a: Tensor, _ b: Tensor, weight: Tensor, eps: Float) -> (sum: Tensor, normalized: RMSNormOutput) {
        let sum = add(a, b)
        return (sum, rmsNorm(sum, weight: weight, eps: eps))
    }
    public func rotaryAngles(positions: [Int32], inverseFrequencies: [Float]) -> RotaryAngles {
        rotaryAnglesForward(positions: positions, inverseFrequencies: inverseFrequencies)
    }
    public func applyRotary(_ x: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
        let half = angles.cos.shape[1], d = 2 * half, m = angles.cos.shape[0]
        let xs = x.floats(), c = angles.cos.floats(), s = angles.sin.floats()
        var out = xs
        for r in 0..<m {
            for h in 0..<heads {
                let base = (r * heads + h) * d
                for i in 0..<half {
                    let a = Double(xs[base + i]), b = Double(xs[base + i + half])
                    out[base + i] = Float(a * Double(c[r * half + i]) - b * Double(s[r * half + i]))
                    out[base + i + half] = Float(b * Double(c[r * half + i]) + a * Double(s[r * half + i]))
                }
            }
        }
        return Tensor(shape: x.shape, values: out)
    }
    public func attention(query: Tensor, key: Tensor, value: Tensor, shape: AttentionShape, segments: KeySegments?,
                          keepLogSumExp: Bool) -> AttentionOutput {
        attentionForwardReference(query: query, key: key, value: value, shape: shape, segments: segments, keepLogSumExp: keepLogSumExp)
    }
    public func swiglu(gate: Tensor, up: Tensor) -> Tensor { swigluForwardReference(gate: gate, up: up) }
    public func geglu(gate: Tensor, up: Tensor) -> Tensor { gegluForwardReference(gate: gate, up: up) }
    public func softCap(_ x: Tensor, cap: Float) -> Tensor { softCapForwardReference(x, cap: cap) }
    public func softCapBackward(dOutput: Tensor, input: Tensor, cap: Float) -> Tensor {
        softCapBackwardReference(dOutput: dOutput, input: input, cap: cap)
    }
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        let x = a.floats(), y = b.floats()
        return Tensor(shape: a.shape, values: (0..<x.count).map { x[$0] + y[$0] })
    }
    public func addScaled(_ a: Tensor, _ b: Tensor, scale: Float) -> Tensor {
        let x = a.floats(), y = b.floats()
        return Tensor(shape: a.shape, values: (0..<x.count).map { x[$0] + scale * y[$0] })
    }
    public func addingLinear(_ y: consuming Tensor, _ x: Tensor, weight: Tensor, scale: Float) -> Tensor {
        addScaled(consume y, linearForwardReference(x, weight: weight, bias: nil), scale: scale)
    }
    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        let x = a.floats(), y = b.floats()
        return Tensor(shape: a.shape, values: (0..<x.count).map { x[$0] * y[$0] })
    }
    public func scale(_ a: Tensor, by scale: Float) -> Tensor { Tensor(shape: a.shape, values: a.floats().map { scale * $0 }) }
    public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor { crossEntropyForwardReference(logits: logits, targets: targets) }

    public func linearBackward(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                               biasGradient: inout Tensor?, needInputGradient: Bool, precision: MatmulPrecision) -> Tensor? {
        var noBias: Tensor? = nil
        // The bias gradient sums dy as it is; both products use the operands rounded as `precision` says.
        _ = linearBackwardReference(dOutput: dOutput, input: input, weight: weight, weightGradient: &noBias,
                                    biasGradient: &biasGradient, needInputGradient: false)
        return linearBackwardReference(dOutput: rounded(dOutput, precision), input: rounded(input, precision),
                                       weight: rounded(weight, precision), weightGradient: &weightGradient,
                                       biasGradient: &noBias, needInputGradient: needInputGradient)
    }
    public func embeddingBackward(dOutput: Tensor, ids: [Int32], tableGradient: inout Tensor) {
        let c = tableGradient.shape[1], dy = dOutput.floats()
        var table = tableGradient.floats()
        for (m, id) in ids.enumerated() { for j in 0..<c { table[Int(id) * c + j] += dy[m * c + j] } }
        tableGradient = Tensor(shape: tableGradient.shape, values: table)
    }
    public func rmsNormBackward(dOutput: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor, adding addend: Tensor?,
                                weightGradient: inout Tensor?) -> Tensor {
        let c = weight.count, m = input.count / c
        let dy = dOutput.floats().map(Double.init), x = input.floats().map(Double.init), w = weight.floats().map(Double.init)
        let rstd = inverseRMS.floats()
        var dx = [Float](repeating: 0, count: x.count), dw = weightGradient?.floats().map(Double.init)
        for i in 0..<m {
            let r = Double(rstd[i])
            var dot = 0.0
            for j in 0..<c { dot += w[j] * dy[i * c + j] * x[i * c + j] * r }
            for j in 0..<c {
                dx[i * c + j] = Float(r * (w[j] * dy[i * c + j] - x[i * c + j] * r * dot / Double(c)))
                dw?[j] += dy[i * c + j] * x[i * c + j] * r
            }
        }
        if let dw { weightGradient = Tensor(shape: weight.shape, values: dw.map(Float.init)) }
        let result = Tensor(shape: input.shape, values: dx)
        return addend.map { add(result, $0) } ?? result
    }
    public func applyRotaryBackward(_ dOutput: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
        let half = angles.cos.shape[1], d = 2 * half, m = angles.cos.shape[0]
        let dy = dOutput.floats(), c = angles.cos.floats(), s = angles.sin.floats()
        var dx = dy
        for r in 0..<m { for h in 0..<heads {
            let base = (r * heads + h) * d
            for i in 0..<half {
                let a = Double(dy[base + i]), b = Double(dy[base + i + half])
                let (cv, sv) = (Double(c[r * half + i]), Double(s[r * half + i]))
                dx[base + i] = Float(a * cv + b * sv)
                dx[base + i + half] = Float(b * cv - a * sv)
            }
        } }
        return Tensor(shape: dOutput.shape, values: dx)
    }
    public func attentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  shape: AttentionShape, segments: KeySegments?) -> AttentionGradients {
        attentionBackwardReference(dOutput: dOutput, query: query, key: key, value: value, shape: shape, segments: segments)
    }
    public func swigluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
        let dy = dOutput.floats(), g = gate.floats(), u = up.floats()
        var dg = [Float](repeating: 0, count: g.count), du = dg
        for i in g.indices {
            let z = Double(g[i]), sigmoid = 1 / (1 + Foundation.exp(-z))
            du[i] = Float(Double(dy[i]) * z * sigmoid)
            dg[i] = Float(Double(dy[i]) * Double(u[i]) * sigmoid * (1 + z * (1 - sigmoid)))
        }
        return (Tensor(shape: gate.shape, values: dg), Tensor(shape: up.shape, values: du))
    }
    public func gegluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
        let dy = dOutput.floats(), g = gate.floats(), u = up.floats()
        var dg = [Float](repeating: 0, count: g.count), du = dg
        for i in g.indices {
            // gelu(z) = ½z(1 + tanh a), a = c(z + kz³): gelu′ = ½(1 + tanh a) + ½z·sech²a·c(1 + 3kz²).
            let z = Double(g[i]), c = 0.7978845608028654, k = 0.044715
            let t = Foundation.tanh(c * (z + k * z * z * z))
            du[i] = Float(Double(dy[i]) * 0.5 * z * (1 + t))
            dg[i] = Float(Double(dy[i]) * Double(u[i]) * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * c * (1 + 3 * k * z * z)))
        }
        return (Tensor(shape: gate.shape, values: dg), Tensor(shape: up.shape, values: du))
    }
    public func crossEntropyBackward(logits: Tensor, targets: [Int32], dLoss: [Float]) -> Tensor {
        let m = targets.count, v = logits.count / max(m, 1), l = logits.floats()
        var out = [Float](repeating: 0, count: l.count)
        for r in 0..<m where targets[r] != ignoredLabel {
            let row = l[(r * v)..<((r + 1) * v)].map(Double.init)
            let maxValue = row.max() ?? 0
            let exps = row.map { Foundation.exp($0 - maxValue) }
            let sum = exps.reduce(0, +)
            for j in 0..<v { out[r * v + j] = Float(exps[j] / sum * Double(dLoss[r])) }
            out[r * v + Int(targets[r])] -= dLoss[r]
        }
        return Tensor(shape: logits.shape, values: out)
    }
    /// The whole matrix decoded, then the naive product.
    public func linear(_ x: Tensor, packedWeight: any PackedMatrix, bias: Tensor?, precision: MatmulPrecision) -> Tensor {
        linear(x, weight: packedWeight.decoded(), bias: bias, precision: precision)
    }
    public func linearInputGradient(dOutput: Tensor, packedWeight: any PackedMatrix, precision: MatmulPrecision) -> Tensor {
        var none: Tensor? = nil, noBias: Tensor? = nil
        return linearBackward(dOutput: dOutput, input: Tensor(zeros: [dOutput.count / packedWeight.shape[0], packedWeight.shape[1]]),
                              weight: packedWeight.decoded(), weightGradient: &none, biasGradient: &noBias,
                              needInputGradient: true, precision: precision) ?? Tensor(zeros: [0])
    }
    /// `x` as the product sees it: unchanged in f32, rounded to bf16 (and widened back) in bf16.
    private func rounded(_ x: Tensor, _ precision: MatmulPrecision) -> Tensor {
        precision == .bf16 ? x.converted(to: .bf16).converted(to: .f32) : x
    }
}
