// A merged (dense) model as a GGUF v3 file llama.cpp loads (spec §4): llama/qwen2 metadata keys, tokenizer keys,
// HF → GGUF tensor names, the llama Q/K row permutation, 1-D tensors and norms in F32, the tied head omitted.
import Foundation
import TailorFormats
import TailorModels
import TailorTensor

/// Writing model GGUF files.
public enum GGUFExport {
    /// The storage type of 2-D weights and general.file_type for each export type.
    static func layout(_ precision: ExportPrecision) -> (type: GGMLType, fileType: UInt32) {
        switch precision {
        case .f32: (.F32, 0)
        case .f16: (.F16, 1)
        case .bf16: (.BF16, 32)
        case .q8_0: (.Q8_0, 7)
        case .q4_0: (.Q4_0, 2)
        }
    }

    /// Parses --type.
    public static func precision(named name: String) throws -> ExportPrecision {
        guard let p = ExportPrecision(rawValue: name.lowercased()) else {
            throw ExportError.unknownType(option: "--type", value: name, supported: ExportPrecision.allCases.map(\.rawValue))
        }
        return p
    }

    /// The GGUF architecture for a config: "llama" (Llama, Mistral, SmolLM), "qwen2", "qwen3", "phi3", "gemma2" or "gemma3".
    static func architecture(_ config: ModelConfig) throws -> String {
        guard let arch = config.ggufArchitecture else {
            throw ExportError.unsupported("model type '\(config.modelType)' has no GGUF architecture here (llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text)")
        }
        return arch
    }

    /// Metadata in the converter's order (spec §4.3): architecture, type, name, hyper-parameters, file type,
    /// vocabulary size, RoPE, then `tokenizer` (already ordered), then quantization_version.
    public static func metadata(config: ModelConfig, precision: ExportPrecision, name: String,
                                tokenizer: [(key: String, value: GGUFValue)]) throws -> [(key: String, value: GGUFValue)] {
        let arch = try architecture(config)
        var m: [(key: String, value: GGUFValue)] = [
            (GGUFKey.architecture, .string(arch)), ("general.type", .string("model")), ("general.name", .string(name)),
        ]
        func u32(_ key: String, _ v: Int) { m.append(("\(arch).\(key)", .uint32(UInt32(clamping: v)))) }
        u32(GGUFKey.blockCount, config.layerCount)
        u32(GGUFKey.contextLength, config.maxPositionEmbeddings)
        u32(GGUFKey.embeddingLength, config.hiddenSize)
        u32(GGUFKey.feedForwardLength, config.intermediateSize)
        u32(GGUFKey.headCount, config.headCount)
        u32(GGUFKey.headCountKV, config.kvHeadCount)
        m.append(("\(arch).\(GGUFKey.ropeFreqBase)", .float32(Float(config.ropeTheta))))
        m.append(("\(arch).\(GGUFKey.rmsEpsilon)", .float32(Float(config.rmsNormEps))))
        m.append((GGUFKey.fileType, .uint32(layout(precision).fileType)))
        u32(GGUFKey.vocabSize, config.vocabSize)
        u32(GGUFKey.ropeDimensionCount, config.headDim)
        if config.headDim * config.headCount != config.hiddenSize {
            u32(GGUFKey.keyLength, config.headDim)
            u32(GGUFKey.valueLength, config.headDim)
        }
        if case .linear(let factor) = config.ropeScaling {
            m.append(("\(arch).\(GGUFKey.ropeScalingType)", .string("linear")))
            m.append(("\(arch).\(GGUFKey.ropeScalingFactor)", .float32(Float(factor))))
        }
        if arch == "gemma2" || arch == "gemma3" {
            // convert_hf_to_gguf's Gemma2Model: head size always, the caps and the window. llama.cpp derives the
            // score scale (27B: hidden / heads, else head_dim); a model whose query_pre_attn_scalar differs also
            // gets attention.scale, which Tailor reads back.
            if config.headDim * config.headCount == config.hiddenSize {
                u32(GGUFKey.keyLength, config.headDim)
                u32(GGUFKey.valueLength, config.headDim)
            }
            if let cap = config.attentionLogitSoftCap { m.append(("\(arch).\(GGUFKey.attentionLogitSoftCap)", .float32(Float(cap)))) }
            if let cap = config.finalLogitSoftCap { m.append(("\(arch).\(GGUFKey.finalLogitSoftCap)", .float32(Float(cap)))) }
            u32(GGUFKey.slidingWindow, config.useSlidingWindow ? config.slidingWindow ?? 0 : 0)
            if let local = config.localRopeTheta { m.append(("\(arch).\(GGUFKey.ropeFreqBaseSWA)", .float32(Float(local)))) }
            let derived = Double(config.layerCount == (arch == "gemma2" ? 46 : 62) ? config.hiddenSize / config.headCount : config.headDim)
            if let scalar = config.queryPreAttentionScalar, scalar != derived {
                m.append(("\(arch).\(GGUFKey.attentionScale)", .float32(Float(config.attentionScale))))
            }
        }
        if arch == "phi3" {
            // convert_hf_to_gguf's Phi3MiniModel: the window (0 = none), and with LongRoPE the original context and
            // the attention factor (the factor tensors follow in `tensors`).
            u32(GGUFKey.slidingWindow, config.useSlidingWindow ? config.slidingWindow ?? 0 : 0)
            if case .longRoPE(_, _, let original, _, _) = config.ropeScaling {
                u32(GGUFKey.ropeScalingOriginalContextLength, original)
                m.append(("\(arch).\(GGUFKey.ropeScalingAttentionFactor)", .float32(Float(config.ropeAttentionScaling))))
            }
        }
        m += tokenizer
        m.append(("general.quantization_version", .uint32(2)))
        return m
    }

    /// The tensors under GGUF names: 2-D weights as `precision` (Q/K rows permuted for "llama"), 1-D tensors F32,
    /// plus `rope_freqs.weight` for llama3 RoPE scaling. A row length that is not a multiple of 32 keeps F16 for
    /// the quantized types, as llama.cpp's converter falls back.
    public static func tensors(weights: LlamaWeights, config: ModelConfig, precision: ExportPrecision) throws -> [GGUFTensorData] {
        let arch = try architecture(config)
        var out: [GGUFTensorData] = []
        if case .llama3(let factor, let low, let high, let original) = config.ropeScaling {
            out.append(try GGUFTensorData(name: "rope_freqs.weight", tensor: Tensor(shape: [config.headDim / 2], values:
                ModelConfig.llama3Divisors(theta: config.ropeTheta, headDim: config.headDim, factor: factor, low: low, high: high,
                               original: Double(original)).map(Float.init)), as: .F32))
        }
        if case .longRoPE(let short, let long, _, _, _) = config.ropeScaling {
            for (name, factors) in [(GGUFKey.ropeFactorsLong, long), (GGUFKey.ropeFactorsShort, short)] {
                out.append(try GGUFTensorData(name: name, tensor: Tensor(shape: [factors.count], values: factors.map(Float.init)), as: .F32))
            }
        }
        for (hfName, tensor) in LoRAMerge.stateDict(weights, configuration: config) {
            guard let name = GGUFNames.ggufName(hfName, architecture: arch) else {
                throw ExportError.unsupported("tensor '\(hfName)' has no GGUF name")
            }
            var t = tensor
            // Gemma: llama.cpp multiplies by the stored norm weight, so the converter writes 1 + w.
            if config.normWeightOffset != 0 && hfName.hasSuffix("norm.weight") {
                t = t.converted(to: .f32).adding(config.normWeightOffset)
            }
            if arch == "llama" {
                if hfName.contains("self_attn.q_proj.") { t = try GGUFNames.permuteRows(t, heads: config.headCount) }
                if hfName.contains("self_attn.k_proj.") { t = try GGUFNames.permuteRows(t, heads: config.kvHeadCount) }
            }
            var type = layout(precision).type
            if t.rank == 1 || name.hasSuffix("_norm.weight") { type = .F32 }
            if (type == .Q8_0 || type == .Q4_0), (t.shape.last ?? 0) % 32 != 0 { type = .F16 }
            out.append(try GGUFTensorData(name: name, tensor: t.converted(to: .f32), as: type))
        }
        return out
    }

    /// Writes the GGUF file atomically; `check` runs on the complete temporary file before it is renamed to `url`
    /// (replacing an existing file only with `overwrite`).
    public static func write(weights: LlamaWeights, config: ModelConfig, precision: ExportPrecision, name: String,
                             tokenizer: [(key: String, value: GGUFValue)], to url: URL, overwrite: Bool = false,
                             check: (URL) throws -> Void = { _ in }) throws {
        let meta = try metadata(config: config, precision: precision, name: name, tokenizer: tokenizer)
        let data = try tensors(weights: weights, config: config, precision: precision)
        try AtomicOutput.writeFile(url, overwrite: overwrite) { temp in
            try GGUFWriter.write(metadata: meta, tensors: data, to: temp)
            try check(temp)
        }
    }
}
