// The CPU backend: BLAS for matrix products, parallel Swift loops for everything else.
import TailorTensor

/// Runs ops on the CPU cores: matrix products through BLAS, the rest in loops split over the cores.
public struct CPUBackend: Backend {
    public init() {}
    public var name: String { "cpu" }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor { linearForward(x, weight: weight, bias: bias) }
    public func embedding(ids: [Int32], table: Tensor) -> Tensor { embeddingForward(ids: ids, table: table) }
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput { rmsNormForward(x, weight: weight, eps: eps) }
    public func rotaryAngles(positions: [Int32], inverseFrequencies: [Float]) -> RotaryAngles {
        rotaryAnglesForward(positions: positions, inverseFrequencies: inverseFrequencies)
    }
    public func applyRotary(_ x: Tensor, heads: Int, angles: RotaryAngles) -> Tensor { applyRotaryForward(x, heads: heads, angles: angles) }
    public func attention(query: Tensor, key: Tensor, value: Tensor, shape: AttentionShape, segments: KeySegments?,
                          keepProbabilities: Bool) -> AttentionOutput {
        attentionForward(query: query, key: key, value: value, shape: shape, segments: segments, keepProbabilities: keepProbabilities)
    }
    public func swiglu(gate: Tensor, up: Tensor) -> Tensor { swigluForward(gate: gate, up: up) }
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { addForward(a, b) }
    public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor { crossEntropyForward(logits: logits, targets: targets) }
}
