// Named parameters of a Llama-family decoder. Legend: V vocab, C channels, F feed-forward, H heads, G kv heads, D head size.
import TailorTensor

/// One decoder block's parameters (HF names in comments).
public struct LlamaLayerWeights: Sendable {
    public var attentionNorm: Tensor   // (C)        input_layernorm.weight
    public var qProj: Tensor           // (H·D, C)   self_attn.q_proj.weight
    public var qBias: Tensor?          // (H·D)
    public var kProj: Tensor           // (G·D, C)
    public var kBias: Tensor?          // (G·D)
    public var vProj: Tensor           // (G·D, C)
    public var vBias: Tensor?          // (G·D)
    public var oProj: Tensor           // (C, H·D)
    public var oBias: Tensor?          // (C)
    public var mlpNorm: Tensor         // (C)        post_attention_layernorm.weight
    public var gateProj: Tensor        // (F, C)
    public var gateBias: Tensor?       // (F)
    public var upProj: Tensor          // (F, C)
    public var upBias: Tensor?         // (F)
    public var downProj: Tensor        // (C, F)
    public var downBias: Tensor?       // (C)
}

/// All parameters of the decoder.
public struct LlamaWeights: Sendable {
    public var embedding: Tensor       // (V, C)  model.embed_tokens.weight
    public var layers: [LlamaLayerWeights]
    public var finalNorm: Tensor       // (C)     model.norm.weight
    public var lmHead: Tensor?         // (V, C)  lm_head.weight; nil when tied to the embedding

    /// The output projection actually used (the embedding when tied).
    public var outputProjection: Tensor { lmHead ?? embedding }

    /// Picks the parameters out of HF-named tensors, checking every name, shape and dtype.
    /// `source` names the checkpoint in errors.
    public init(configuration: LlamaConfiguration, tensors: [String: Tensor], source: String) throws {
        var expected: [String: [Int]] = [:]
        for (name, shape) in configuration.parameterShapes { expected[name] = shape }
        func take(_ name: String) throws -> Tensor {
            guard let tensor = tensors[name] else { throw ModelError.missingTensor(name: name, source: source) }
            let shape = expected[name] ?? tensor.shape
            guard tensor.shape == shape else {
                throw ModelError.shapeMismatch(name: name, expected: shape, found: tensor.shape, source: source)
            }
            guard [.f32, .bf16, .f16].contains(tensor.dtype) else {
                throw ModelError.unsupportedDType(name: name, dtype: tensor.dtype.rawValue, source: source)
            }
            // Small vectors are read often and by scalar loops: keep them in f32.
            return tensor.rank == 1 ? tensor.converted(to: .f32) : tensor
        }
        func takeIf(_ present: Bool, _ name: String) throws -> Tensor? { present ? try take(name) : nil }
        let c = configuration
        embedding = try take("model.embed_tokens.weight")
        layers = try (0..<c.layerCount).map { l in
            let p = "model.layers.\(l)."
            return LlamaLayerWeights(
                attentionNorm: try take(p + "input_layernorm.weight"),
                qProj: try take(p + "self_attn.q_proj.weight"), qBias: try takeIf(c.qkvBias, p + "self_attn.q_proj.bias"),
                kProj: try take(p + "self_attn.k_proj.weight"), kBias: try takeIf(c.qkvBias, p + "self_attn.k_proj.bias"),
                vProj: try take(p + "self_attn.v_proj.weight"), vBias: try takeIf(c.qkvBias, p + "self_attn.v_proj.bias"),
                oProj: try take(p + "self_attn.o_proj.weight"), oBias: try takeIf(c.outputBias, p + "self_attn.o_proj.bias"),
                mlpNorm: try take(p + "post_attention_layernorm.weight"),
                gateProj: try take(p + "mlp.gate_proj.weight"), gateBias: try takeIf(c.mlpBias, p + "mlp.gate_proj.bias"),
                upProj: try take(p + "mlp.up_proj.weight"), upBias: try takeIf(c.mlpBias, p + "mlp.up_proj.bias"),
                downProj: try take(p + "mlp.down_proj.weight"), downBias: try takeIf(c.mlpBias, p + "mlp.down_proj.bias"))
        }
        finalNorm = try take("model.norm.weight")
        lmHead = c.tieWordEmbeddings ? nil : try take("lm_head.weight")
    }

    /// Bytes held by the parameters as stored.
    public var byteCount: Int {
        var total = embedding.byteCount + finalNorm.byteCount + (lmHead?.byteCount ?? 0)
        for l in layers {
            for t in [l.attentionNorm, l.qProj, l.kProj, l.vProj, l.oProj, l.mlpNorm, l.gateProj, l.upProj, l.downProj] {
                total += t.byteCount
            }
            for t in [l.qBias, l.kBias, l.vBias, l.oBias, l.gateBias, l.upBias, l.downBias] { total += t?.byteCount ?? 0 }
        }
        return total
    }
}
