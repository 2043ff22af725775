// The GGUF hyper-parameter keys of the architectures Tailor reads and writes (llama.cpp's gguf-py `Keys`): one table
// that reading (`ModelConfig(gguf:)`) and writing (`tailor export gguf`) share.
import Foundation

/// Metadata keys. The hyper-parameters live under the architecture's prefix: `"\(arch).\(GGUFKey.blockCount)"`.
public enum GGUFKey {
    public static let architecture = "general.architecture"
    public static let fileType = "general.file_type"
    public static let blockCount = "block_count"
    public static let contextLength = "context_length"
    public static let embeddingLength = "embedding_length"
    public static let feedForwardLength = "feed_forward_length"
    public static let headCount = "attention.head_count"
    public static let headCountKV = "attention.head_count_kv"
    public static let keyLength = "attention.key_length"
    public static let valueLength = "attention.value_length"
    public static let rmsEpsilon = "attention.layer_norm_rms_epsilon"
    public static let ropeFreqBase = "rope.freq_base"
    public static let ropeDimensionCount = "rope.dimension_count"
    public static let ropeScalingType = "rope.scaling.type"
    public static let ropeScalingFactor = "rope.scaling.factor"
    public static let ropeScalingAttentionFactor = "rope.scaling.attn_factor"
    public static let ropeScalingOriginalContextLength = "rope.scaling.original_context_length"
    public static let slidingWindow = "attention.sliding_window"
    /// The attention score scale (gguf-py `Keys.Attention.SCALE`). llama.cpp's gemma2 derives it instead (see
    /// `ModelConfig(gguf:)`); Tailor writes it for Gemma 2 only when `query_pre_attn_scalar` differs from that rule.
    public static let attentionScale = "attention.scale"
    public static let attentionLogitSoftCap = "attn_logit_softcapping"
    public static let finalLogitSoftCap = "final_logit_softcapping"
    /// Gemma 3: the sliding layers' RoPE base (gguf-py `Keys.Rope.FREQ_BASE_SWA`; llama.cpp's default 10000).
    public static let ropeFreqBaseSWA = "rope.freq_base_swa"
    /// Phi-3's LongRoPE factors (global tensors, head_dim/2 values each).
    public static let ropeFactorsLong = "rope_factors_long.weight"
    public static let ropeFactorsShort = "rope_factors_short.weight"
    public static let vocabSize = "vocab_size"
}

extension ModelConfig {
    /// The GGUF architectures Tailor reads.
    public static let ggufArchitectures = ["llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"]

    /// The GGUF architecture of this model type: "llama" (Llama, Mistral, SmolLM), "qwen2", "qwen3", "phi3", "gemma2" or
    /// "gemma3" (Gemma 3 text); nil
    /// for others.
    public var ggufArchitecture: String? {
        switch modelType {
        case "llama", "mistral": "llama"
        case "qwen2": "qwen2"
        case "qwen3": "qwen3"
        case "phi3": "phi3"
        case "gemma2": "gemma2"
        case "gemma3_text": "gemma3"
        default: nil
        }
    }

    /// The converter's per-frequency divisors for llama3 RoPE scaling (llama.cpp `LlamaModel.generate_extra_tensors`,
    /// written as `rope_freqs.weight`).
    public static func llama3Divisors(theta: Double, headDim: Int, factor: Double, low: Double, high: Double,
                                      original: Double) -> [Double] {
        (0..<(headDim / 2)).map { i in
            let inv = 1 / Double(Float(pow(theta, Double(Float(2 * i) / Float(headDim)))))
            let wavelength = 2 * Double.pi / inv
            if wavelength < original / high { return 1 }
            if wavelength > original / low { return factor }
            let smooth = (original / wavelength - low) / (high - low)
            return 1 / ((1 - smooth) / factor + smooth)
        }
    }
}
