// The sizes of a Llama-family model that memory and time depend on: parameter counts and its linear modules.
import TailorFormats

/// One `nn.Linear` of the model with its Hugging Face module name (`model.layers.3.self_attn.q_proj`).
public struct LinearModule: Codable, Sendable, Equatable {
    public var name: String
    public var inFeatures: Int
    public var outFeatures: Int
    /// Whether the module has a bias vector (Qwen2 q/k/v).
    public var hasBias: Bool
    /// The decoder layer index, nil for `lm_head`.
    public var layer: Int?

    public init(name: String, inFeatures: Int, outFeatures: Int, hasBias: Bool = false, layer: Int? = nil) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = hasBias
        self.layer = layer
    }

    /// The last name component: `q_proj`, `down_proj`, `lm_head`.
    public var kind: String { name.split(separator: ".").last.map(String.init) ?? name }
}

/// A model the planner sizes: its `ModelConfig` (the one description of a model, read from config.json or GGUF or
/// transcribed in a preset) under a display name. The configuration's fields read through (`shape.hiddenSize`).
///
/// Legend used in the formulas: C hidden, I intermediate, L layers, H heads, KV key/value heads, hd head dim,
/// Q = H·hd, K = KV·hd, V vocabulary.
@dynamicMemberLookup
public struct ModelShape: Codable, Sendable, Equatable {
    /// A display name: a preset name, a path or `"custom"`.
    public var name: String
    public var config: ModelConfig

    /// The shape of a model read from config.json or GGUF metadata, or built with `ModelConfig`'s initializer.
    public init(config: ModelConfig, name: String = "custom") {
        self.name = name
        self.config = config
    }

    public subscript<T>(dynamicMember keyPath: KeyPath<ModelConfig, T>) -> T { config[keyPath: keyPath] }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<ModelConfig, T>) -> T {
        get { config[keyPath: keyPath] }
        set { config[keyPath: keyPath] = newValue }
    }

    /// Throws `PlanError.invalidValue` when a size is not positive or heads do not divide evenly.
    public func validate() throws {
        let sizes = [("vocab_size", config.vocabSize), ("hidden_size", config.hiddenSize), ("intermediate_size", config.intermediateSize),
                     ("num_hidden_layers", config.layerCount), ("num_attention_heads", config.headCount),
                     ("num_key_value_heads", config.kvHeadCount), ("head_dim", config.headDim)]
        for (field, value) in sizes where value <= 0 || value > Int(Int32.max) {
            throw PlanError.invalidValue(field: field, value: "\(value)", reason: "must be in 1...\(Int32.max)")
        }
        if config.headCount % config.kvHeadCount != 0 {
            throw PlanError.invalidValue(field: "num_key_value_heads", value: "\(config.kvHeadCount)",
                                         reason: "does not divide num_attention_heads \(config.headCount)")
        }
    }
}

/// The sizes memory and time depend on, derived from the configuration.
extension ModelConfig {
    /// Q = H·hd, the width of the attention output.
    public var queryWidth: Int { headCount * headDim }
    /// K = KV·hd, the width of k and v.
    public var keyValueWidth: Int { kvHeadCount * headDim }

    /// V·C, the input embedding (and the tied output embedding).
    public var embeddingParameters: Int { vocabSize * hiddenSize }
    /// V·C when lm_head has its own weight, else 0.
    public var lmHeadParameters: Int { tieWordEmbeddings ? 0 : vocabSize * hiddenSize }
    /// The weights of the seven projections of one layer (no biases).
    public var layerLinearWeights: Int {
        let c = hiddenSize, i = intermediateSize
        return c * queryWidth + 2 * c * keyValueWidth + queryWidth * c + 3 * c * i
    }
    /// Biases (q/k/v, o, MLP) and the RMSNorm weights of one layer (two; Gemma four).
    public var layerSmallParameters: Int {
        var count = 2 * hiddenSize
        if qkvBias { count += queryWidth + 2 * keyValueWidth }
        if outputBias { count += hiddenSize }
        if mlpBias { count += 2 * intermediateSize + hiddenSize }
        if qkNorm { count += 2 * headDim }   // Qwen3's q_norm and k_norm
        if postNorms { count += 2 * hiddenSize }   // Gemma's post-attention and post-feedforward norms
        return count
    }
    /// Weights of the decoder-layer linears: the parameters QLoRA stores in 4 bits.
    public var quantizableParameters: Int { layerCount * layerLinearWeights }

    /// The projections of one layer, in transformers' module order, with `(in, out)` features: seven, or Phi-3's four
    /// (fused qkv_proj and gate_up_proj, each one LoRA target).
    public func layerLinears(_ layer: Int) -> [LinearModule] {
        let c = hiddenSize, i = intermediateSize, q = queryWidth, kv = keyValueWidth
        let p = "model.layers.\(layer)."
        if fusedProjections {
            return [   // transformers' Phi3Attention registers o_proj before qkv_proj
                LinearModule(name: p + "self_attn.o_proj", inFeatures: q, outFeatures: c, layer: layer),
                LinearModule(name: p + "self_attn.qkv_proj", inFeatures: c, outFeatures: q + 2 * kv, layer: layer),
                LinearModule(name: p + "mlp.gate_up_proj", inFeatures: c, outFeatures: 2 * i, layer: layer),
                LinearModule(name: p + "mlp.down_proj", inFeatures: i, outFeatures: c, layer: layer),
            ]
        }
        return [
            LinearModule(name: p + "self_attn.q_proj", inFeatures: c, outFeatures: q, hasBias: qkvBias, layer: layer),
            LinearModule(name: p + "self_attn.k_proj", inFeatures: c, outFeatures: kv, hasBias: qkvBias, layer: layer),
            LinearModule(name: p + "self_attn.v_proj", inFeatures: c, outFeatures: kv, hasBias: qkvBias, layer: layer),
            LinearModule(name: p + "self_attn.o_proj", inFeatures: q, outFeatures: c, hasBias: outputBias, layer: layer),
            LinearModule(name: p + "mlp.gate_proj", inFeatures: c, outFeatures: i, hasBias: mlpBias, layer: layer),
            LinearModule(name: p + "mlp.up_proj", inFeatures: c, outFeatures: i, hasBias: mlpBias, layer: layer),
            LinearModule(name: p + "mlp.down_proj", inFeatures: i, outFeatures: c, hasBias: mlpBias, layer: layer),
        ]
    }

    /// Every `nn.Linear` in transformers' module order: seven (Phi-3: four) per layer, then `lm_head` (a Linear module even
    /// when its weight is tied to the embedding).
    public var linearModules: [LinearModule] {
        (0..<layerCount).flatMap(layerLinears)
            + [LinearModule(name: "lm_head", inFeatures: hiddenSize, outFeatures: vocabSize)]
    }
}

extension ModelShape {
    /// This architecture with the layer count changed so the parameter count comes closest to `parameters`
    /// (the per-layer sizes are kept; used to "scale a family config" for `--params 9B --arch llama`).
    public func scaled(toParameters parameters: Int) -> ModelShape {
        let perLayer = config.layerLinearWeights + config.layerSmallParameters
        let fixed = config.parameterCount - config.layerCount * perLayer
        let layers = max(1, Int((Double(parameters - fixed) / Double(perLayer)).rounded()))
        var shape = self
        shape.config.layerCount = layers
        shape.name = "\(name) scaled to \(layers) layers"
        return shape
    }
}
