// The Llama-family decoder (Llama 2/3, Mistral, Qwen2/3, Phi-3, SmolLM): forward pass for scoring and generation; its block is
// LlamaBlock.swift.
// Legend: B batch, T new tokens, M = B·T rows, C channels, F feed-forward, V vocab, H/G query/kv heads, D head size.
import TailorFormats
import TailorTensor

/// A Llama-family causal language model held in memory.
public struct LlamaModel: Sendable {
    public let configuration: ModelConfig
    public var weights: LlamaWeights
    /// RoPE inverse frequencies, D/2 values (LongRoPE: the short set).
    public let inverseFrequencies: [Float]
    /// LongRoPE's long set, used by calls whose positions reach past `original_max_position_embeddings`.
    public let longInverseFrequencies: [Float]?

    public init(configuration: ModelConfig, weights: LlamaWeights) {
        self.configuration = configuration
        self.weights = weights
        inverseFrequencies = RotaryFrequencies.inverseFrequencies(
            base: configuration.ropeTheta, headDim: configuration.headDim, scaling: configuration.ropeScaling)
        longInverseFrequencies = RotaryFrequencies.longInverseFrequencies(
            base: configuration.ropeTheta, headDim: configuration.headDim, scaling: configuration.ropeScaling)
    }

    /// cos and sin of every position's RoPE angles. LongRoPE, as transformers: the long factors when the call's
    /// largest position + 1 exceeds `original_max_position_embeddings`, and cos/sin scaled by the attention factor.
    public func rotaryAngles(positions: [Int32], backend: any Backend) -> RotaryAngles {
        var frequencies = inverseFrequencies
        if let long = longInverseFrequencies, case .longRoPE(_, _, let original, _, _) = configuration.ropeScaling,
           let last = positions.max(), Int(last) + 1 > original {
            frequencies = long
        }
        let angles = backend.rotaryAngles(positions: positions, inverseFrequencies: frequencies)
        let scaling = Float(configuration.ropeAttentionScaling)
        guard scaling != 1 else { return angles }
        return RotaryAngles(cos: backend.scale(angles.cos, by: scaling), sin: backend.scale(angles.sin, by: scaling))
    }

    /// Logits `[B·T, V]` for `tokens` (`B·T` ids, row-major).
    ///
    /// - Parameters:
    ///   - positions: position id of every token; default `cache.length + t` (0-based) per row.
    ///   - segments: sample id of every token (`[B·T]`, -1 marks padding); default: all one sample.
    ///   - cache: keys and values of earlier tokens; the new ones are appended.
    public func forward(tokens: [Int32], batch: Int, positions: [Int32]? = nil, segments: [Int32]? = nil,
                        cache: inout KVCache?, backend: any Backend) -> Tensor {
        head(finalHidden(tokens: tokens, batch: batch, positions: positions, segments: segments, cache: &cache, backend: backend), backend: backend)
    }

    /// The final norm's output `[B·T, C]` (see `forward`).
    public func finalHidden(tokens: [Int32], batch: Int, positions: [Int32]? = nil, segments: [Int32]? = nil,
                            cache: inout KVCache?, backend: any Backend) -> Tensor {
        let t = tokens.count / batch
        let past = cache?.length ?? 0
        let positions = positions ?? (0..<batch).flatMap { _ in (0..<t).map { Int32(past + $0) } }
        let newSegments = segments ?? [Int32](repeating: 0, count: tokens.count)
        let angles = rotaryAngles(positions: positions, backend: backend)
        let localAngles = localRotaryAngles(positions: positions, backend: backend)

        var h = embed(tokens, backend: backend)                                          // (M, C)
        for l in weights.layers.indices {
            h = blockForward(l, h, angles: layerAngles(l, global: angles, local: localAngles), backend: backend, project: { _, linears, x in Linear.forward(linears, x, backend: backend) },
                             attend: { l, q, k, v in
                guard var kv = cache else {
                    let shape = selfAttentionShape(layer: l, batch: batch, length: t)
                    return backend.attention(query: q, key: k, value: v, shape: shape, segments: segments, keepLogSumExp: false)
                }
                cache = nil   // keep `kv` the only reference so appending does not copy the cache
                let attended = attendCached(l, q: q, k: k, v: v, count: t, cache: &kv, newSegments: newSegments, backend: backend)
                cache = kv
                return attended
            }).output
        }
        cache?.advance(count: t, segments: newSegments)
        return norm(h, weights.finalNorm, backend: backend).output   // (M, C)
    }

    /// Logits without a cache.
    public func forward(tokens: [Int32], batch: Int, positions: [Int32]? = nil, segments: [Int32]? = nil,
                        backend: any Backend) -> Tensor {
        head(finalHidden(tokens: tokens, batch: batch, positions: positions, segments: segments, backend: backend), backend: backend)
    }

    /// The final norm's output `[B·T, C]` without a cache: what the head turns into logits (callers that need the
    /// logits of a few positions only pick those rows first).
    public func finalHidden(tokens: [Int32], batch: Int, positions: [Int32]? = nil, segments: [Int32]? = nil,
                            backend: any Backend) -> Tensor {
        var none: KVCache? = nil
        return finalHidden(tokens: tokens, batch: batch, positions: positions, segments: segments, cache: &none, backend: backend)
    }

    /// Logits `[M, V]` of final hidden states `[M, C]` (Gemma 2: soft-capped).
    public func head(_ normed: Tensor, backend: any Backend) -> Tensor { logits(normed, backend: backend) }

    /// A prompt's prefill: `batch` rows of `tokens` through the model (appended to `cache` as `forward` does), and
    /// the logits `[batch, V]` of each row's last position only, all that the first new token needs (the head over
    /// every position is a fifth of a small model's prefill: SmolLM2's 49,152 × 576).
    public func lastPositionLogits(tokens: [Int32], batch: Int, positions: [Int32]? = nil, segments: [Int32]? = nil,
                                   cache: inout KVCache?, backend: any Backend) -> Tensor {
        let hidden = finalHidden(tokens: tokens, batch: batch, positions: positions, segments: segments, cache: &cache,
                                 backend: backend)
        let t = tokens.count / batch
        return head(Tensor(concatenatingRows: (1...batch).map { hidden.rows(($0 * t - 1)..<($0 * t)) }), backend: backend)
    }
}

extension KVCache {
    /// The cache's segments with the `count` new positions filled in, as attention needs them.
    func segmentsIncluding(_ newSegments: [Int32], count: Int) -> [Int32] {
        var all = segments
        for b in 0..<batch {
            for t in 0..<count { all[b * capacity + length + t] = newSegments[b * count + t] }
        }
        return all
    }
}
