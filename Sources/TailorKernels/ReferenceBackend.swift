// The naive backend: straightforward loops with f64 accumulation. Slow; the oracle the fast kernels are tested against.
import TailorTensor

/// Runs every op with the simplest loops and f64 sums. Use it in tests, never for real work.
public struct ReferenceBackend: Backend {
    public init() {}
    public var name: String { "reference" }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor { linearForwardReference(x, weight: weight, bias: bias) }
    public func embedding(ids: [Int32], table: Tensor) -> Tensor {
        let c = table.shape[1], values = table.floats()
        return Tensor(shape: [ids.count, c], values: ids.flatMap { values[(Int($0) * c)..<(Int($0) * c + c)] })
    }
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput { rmsNormForwardReference(x, weight: weight, eps: eps) }
    public func rotaryAngles(positions: [Int32], inverseFrequencies: [Float]) -> RotaryAngles {
        rotaryAnglesForward(positions: positions, inverseFrequencies: inverseFrequencies)
    }
    public func applyRotary(_ x: Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
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
                          keepProbabilities: Bool) -> AttentionOutput {
        attentionForwardReference(query: query, key: key, value: value, shape: shape, segments: segments, keepProbabilities: keepProbabilities)
    }
    public func swiglu(gate: Tensor, up: Tensor) -> Tensor { swigluForwardReference(gate: gate, up: up) }
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        let x = a.floats(), y = b.floats()
        return Tensor(shape: a.shape, values: (0..<x.count).map { x[$0] + y[$0] })
    }
    public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor { crossEntropyForwardReference(logits: logits, targets: targets) }
}
