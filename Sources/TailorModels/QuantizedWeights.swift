// QLoRA's base: every decoder linear layer quantized to 4-bit NF4 (bitsandbytes layout), embeddings, norms and the
// output head kept in f32 (what prepare_model_for_kbit_training leaves trainable-precision).
import TailorKernels
import TailorQuantization
import TailorTensor

extension LlamaWeights {
    /// Quantizes the weight of every decoder linear layer with `quantizer`, freeing its dense copy; embeddings,
    /// norms and the head become f32.
    public mutating func quantizeLinearLayers(with quantizer: FourBitQuantizer) throws {
        embedding = embedding.converted(to: .f32)
        lmHead = lmHead?.converted(to: .f32)
        try updateEachLinear { linear in
            guard linear.packed == nil else { return }
            var quantized = Linear(packed: try quantizer.quantize(linear.weight), bias: linear.bias)
            quantized.lora = linear.lora
            linear = quantized
        }
    }

    /// The quantized layers as bitsandbytes' state dict (`….weight`, `….weight.absmax`, `….weight.quant_state.…`),
    /// the other tensors under their own names, as transformers saves a 4-bit model.
    public func quantizedStateDict(otherDType: DType) -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = [("model.embed_tokens.weight", embedding.converted(to: otherDType)),
                                        ("model.norm.weight", finalNorm.converted(to: otherDType))]
        if let lmHead { out.append(("lm_head.weight", lmHead.converted(to: otherDType))) }
        for (l, layer) in layers.enumerated() {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", layer.attentionNorm.converted(to: otherDType)))
            out.append((p + layer.mlpNormName + ".weight", layer.mlpNorm.converted(to: otherDType)))
            if let norm = layer.postAttentionNorm { out.append((p + "post_attention_layernorm.weight", norm.converted(to: otherDType))) }
            if let norm = layer.postMLPNorm { out.append((p + "post_feedforward_layernorm.weight", norm.converted(to: otherDType))) }
            if let qNorm = layer.qNorm { out.append((p + "self_attn.q_norm.weight", qNorm.converted(to: otherDType))) }
            if let kNorm = layer.kNorm { out.append((p + "self_attn.k_norm.weight", kNorm.converted(to: otherDType))) }
            for slot in layer.presentLinears {
                guard let linear = layer[linear: slot] else { continue }
                let name = slot.moduleName
                if let q = linear.packed as? QuantizedFourBitMatrix {
                    out += q.stateDictTensors(prefix: p + name).map { ($0.name, $0.tensor) }
                } else {
                    out.append((p + name + ".weight", linear.weight.converted(to: otherDType)))
                }
                if let bias = linear.bias { out.append((p + name + ".bias", bias.converted(to: otherDType))) }
            }
        }
        return out
    }
}

extension LlamaWeights {
    /// Inference with int8 weights: every decoder linear layer whose input width is a multiple of 32, and the output
    /// head, are quantized to q8_0 blocks (`Int8BlockMatrix`, from the weights as loaded), as in llama.cpp's q8_0
    /// files; a tied embedding is then looked up in the int8 head (`outputPacked`), an untied one stays bf16, and
    /// layers whose input width is not a multiple of 32 are stored and multiplied in bf16. Adapters stay f32.
    public mutating func storeLinearLayersAsInt8() {
        outputPacked = try? Int8BlockMatrix(quantizing: outputProjection)
        if lmHead == nil, outputPacked != nil {
            embedding = Tensor(uninitialized: [0, embedding.shape[1]], dtype: .bf16)
        }
        updateEachLinear { linear in
            guard linear.packed == nil, let int8 = try? Int8BlockMatrix(quantizing: linear.weight) else { return }
            var quantized = Linear(packed: int8, bias: linear.bias)
            quantized.lora = linear.lora
            linear = quantized
        }
        setMatmulPrecision(.bf16, storeFrozenAsBF16: true)
    }
}
