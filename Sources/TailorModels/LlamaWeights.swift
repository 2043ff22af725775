// Named parameters of a Llama-family decoder. Legend: V vocab, C channels, F feed-forward, H heads, G kv heads, D head size.
import TailorFormats
import TailorQuantization
import TailorTensor

/// One decoder block's parameters (HF names in comments). q/k/v and gate/up are separate layers, or fused ones
/// (Phi-3: `qkvProj`, `gateUpProj`; the separate ones are then nil); see FusedProjections.swift.
public struct LlamaLayerWeights: Sendable {
    public var attentionNorm: Tensor   // (C)        input_layernorm.weight
    public var qProj: Linear?          // (H·D, C)   self_attn.q_proj
    public var kProj: Linear?          // (G·D, C)   self_attn.k_proj
    public var vProj: Linear?          // (G·D, C)   self_attn.v_proj
    public var oProj: Linear           // (C, H·D)   self_attn.o_proj
    public var mlpNorm: Tensor         // (C)        post_attention_layernorm.weight (Gemma: pre_feedforward_layernorm)
    public var gateProj: Linear?       // (F, C)     mlp.gate_proj
    public var upProj: Linear?         // (F, C)     mlp.up_proj
    public var downProj: Linear        // (C, F)     mlp.down_proj
    public var qNorm: Tensor? = nil    // (D)        self_attn.q_norm.weight (Qwen3)
    public var kNorm: Tensor? = nil    // (D)        self_attn.k_norm.weight (Qwen3)
    public var qkvProj: Linear? = nil  // (H·D + 2·G·D, C)  self_attn.qkv_proj (Phi-3)
    public var gateUpProj: Linear? = nil   // (2F, C)  mlp.gate_up_proj (Phi-3)
    public var postAttentionNorm: Tensor? = nil   // (C)  post_attention_layernorm.weight (Gemma: on the attention output)
    public var postMLPNorm: Tensor? = nil         // (C)  post_feedforward_layernorm.weight (Gemma: on the MLP output)

    /// The HF name (within the layer) of `mlpNorm`: Gemma's layers, which also hold post-norms, call the MLP's input
    /// norm `pre_feedforward_layernorm` and give `post_attention_layernorm` to the norm after attention.
    public var mlpNormName: String { postAttentionNorm != nil ? "pre_feedforward_layernorm" : "post_attention_layernorm" }

    /// The linear slots this layer holds, in slot order.
    public var presentLinears: [LinearSlot] { LinearSlot.allCases.filter { self[linear: $0] != nil } }

    /// The linear layer in `slot`; nil when this layer does not have it. Setting nil leaves the layer unchanged.
    public subscript(linear slot: LinearSlot) -> Linear? {
        get {
            switch slot {
            case .q: qProj
            case .k: kProj
            case .v: vProj
            case .o: oProj
            case .gate: gateProj
            case .up: upProj
            case .down: downProj
            case .qkv: qkvProj
            case .gateUp: gateUpProj
            }
        }
        set {
            guard let newValue else { return }
            switch slot {
            case .q: qProj = newValue
            case .k: kProj = newValue
            case .v: vProj = newValue
            case .o: oProj = newValue
            case .gate: gateProj = newValue
            case .up: upProj = newValue
            case .down: downProj = newValue
            case .qkv: qkvProj = newValue
            case .gateUp: gateUpProj = newValue
            }
        }
    }
}

/// All parameters of the decoder.
public struct LlamaWeights: Sendable {
    public var embedding: Tensor       // (V, C)  model.embed_tokens.weight
    public var layers: [LlamaLayerWeights]
    public var finalNorm: Tensor       // (C)     model.norm.weight
    public var lmHead: Tensor?         // (V, C)  lm_head.weight; nil when tied to the embedding
    /// Precision of the products with the output projection (forward and input gradient).
    public var outputPrecision: MatmulPrecision = .f32
    /// bf16 copy of a trained f32 output projection for bf16 products (see `refreshComputeCopies`).
    public var outputComputeCopy: Tensor?
    /// Inference only (`storeLinearLayersAsInt8`): the output projection as q8_0 blocks, which the logits are
    /// computed with in place of the dense one. When the head is tied, the input embeddings are looked up in it
    /// too and `embedding` is left empty (`[0, C]`), as llama.cpp's q8_0 files store one int8 table for both.
    /// Nothing trains it: set it only on a model that is no longer trained.
    public var outputPacked: (any PackedMatrix)?

    /// The output projection actually used (the embedding when tied).
    public var outputProjection: Tensor { lmHead ?? embedding }
    /// What the output products read: the bf16 copy when there is one.
    public var outputProductWeight: Tensor { outputComputeCopy ?? outputProjection }

    /// Rounds trained f32 weights that take part in bf16 products into bf16 copies, once, so that the products do
    /// not round them at every call. Call after every change of the weights (each optimizer step, a restore).
    /// The copies are not packed into oneDNN's blocked layout: a copy made every step is read about once per
    /// micro-batch, so packing it saves nothing and its packed twin only adds memory (measured: +8% peak RSS in full
    /// fine-tuning, no speed-up).
    public mutating func refreshComputeCopies() {
        func copy(_ weight: Tensor) -> Tensor {
            let rounded = weight.converted(to: .bf16)
            rounded.storage.refuseDerived()
            return rounded
        }
        outputComputeCopy = outputPrecision == .bf16 && outputProjection.dtype != .bf16 ? copy(outputProjection) : nil
        updateEachLinear { linear in
            linear.computeCopy = linear.precision == .bf16 && linear.packed == nil && linear.weight.dtype != .bf16
                ? copy(linear.weight) : nil
        }
    }

    /// Runs the products with the base weights — every decoder linear layer and the output head — in `precision`.
    /// With bf16 and `storeFrozenAsBF16`, dense base weights and the embedding are also stored as bf16 (half the
    /// memory); only do that when they are frozen (LoRA, QLoRA). Adapters, norms and gradients stay f32.
    public mutating func setMatmulPrecision(_ precision: MatmulPrecision, storeFrozenAsBF16: Bool) {
        outputPrecision = precision
        let store = precision == .bf16 && storeFrozenAsBF16
        if store {
            embedding = embedding.converted(to: .bf16)
            lmHead = lmHead?.converted(to: .bf16)
        }
        updateEachLinear { linear in
            linear.precision = precision
            if store && linear.packed == nil { linear.weight = linear.weight.converted(to: .bf16) }
        }
    }

    /// Calls `body` on every decoder linear layer of every block, in place.
    public mutating func updateEachLinear(_ body: (inout Linear) throws -> Void) rethrows {
        for l in layers.indices {
            for slot in LinearSlot.allCases {
                guard var linear = layers[l][linear: slot] else { continue }
                try body(&linear)
                layers[l][linear: slot] = linear
            }
        }
    }

    /// Picks the parameters out of HF-named tensors, checking every name, shape and dtype.
    /// `source` names the checkpoint in errors.
    public init(configuration: ModelConfig, tensors: [String: Tensor], source: String) throws {
        var expected: [String: [Int]] = [:]
        for (name, shape) in configuration.expectedTensorShapes() { expected[name] = shape }
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
            func linear(_ slot: LinearSlot, bias: Bool) throws -> Linear {
                let prefix = p + slot.moduleName
                if tensors.keys.contains(where: { $0.hasPrefix(prefix + ".weight.quant_state.") }) {
                    // A bitsandbytes 4-bit layer (a folder written by `tailor quantize` or transformers).
                    let packed = try QuantizedFourBitMatrix(stateDict: tensors, prefix: prefix)
                    let expected = expected[prefix + ".weight"] ?? packed.shape
                    guard packed.shape == expected else {
                        throw ModelError.shapeMismatch(name: prefix + ".weight", expected: expected, found: packed.shape, source: source)
                    }
                    return Linear(packed: packed, bias: try takeIf(bias, prefix + ".bias"))
                }
                return Linear(weight: try take(prefix + ".weight"), bias: try takeIf(bias, prefix + ".bias"))
            }
            let fused = c.fusedProjections
            func separate(_ slot: LinearSlot, bias: Bool) throws -> Linear? { fused ? nil : try linear(slot, bias: bias) }
            return LlamaLayerWeights(
                attentionNorm: try take(p + "input_layernorm.weight"),
                qProj: try separate(.q, bias: c.qkvBias), kProj: try separate(.k, bias: c.qkvBias),
                vProj: try separate(.v, bias: c.qkvBias), oProj: try linear(.o, bias: c.outputBias),
                mlpNorm: try take(p + c.mlpNormName + ".weight"),
                gateProj: try separate(.gate, bias: c.mlpBias), upProj: try separate(.up, bias: c.mlpBias),
                downProj: try linear(.down, bias: c.mlpBias),
                qNorm: try takeIf(c.qkNorm, p + "self_attn.q_norm.weight"), kNorm: try takeIf(c.qkNorm, p + "self_attn.k_norm.weight"),
                qkvProj: fused ? try linear(.qkv, bias: false) : nil,
                gateUpProj: fused ? try linear(.gateUp, bias: false) : nil,
                postAttentionNorm: try takeIf(c.postNorms, p + "post_attention_layernorm.weight"),
                postMLPNorm: try takeIf(c.postNorms, p + "post_feedforward_layernorm.weight"))
        }
        finalNorm = try take("model.norm.weight")
        lmHead = c.tieWordEmbeddings ? nil : try take("lm_head.weight")
    }

    /// Bytes held by the parameters as stored (adapters included).
    public var byteCount: Int {
        var total = embedding.byteCount + finalNorm.byteCount + (lmHead?.byteCount ?? 0)
        for layer in layers {
            total += layer.attentionNorm.byteCount + layer.mlpNorm.byteCount + (layer.qNorm?.byteCount ?? 0) + (layer.kNorm?.byteCount ?? 0)
                + (layer.postAttentionNorm?.byteCount ?? 0) + (layer.postMLPNorm?.byteCount ?? 0)
            for slot in layer.presentLinears {
                guard let l = layer[linear: slot] else { continue }
                total += l.weightByteCount + (l.bias?.byteCount ?? 0) + (l.lora.map { $0.a.byteCount + $0.b.byteCount } ?? 0)
            }
        }
        return total
    }
}
