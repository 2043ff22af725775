// The tensors a configuration requires, with Hugging Face names and row-major shapes.

extension ModelConfig {
    /// Every tensor a checkpoint for this configuration must contain, with its `[out, in]` shape
    /// (`lm_head.weight` only when embeddings are not tied).
    public func expectedTensorShapes() -> [(name: String, shape: [Int])] {
        let c = hiddenSize, q = headCount * headDim, kv = kvHeadCount * headDim, i = intermediateSize
        var out: [(name: String, shape: [Int])] = [("model.embed_tokens.weight", [vocabSize, c])]
        for l in 0..<layerCount {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", [c]))
            if fusedProjections {
                out.append((p + "self_attn.qkv_proj.weight", [q + 2 * kv, c]))
            } else {
                out.append((p + "self_attn.q_proj.weight", [q, c]))
                out.append((p + "self_attn.k_proj.weight", [kv, c]))
                out.append((p + "self_attn.v_proj.weight", [kv, c]))
            }
            out.append((p + "self_attn.o_proj.weight", [c, q]))
            if qkvBias {
                out.append((p + "self_attn.q_proj.bias", [q]))
                out.append((p + "self_attn.k_proj.bias", [kv]))
                out.append((p + "self_attn.v_proj.bias", [kv]))
            }
            if outputBias { out.append((p + "self_attn.o_proj.bias", [c])) }
            if qkNorm {
                out.append((p + "self_attn.q_norm.weight", [headDim]))
                out.append((p + "self_attn.k_norm.weight", [headDim]))
            }
            out.append((p + mlpNormName + ".weight", [c]))
            if postNorms {
                out.append((p + "post_attention_layernorm.weight", [c]))
                out.append((p + "post_feedforward_layernorm.weight", [c]))
            }
            if fusedProjections {
                out.append((p + "mlp.gate_up_proj.weight", [2 * i, c]))
            } else {
                out.append((p + "mlp.gate_proj.weight", [i, c]))
                out.append((p + "mlp.up_proj.weight", [i, c]))
            }
            out.append((p + "mlp.down_proj.weight", [c, i]))
            if mlpBias {
                out.append((p + "mlp.gate_proj.bias", [i]))
                out.append((p + "mlp.up_proj.bias", [i]))
                out.append((p + "mlp.down_proj.bias", [c]))
            }
        }
        out.append(("model.norm.weight", [c]))
        if !tieWordEmbeddings { out.append(("lm_head.weight", [vocabSize, c])) }
        return out
    }

    /// Positions the model was trained for (`max_position_embeddings`): prompts plus new tokens must fit.
    public var contextLength: Int { max(1, maxPositionEmbeddings) }

    /// Number of parameters (a tied head counted once), as transformers' `num_parameters()`.
    public var parameterCount: Int { expectedTensorShapes().reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Throws `missingTensor` or `shapeMismatch` (naming the tensor, expected and found shape) unless `shapes`
    /// holds every expected tensor with its expected shape.
    public func checkTensors(_ shapes: [String: [Int]], path: String) throws {
        // A bitsandbytes 4-bit layer stores `P.weight` packed ([bytes, 1]) beside `P.weight.quant_state.bitsandbytes__*`;
        // its shape is checked when the quant state is decoded.
        let packed = Set(shapes.keys.compactMap { name -> String? in
            guard let range = name.range(of: ".quant_state.bitsandbytes__") else { return nil }
            return String(name[..<range.lowerBound])
        })
        for (name, shape) in expectedTensorShapes() {
            guard let found = shapes[name] else { throw FormatError.missingTensor(path: path, tensor: name) }
            guard found == shape || packed.contains(name) else {
                throw FormatError.shapeMismatch(path: path, tensor: name, expected: shape, found: found)
            }
        }
    }
}
