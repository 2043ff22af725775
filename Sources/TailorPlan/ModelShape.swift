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

/// The architecture numbers of a Llama / Mistral / Qwen2 decoder (spec §6.1).
///
/// Legend used in the formulas: C hidden, I intermediate, L layers, H heads, KV key/value heads, hd head dim,
/// Q = H·hd, K = KV·hd, V vocabulary.
public struct ModelShape: Codable, Sendable, Equatable {
    /// A display name: a preset name, a path or `"custom"`.
    public var name: String
    /// `"llama"`, `"mistral"` or `"qwen2"`.
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var tieWordEmbeddings: Bool
    public var qkvBias: Bool
    public var outputBias: Bool
    public var mlpBias: Bool

    public init(name: String = "custom", modelType: String = "llama", vocabSize: Int, hiddenSize: Int,
                intermediateSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int? = nil, headDim: Int? = nil,
                tieWordEmbeddings: Bool = false, qkvBias: Bool? = nil, outputBias: Bool = false, mlpBias: Bool = false) {
        self.name = name
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount ?? headCount
        self.headDim = headDim ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = qkvBias ?? (modelType == "qwen2")
        self.outputBias = outputBias
        self.mlpBias = mlpBias
    }

    /// The shape of a model read from config.json or GGUF metadata.
    public init(config: ModelConfig, name: String = "custom") {
        self.init(name: name, modelType: config.modelType, vocabSize: config.vocabSize, hiddenSize: config.hiddenSize,
                  intermediateSize: config.intermediateSize, layerCount: config.layerCount,
                  headCount: config.headCount, kvHeadCount: config.kvHeadCount, headDim: config.headDim,
                  tieWordEmbeddings: config.tieWordEmbeddings, qkvBias: config.qkvBias,
                  outputBias: config.outputBias, mlpBias: config.mlpBias)
    }

    /// Throws `PlanError.invalidValue` when a size is not positive or heads do not divide evenly.
    public func validate() throws {
        let sizes = [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                     ("num_hidden_layers", layerCount), ("num_attention_heads", headCount),
                     ("num_key_value_heads", kvHeadCount), ("head_dim", headDim)]
        for (field, value) in sizes where value <= 0 || value > Int(Int32.max) {
            throw PlanError.invalidValue(field: field, value: "\(value)", reason: "must be in 1...\(Int32.max)")
        }
        if headCount % kvHeadCount != 0 {
            throw PlanError.invalidValue(field: "num_key_value_heads", value: "\(kvHeadCount)",
                                         reason: "does not divide num_attention_heads \(headCount)")
        }
    }

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
    /// Biases (q/k/v, o, MLP) and the two RMSNorm weights of one layer.
    public var layerSmallParameters: Int {
        var count = 2 * hiddenSize
        if qkvBias { count += queryWidth + 2 * keyValueWidth }
        if outputBias { count += hiddenSize }
        if mlpBias { count += 2 * intermediateSize + hiddenSize }
        return count
    }
    /// Every parameter, counting a tied embedding once (what transformers' `num_parameters()` reports).
    public var parameterCount: Int {
        embeddingParameters + layerCount * (layerLinearWeights + layerSmallParameters) + hiddenSize + lmHeadParameters
    }
    /// Weights of the decoder-layer linears: the parameters QLoRA stores in 4 bits.
    public var quantizableParameters: Int { layerCount * layerLinearWeights }

    /// The seven projections of one layer, in forward order, with `(in, out)` features.
    public func layerLinears(_ layer: Int) -> [LinearModule] {
        let c = hiddenSize, i = intermediateSize, q = queryWidth, kv = keyValueWidth
        let p = "model.layers.\(layer)."
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

    /// Every `nn.Linear` in transformers' module order: seven per layer, then `lm_head` (a Linear module even
    /// when its weight is tied to the embedding).
    public var linearModules: [LinearModule] {
        (0..<layerCount).flatMap(layerLinears)
            + [LinearModule(name: "lm_head", inFeatures: hiddenSize, outFeatures: vocabSize)]
    }

    /// This architecture with the layer count changed so the parameter count comes closest to `parameters`
    /// (the per-layer sizes are kept; used to "scale a family config" for `--params 9B --arch llama`).
    public func scaled(toParameters parameters: Int) -> ModelShape {
        let perLayer = layerLinearWeights + layerSmallParameters
        let fixed = parameterCount - layerCount * perLayer
        let layers = max(1, Int((Double(parameters - fixed) / Double(perLayer)).rounded()))
        var shape = self
        shape.layerCount = layers
        shape.name = "\(name) scaled to \(layers) layers"
        return shape
    }
}
