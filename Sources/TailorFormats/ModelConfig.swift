// The hyper-parameters of a Llama-family causal LM, read from Hugging Face config.json or GGUF metadata.
import Foundation
import TailorText

/// RoPE frequency scaling beyond the default `inv_freq[i] = 1 / theta^(2i / head_dim)` (spec §6.3).
public enum RopeScaling: Sendable, Equatable {
    /// Llama 3.1 style: low frequencies divided by `factor`, high ones kept, a smooth ramp in between.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int)
    /// Position interpolation: every frequency divided by `factor`.
    case linear(factor: Double)
    /// Phi-3's LongRoPE (`longrope`, formerly `su`): `inv_freq[i] = 1 / (f[i]·theta^(2i/D))` with `f = shortFactor`
    /// while a call's positions fit `originalMaxPositionEmbeddings` and `longFactor` beyond; cos and sin are scaled
    /// by `attentionScaling`. `factor` and `attentionFactor` are the optional keys as written (see
    /// `longRoPEAttentionScaling`).
    case longRoPE(shortFactor: [Double], longFactor: [Double], originalMaxPositionEmbeddings: Int,
                  factor: Double?, attentionFactor: Double?)
}

/// A validated model configuration (Llama 2/3/3.1, Mistral, Qwen2/2.5, Qwen3 dense, Phi-3/3.5-mini, Gemma 2, Gemma 3
/// text, SmolLM).
///
/// Swift names follow the API guidelines; `CodingKeys`-style mapping to the Hugging Face keys lives in
/// `ModelConfig+JSON.swift`. Decoding accepts transformers 4.x (`rope_theta` + `rope_scaling`, `torch_dtype`) and
/// 5.x (`rope_parameters`, `dtype`) files; encoding writes the 5.x form.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Model classes, e.g. `["LlamaForCausalLM"]`.
    public var architectures: [String]
    /// `"llama"`, `"mistral"`, `"qwen2"`, `"qwen3"`, `"phi3"`, `"gemma2"` or `"gemma3_text"`.
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    /// `num_hidden_layers`.
    public var layerCount: Int
    /// `num_attention_heads`.
    public var headCount: Int
    /// `num_key_value_heads` (grouped-query attention; equals `headCount` when absent).
    public var kvHeadCount: Int
    /// `head_dim`, or `hiddenSize / headCount` when absent.
    public var headDim: Int
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    /// The RoPE base (Gemma 3: of the global layers, `full_attention`).
    public var ropeTheta: Double
    /// The RoPE scaling (Gemma 3: of the global layers only).
    public var ropeScaling: RopeScaling?
    /// Gemma 3: the RoPE base of the sliding layers (`rope_local_base_freq`, `rope_parameters.sliding_attention`),
    /// which use no scaling; nil when every layer shares `ropeTheta` and `ropeScaling`.
    public var localRopeTheta: Double?
    /// The `attention_bias` key: Llama puts biases on q, k, v and o when true. Qwen2 has no such key (false here);
    /// its q/k/v biases are implied by the model type — use `qkvBias` and `outputBias`.
    public var attentionBias: Bool
    public var mlpBias: Bool
    /// When true, `lm_head` reuses `model.embed_tokens.weight` and checkpoints omit `lm_head.weight`.
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    /// End-of-sequence ids (config.json allows one id or a list).
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?
    /// Storage dtype of the weights, e.g. `"bfloat16"` (`torch_dtype` in 4.x, `dtype` in 5.x).
    public var torchDtype: String?
    public var slidingWindow: Int?
    public var useSlidingWindow: Bool
    /// Qwen2: layers from this index on use the sliding window (when enabled).
    public var maxWindowLayers: Int?
    /// Activation of the MLP's gate: `"silu"`, or Gemma's `"gelu_pytorch_tanh"` (`hidden_activation`).
    public var hiddenAct: String
    /// Gemma 2: attention scores are scaled by `query_pre_attn_scalar^-0.5` instead of `head_dim^-0.5`.
    public var queryPreAttentionScalar: Double?
    /// Gemma 2: `attn_logit_softcapping`, scores become `cap·tanh(s/cap)` before masking and softmax; nil for none.
    public var attentionLogitSoftCap: Double?
    /// Gemma 2: `final_logit_softcapping`, logits become `cap·tanh(z/cap)`; nil for none.
    public var finalLogitSoftCap: Double?
    /// transformers' `layer_types` ("sliding_attention" / "full_attention" per layer) as written; Gemma 2 reads its
    /// sliding layers from it (nil: the class default, even layers sliding).
    public var layerTypes: [String]?
    public var attentionDropout: Double
    public var initializerRange: Double

    /// q_proj, k_proj and v_proj carry biases (Qwen2 always; Llama with `attention_bias`).
    public var qkvBias: Bool { attentionBias || modelType == "qwen2" }
    /// o_proj carries a bias (Llama with `attention_bias` only).
    public var outputBias: Bool { attentionBias && modelType != "qwen2" }

    /// The model types Tailor implements and their `architectures` class names.
    public static let supportedModelTypes: [String: String] = [
        "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "qwen3": "Qwen3ForCausalLM", "phi3": "Phi3ForCausalLM", "gemma2": "Gemma2ForCausalLM",
        "gemma3_text": "Gemma3ForCausalLM",
    ]

    /// Gemma 2 and 3: embeddings scaled by √hidden, RMSNorm weights applied as `1 + w`, norms before and after
    /// attention and MLP (`pre_feedforward_layernorm` is the MLP's input norm), GeGLU with tanh GELU; Gemma 2 also
    /// soft-caps, Gemma 3 normalises q and k per head and gives its sliding layers their own RoPE base.
    public var isGemma: Bool { Self.gemmaModelTypes.contains(modelType) }

    /// The Gemma model types.
    public static let gemmaModelTypes: Set<String> = ["gemma2", "gemma3_text"]

    /// What every RMSNorm weight is offset by when applied: 1 for Gemma (`x̂ · (1 + w)`), else 0.
    public var normWeightOffset: Float { isGemma ? 1 : 0 }

    /// The factor the input embeddings are multiplied by (Gemma: √hidden, as a Python float), or nil.
    public var embeddingScale: Double? { isGemma ? Double(hiddenSize).squareRoot() : nil }

    /// Gemma: `post_attention_layernorm` and `post_feedforward_layernorm` normalise the attention and MLP outputs
    /// before they join the residual; the MLP's input norm is `pre_feedforward_layernorm`.
    public var postNorms: Bool { isGemma }

    /// The HF name (within a layer) of the MLP's input norm: Llama's `post_attention_layernorm`, Gemma's
    /// `pre_feedforward_layernorm`.
    public var mlpNormName: String { postNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm" }

    /// The attention score scale as transformers computes it (a Python float): `query_pre_attn_scalar^-0.5` or
    /// `head_dim^-0.5`.
    public var attentionScale: Double { 1 / (queryPreAttentionScalar ?? Double(headDim)).squareRoot() }

    /// Qwen3: q and k are RMS-normalised per head (weights `self_attn.q_norm`/`k_norm`, shape (head_dim)) before RoPE.
    public var qkNorm: Bool { modelType == "qwen3" || modelType == "gemma3_text" }

    /// Whether layer `layer` is a local one (transformers' `layer_types` entry "sliding_attention"): Gemma's
    /// sliding layers, which Gemma 3 also gives `localRopeTheta`.
    public func isLocalLayer(_ layer: Int) -> Bool {
        guard isGemma else { return false }
        if let layerTypes, layer < layerTypes.count { return layerTypes[layer] == "sliding_attention" }
        return modelType == "gemma3_text" ? (layer + 1) % 6 != 0 : layer % 2 == 0
    }

    /// The attention window of layer `layer` (keys at most `window - 1` positions back), or nil for full attention:
    /// Mistral's and Phi-3's `sliding_window` when set, Qwen2/3's from `max_window_layers` on with
    /// `use_sliding_window` (transformers' `layer_types`).
    public func slidingWindow(layer: Int) -> Int? {
        guard useSlidingWindow, let slidingWindow, slidingWindow > 0 else { return nil }
        // Gemma: transformers' layer_types, by default "sliding_attention" on even layers (Gemma 3: five of six).
        if isGemma { return isLocalLayer(layer) ? slidingWindow : nil }
        if ["qwen2", "qwen3"].contains(modelType) && layer < (maxWindowLayers ?? 28) { return nil }
        return slidingWindow
    }

    /// Phi-3: q, k and v come from one fused `self_attn.qkv_proj` (rows q, then k, then v) and gate and up from one
    /// `mlp.gate_up_proj` (rows gate, then up); adapters target the fused layers, as PEFT does.
    public var fusedProjections: Bool { modelType == "phi3" }

    /// The factor cos and sin are multiplied by: LongRoPE's attention factor as transformers computes it, else 1.
    public var ropeAttentionScaling: Double {
        guard case .longRoPE(_, _, let original, let factor, let attentionFactor) = ropeScaling else { return 1 }
        if let attentionFactor { return attentionFactor }
        // transformers: factor defaults to max_position_embeddings / original_max_position_embeddings.
        let f = factor ?? Double(maxPositionEmbeddings) / Double(original)
        return f <= 1 ? 1 : (1 + Foundation.log(f) / Foundation.log(Double(original))).squareRoot()
    }

    /// A configuration with the given sizes and Llama defaults for the rest; call `validate` before use.
    public init(modelType: String = "llama", vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int? = nil, headDim: Int? = nil, maxPositionEmbeddings: Int = 2048,
                rmsNormEps: Double = 1e-6, ropeTheta: Double = 10000, ropeScaling: RopeScaling? = nil,
                attentionBias: Bool = false, mlpBias: Bool = false, tieWordEmbeddings: Bool = false,
                bosTokenID: Int? = nil, eosTokenIDs: [Int] = [], padTokenID: Int? = nil, torchDtype: String? = nil) {
        architectures = ModelConfig.supportedModelTypes[modelType].map { [$0] } ?? []
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount ?? headCount
        self.headDim = headDim ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
        self.torchDtype = torchDtype
        slidingWindow = nil
        useSlidingWindow = false
        maxWindowLayers = ["qwen2", "qwen3"].contains(modelType) ? 28 : nil   // transformers' Qwen2/3Config default, as a saved config reads back
        hiddenAct = Self.gemmaModelTypes.contains(modelType) ? "gelu_pytorch_tanh" : "silu"
        localRopeTheta = nil
        queryPreAttentionScalar = nil
        attentionLogitSoftCap = nil
        finalLogitSoftCap = nil
        layerTypes = nil
        attentionDropout = 0
        initializerRange = 0.02
    }

    /// Reads and validates a config.json file.
    public static func load(from url: URL) throws -> ModelConfig {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError.fileNotFound(path: path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw FormatError.io(path: path, operation: "read", errno: EIO) }
        return try decode(data, path: path)
    }

    /// Parses and validates config.json bytes; `path` names the source in errors.
    public static func decode(_ data: Data, path: String = "config.json") throws -> ModelConfig {
        let json: JSONValue
        do { json = try JSONValue.parse([UInt8](data)) } catch {
            throw FormatError.corrupt(path: path, offset: error.offset, reason: "config is not valid JSON: \(error.reason)")
        }
        return try ModelConfig(json: json, path: path)
    }

    /// Checks sizes and the supported model family; throws `FormatError` naming the offending field.
    public func validate(path: String = "config.json") throws {
        guard let expectedClass = ModelConfig.supportedModelTypes[modelType] else {
            throw FormatError.unsupportedArchitecture(path: path, name: modelType)
        }
        for name in architectures where name != expectedClass {
            throw FormatError.unsupportedArchitecture(path: path, name: name)
        }
        let positive: [(String, Int)] = [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", layerCount), ("num_attention_heads", headCount),
            ("num_key_value_heads", kvHeadCount), ("head_dim", headDim),
            ("max_position_embeddings", maxPositionEmbeddings),
        ]
        for (field, value) in positive where value <= 0 {
            throw FormatError.invalidConfig(path: path, field: field, reason: "must be positive, got \(value)")
        }
        // Bounds that no real model approaches keep size arithmetic (products of two sizes) far from overflow.
        for (field, value) in positive where value > Int(Int32.max) {
            throw FormatError.invalidConfig(path: path, field: field, reason: "\(value) is implausibly large")
        }
        if layerCount > 4096 {
            throw FormatError.invalidConfig(path: path, field: "num_hidden_layers", reason: "\(layerCount) is implausibly large")
        }
        if headCount % kvHeadCount != 0 {
            throw FormatError.invalidConfig(path: path, field: "num_key_value_heads",
                                            reason: "\(kvHeadCount) does not divide num_attention_heads \(headCount)")
        }
        if hiddenSize % headCount != 0 {
            throw FormatError.invalidConfig(path: path, field: "num_attention_heads",
                                            reason: "\(headCount) does not divide hidden_size \(hiddenSize)")
        }
        if headDim % 2 != 0 {
            throw FormatError.invalidConfig(path: path, field: "head_dim", reason: "RoPE needs an even head_dim, got \(headDim)")
        }
        if !(rmsNormEps > 0) {
            throw FormatError.invalidConfig(path: path, field: "rms_norm_eps", reason: "must be positive, got \(rmsNormEps)")
        }
        if !(ropeTheta > 0) || !ropeTheta.isFinite {
            throw FormatError.invalidConfig(path: path, field: "rope_theta", reason: "must be positive, got \(ropeTheta)")
        }
        if let localRopeTheta, !(localRopeTheta > 0) || !localRopeTheta.isFinite {
            throw FormatError.invalidConfig(path: path, field: "rope_local_base_freq", reason: "must be positive, got \(localRopeTheta)")
        }
        let activation = isGemma ? "gelu_pytorch_tanh" : "silu"
        if hiddenAct != activation {
            throw FormatError.invalidConfig(path: path, field: isGemma ? "hidden_activation" : "hidden_act",
                                            reason: "'\(hiddenAct)' is not supported (\(modelType) uses \(activation))")
        }
        for (field, value) in [("query_pre_attn_scalar", queryPreAttentionScalar), ("attn_logit_softcapping", attentionLogitSoftCap),
                               ("final_logit_softcapping", finalLogitSoftCap)] {
            if let value, !(value > 0 && value.isFinite) {
                throw FormatError.invalidConfig(path: path, field: field, reason: "must be positive, got \(value)")
            }
        }
        if let layerTypes {
            if layerTypes.count != layerCount {
                throw FormatError.invalidConfig(path: path, field: "layer_types",
                                                reason: "\(layerTypes.count) entries for \(layerCount) layers")
            }
            if let bad = layerTypes.first(where: { !["sliding_attention", "full_attention"].contains($0) }) {
                throw FormatError.invalidConfig(path: path, field: "layer_types", reason: "'\(bad)' is not supported")
            }
        }
        if fusedProjections && (attentionBias || mlpBias) {
            throw FormatError.invalidConfig(path: path, field: attentionBias ? "attention_bias" : "mlp_bias",
                                            reason: "phi3's fused qkv_proj and gate_up_proj have no biases")
        }
        for id in [bosTokenID, padTokenID].compactMap({ $0 }) + eosTokenIDs where id < 0 {
            throw FormatError.invalidConfig(path: path, field: "token ids", reason: "negative token id \(id)")
        }
        switch ropeScaling {
        case .linear(let factor) where !(factor > 0):
            throw FormatError.invalidConfig(path: path, field: "rope_scaling.factor", reason: "must be positive, got \(factor)")
        case .llama3(let factor, let low, let high, let original) where !(factor > 0) || !(low > 0) || !(high > low) || original <= 0:
            throw FormatError.invalidConfig(path: path, field: "rope_scaling",
                                            reason: "llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor and "
                                                + "original_max_position_embeddings > 0; got \(factor), \(low), \(high), \(original)")
        case .longRoPE(let short, let long, let original, _, _):
            if short.count != headDim / 2 || long.count != headDim / 2 {
                throw FormatError.invalidConfig(path: path, field: "rope_scaling",
                                                reason: "short_factor and long_factor need head_dim/2 = \(headDim / 2) values each, "
                                                    + "got \(short.count) and \(long.count)")
            }
            if original <= 0 || !(short + long).allSatisfy({ $0 > 0 && $0.isFinite }) {
                throw FormatError.invalidConfig(path: path, field: "rope_scaling",
                                                reason: "longrope needs original_max_position_embeddings > 0 and positive factors")
            }
        default: break
        }
    }
}
