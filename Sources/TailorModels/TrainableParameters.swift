// Naming and moving the trainable tensors of a model (for the optimizer, checkpoints and gradient reports).
import TailorTensor

/// One tensor of the model, addressable in weights and gradients alike.
public enum ParameterSlot: Sendable, Hashable {
    case embedding, finalNorm, lmHead
    case attentionNorm(layer: Int), mlpNorm(layer: Int), qNorm(layer: Int), kNorm(layer: Int)
    case postAttentionNorm(layer: Int), postMLPNorm(layer: Int)
    case weight(layer: Int, linear: LinearSlot), bias(layer: Int, linear: LinearSlot)
    case loraA(layer: Int, linear: LinearSlot), loraB(layer: Int, linear: LinearSlot)
}

extension LlamaWeights {
    /// The trainable tensors with their checkpoint names (HF names for full fine-tuning, PEFT names for LoRA),
    /// in a fixed order.
    public func trainableSlots(fullFineTuning: Bool) -> [(name: String, slot: ParameterSlot)] {
        var slots: [(String, ParameterSlot)] = []
        if fullFineTuning { slots.append(("model.embed_tokens.weight", .embedding)) }
        for (l, layer) in layers.enumerated() {
            let p = "model.layers.\(l)."
            for slot in layer.presentLinears {
                guard let linear = layer[linear: slot] else { continue }
                let name = slot.moduleName
                if fullFineTuning {
                    slots.append((p + name + ".weight", .weight(layer: l, linear: slot)))
                    if linear.bias != nil { slots.append((p + name + ".bias", .bias(layer: l, linear: slot))) }
                } else if linear.lora != nil {
                    slots.append(("base_model.model." + p + name + ".lora_A.weight", .loraA(layer: l, linear: slot)))
                    slots.append(("base_model.model." + p + name + ".lora_B.weight", .loraB(layer: l, linear: slot)))
                }
            }
            if fullFineTuning {
                slots.append((p + "input_layernorm.weight", .attentionNorm(layer: l)))
                slots.append((p + layer.mlpNormName + ".weight", .mlpNorm(layer: l)))
                if layer.qNorm != nil { slots.append((p + "self_attn.q_norm.weight", .qNorm(layer: l))) }
                if layer.kNorm != nil { slots.append((p + "self_attn.k_norm.weight", .kNorm(layer: l))) }
                if layer.postAttentionNorm != nil { slots.append((p + "post_attention_layernorm.weight", .postAttentionNorm(layer: l))) }
                if layer.postMLPNorm != nil { slots.append((p + "post_feedforward_layernorm.weight", .postMLPNorm(layer: l))) }
            }
        }
        if fullFineTuning {
            slots.append(("model.norm.weight", .finalNorm))
            if lmHead != nil { slots.append(("lm_head.weight", .lmHead)) }
        }
        return slots
    }

    /// The tensor in `slot`, or nil when the model has none there.
    public subscript(slot: ParameterSlot) -> Tensor? {
        get {
            switch slot {
            case .embedding: embedding
            case .finalNorm: finalNorm
            case .lmHead: lmHead
            case .attentionNorm(let l): layers[l].attentionNorm
            case .mlpNorm(let l): layers[l].mlpNorm
            case .qNorm(let l): layers[l].qNorm
            case .kNorm(let l): layers[l].kNorm
            case .postAttentionNorm(let l): layers[l].postAttentionNorm
            case .postMLPNorm(let l): layers[l].postMLPNorm
            case .weight(let l, let n): layers[l][linear: n]?.weight
            case .bias(let l, let n): layers[l][linear: n]?.bias
            case .loraA(let l, let n): layers[l][linear: n]?.lora?.a
            case .loraB(let l, let n): layers[l][linear: n]?.lora?.b
            }
        }
        set {
            guard let newValue else { return }
            switch slot {
            case .embedding: embedding = newValue
            case .finalNorm: finalNorm = newValue
            case .lmHead: lmHead = newValue
            case .attentionNorm(let l): layers[l].attentionNorm = newValue
            case .mlpNorm(let l): layers[l].mlpNorm = newValue
            case .qNorm(let l): layers[l].qNorm = newValue
            case .kNorm(let l): layers[l].kNorm = newValue
            case .postAttentionNorm(let l): layers[l].postAttentionNorm = newValue
            case .postMLPNorm(let l): layers[l].postMLPNorm = newValue
            case .weight(let l, let n): layers[l][linear: n]?.weight = newValue
            case .bias(let l, let n): layers[l][linear: n]?.bias = newValue
            case .loraA(let l, let n): layers[l][linear: n]?.lora?.a = newValue
            case .loraB(let l, let n): layers[l][linear: n]?.lora?.b = newValue
            }
        }
    }

    /// Moves the tensors of `slots` out (leaving empty placeholders), runs `body` on them, and moves them back:
    /// the optimizer then owns the only reference and updates them in place without copying.
    public mutating func withParameters<R>(_ slots: [ParameterSlot], _ body: (inout [Tensor]) throws -> R) rethrows -> R {
        var tensors = slots.map { self[$0] ?? Tensor(zeros: [0]) }
        for slot in slots { self[slot] = Tensor(zeros: [0]) }
        defer { for (slot, tensor) in zip(slots, tensors) { self[slot] = tensor } }
        return try body(&tensors)
    }
}

extension LlamaGradients {
    /// The gradient in `slot` (nil when that tensor is frozen). With tied embeddings the head's gradient is the
    /// embedding's.
    public subscript(slot: ParameterSlot) -> Tensor? {
        switch slot {
        case .embedding: embedding
        case .finalNorm: finalNorm
        case .lmHead: lmHead
        case .attentionNorm(let l), .mlpNorm(let l), .qNorm(let l), .kNorm(let l), .postAttentionNorm(let l), .postMLPNorm(let l),
             .weight(let l, _), .bias(let l, _), .loraA(let l, _), .loraB(let l, _):
            layers[l][slot]
        }
    }
}

extension LlamaLayerGradients {
    /// The gradient in `slot` when it belongs to this block (its layer index is not checked); nil otherwise.
    public subscript(slot: ParameterSlot) -> Tensor? {
        switch slot {
        case .embedding, .finalNorm, .lmHead: nil
        case .attentionNorm: attentionNorm
        case .mlpNorm: mlpNorm
        case .qNorm: qNorm
        case .kNorm: kNorm
        case .postAttentionNorm: postAttentionNorm
        case .postMLPNorm: postMLPNorm
        case .weight(_, let n): linears[n]?.weight
        case .bias(_, let n): linears[n]?.bias
        case .loraA(_, let n): linears[n]?.loraA
        case .loraB(_, let n): linears[n]?.loraB
        }
    }
}

extension ParameterSlot {
    /// The decoder block the tensor belongs to; nil for the embedding, final norm and head.
    public var layer: Int? {
        switch self {
        case .embedding, .finalNorm, .lmHead: nil
        case .attentionNorm(let l), .mlpNorm(let l), .qNorm(let l), .kNorm(let l), .postAttentionNorm(let l), .postMLPNorm(let l),
             .weight(let l, _), .bias(let l, _), .loraA(let l, _), .loraB(let l, _): l
        }
    }
}
