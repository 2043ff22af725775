// The Llama-family decoder (Llama 2/3, Mistral, Qwen2, SmolLM): forward pass for scoring and generation.
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
        let c = configuration, t = tokens.count / batch
        let past = cache?.length ?? 0
        let positions = positions ?? (0..<batch).flatMap { _ in (0..<t).map { Int32(past + $0) } }
        let newSegments = segments ?? [Int32](repeating: 0, count: tokens.count)
        let angles = rotaryAngles(positions: positions, backend: backend)

        var h = backend.embedding(ids: tokens, table: weights.embedding)                 // (M, C)
        for (l, w) in weights.layers.enumerated() {
            let x = backend.rmsNorm(h, weight: w.attentionNorm, eps: Float(c.rmsNormEps)).output   // (M, C)
            let eps = Float(c.rmsNormEps)
            let (qRaw, kRaw, v) = w.queryKeyValue(x, configuration: c) { _, linear, x in linear.forward(x, backend: backend) }
            let q = backend.applyRotary(headNormForward(qRaw, weight: w.qNorm, heads: c.headCount, eps: eps, backend: backend).output,
                                        heads: c.headCount, angles: angles)      // (M, H·D)
            let k = backend.applyRotary(headNormForward(kRaw, weight: w.kNorm, heads: c.kvHeadCount, eps: eps, backend: backend).output,
                                        heads: c.kvHeadCount, angles: angles)    // (M, G·D); v (M, G·D)
            let attended: Tensor
            if var kv = cache {
                cache = nil   // keep `kv` the only reference so appending does not copy the cache
                kv.append(layer: l, keys: k, values: v, count: t)
                let shape = AttentionShape(batch: batch, queryLength: t, keyLength: past + t, keyCapacity: kv.capacity,
                                           heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, queryOffset: past,
                                           slidingWindow: c.slidingWindow(layer: l))
                attended = backend.attention(query: q, key: kv.keys[l], value: kv.values[l], shape: shape,
                                             segments: kv.segmentsIncluding(newSegments, count: t),
                                             keepLogSumExp: false).output
                cache = kv
            } else {
                let shape = AttentionShape(batch: batch, queryLength: t, keyLength: t, heads: c.headCount,
                                           kvHeads: c.kvHeadCount, headDim: c.headDim, slidingWindow: c.slidingWindow(layer: l))
                attended = backend.attention(query: q, key: k, value: v, shape: shape,
                                             segments: segments, keepLogSumExp: false).output
            }
            h = backend.add(h, w.oProj.forward(attended, backend: backend))
            let y = backend.rmsNorm(h, weight: w.mlpNorm, eps: Float(c.rmsNormEps)).output
            let (gate, up) = w.gateAndUp(y) { _, linear, y in linear.forward(y, backend: backend) }
            let gated = backend.swiglu(gate: gate, up: up)   // (M, F)
            h = backend.add(h, w.downProj.forward(gated, backend: backend))
        }
        cache?.advance(count: t, segments: newSegments)
        return backend.rmsNorm(h, weight: weights.finalNorm, eps: Float(c.rmsNormEps)).output   // (M, C)
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

    /// Logits `[M, V]` of final hidden states `[M, C]`.
    public func head(_ normed: Tensor, backend: any Backend) -> Tensor {
        backend.linear(normed, weight: weights.outputProductWeight, bias: nil, precision: weights.outputPrecision)
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
