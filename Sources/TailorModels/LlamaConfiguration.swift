// The hyper-parameters the Llama-family decoder needs (Llama, Mistral, Qwen2, SmolLM).

/// Sizes and switches of a Llama-family decoder; built from a `ModelConfig`.
public struct LlamaConfiguration: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: RotaryScaling?
    /// q/k/v projections carry biases (Qwen2; Llama with attention_bias).
    public var qkvBias: Bool
    /// o_proj carries a bias (Llama with attention_bias).
    public var outputBias: Bool
    public var mlpBias: Bool
    public var tieWordEmbeddings: Bool
    /// Positions the model was trained for (`max_position_embeddings`); prompts plus new tokens must fit.
    public var contextLength: Int = 1 << 20

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int, rmsNormEps: Float, ropeTheta: Double, ropeScaling: RotaryScaling? = nil,
                qkvBias: Bool = false, outputBias: Bool = false, mlpBias: Bool = false, tieWordEmbeddings: Bool = false) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.tieWordEmbeddings = tieWordEmbeddings
    }

    /// The (name, shape) of every parameter, HF names, in checkpoint order.
    public var parameterShapes: [(name: String, shape: [Int])] {
        let (c, f, v, qd, kvd) = (hiddenSize, intermediateSize, vocabSize, headCount * headDim, kvHeadCount * headDim)
        var shapes: [(String, [Int])] = [("model.embed_tokens.weight", [v, c])]
        for l in 0..<layerCount {
            let p = "model.layers.\(l)."
            shapes.append((p + "input_layernorm.weight", [c]))
            shapes.append((p + "self_attn.q_proj.weight", [qd, c]))
            if qkvBias { shapes.append((p + "self_attn.q_proj.bias", [qd])) }
            shapes.append((p + "self_attn.k_proj.weight", [kvd, c]))
            if qkvBias { shapes.append((p + "self_attn.k_proj.bias", [kvd])) }
            shapes.append((p + "self_attn.v_proj.weight", [kvd, c]))
            if qkvBias { shapes.append((p + "self_attn.v_proj.bias", [kvd])) }
            shapes.append((p + "self_attn.o_proj.weight", [c, qd]))
            if outputBias { shapes.append((p + "self_attn.o_proj.bias", [c])) }
            shapes.append((p + "post_attention_layernorm.weight", [c]))
            shapes.append((p + "mlp.gate_proj.weight", [f, c]))
            shapes.append((p + "mlp.up_proj.weight", [f, c]))
            shapes.append((p + "mlp.down_proj.weight", [c, f]))
            if mlpBias {
                shapes.append((p + "mlp.gate_proj.bias", [f]))
                shapes.append((p + "mlp.up_proj.bias", [f]))
                shapes.append((p + "mlp.down_proj.bias", [c]))
            }
        }
        shapes.append(("model.norm.weight", [c]))
        if !tieWordEmbeddings { shapes.append(("lm_head.weight", [v, c])) }
        return shapes
    }

    /// Number of parameters (a tied head counted once).
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
