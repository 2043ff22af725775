// Bytes of activations a training step keeps: what autograd saves in the Llama forward, plus the loss transients.
//
// Legend: B micro-batch, T sequence length, C hidden, I intermediate, H heads, Q = H·hd, K = KV·hd, V vocabulary,
// L layers, r LoRA rank, a activation bytes (2 for bf16/f16, 4 for f32), f = 4 (f32), p adapter bytes (4).
//
// Saved tensors per token of one decoder layer (transformers 5 + PEFT; verified tensor by tensor against
// torch.autograd saved_tensors_hooks for SmolLM2 dimensions, Fixtures/activations.json):
//   each RMSNorm (2 per layer): f32 upcast of its input 4C, rsqrt 4, and when its weight trains, the normalized
//                               value aC (saved by the weight multiply)
//   q/k/v input (norm output):  aC when the base weights train (shared by the three)
//   attention, SDPA/flash:      q aQ, k aK, v aK, output aQ, log-sum-exp 4H
//   attention, eager:           q aQ, k and v repeated to H heads 2aQ, softmax output f32 4HT, its cast aHT (a<4)
//   o_proj input:               aQ when its weight trains, eager only (SDPA's saved output is the same storage)
//   MLP:                        gate output aI, silu output aI, up output aI; down_proj input aI when it trains
//   LoRA per targeted module:   its input cast to the adapter dtype p·d_in (a new copy per module when a ≠ p; when
//                               a = p the cast is the input itself, shared) and lora_A's output p·r
// Outside the layers, per token: embedding indices 8 (full), final norm 4C + 4 (+ aC + aC lm_head input, full),
// log-softmax output 4V, labels 8; per micro-batch: RoPE cos and sin 2·T·hd·a and the loss.
// Peak transients: the returned 16-bit logits aV (retainLogits), logitsGradientF32Copies·4V at the loss backward,
// and backwardWorkspaceLayers × one layer's saved bytes.
// Gradient checkpointing (transformers, one checkpoint per layer) keeps each layer's input aC and recomputes one
// layer at a time, so one layer's saved bytes come back during the backward.
// Not counted: the first layer's norm saves nothing under LoRA when the embedding output needs no gradient
// (4C + 4 per token less; left in, conservative).

/// The activation bytes of one micro-batch, split so a calibration can see each part.
public struct ActivationEstimate: Codable, Sendable, Equatable {
    /// Saved bytes of each decoder layer without checkpointing (all B·T tokens).
    public var perLayer: [Int]
    /// Bytes kept for all layers: Σ perLayer, or L·B·T·aC plus one recomputed layer with checkpointing.
    public var layers: Int
    /// Saved outside the layers: embedding indices, final norm, log-softmax, labels, RoPE tables.
    public var outsideLayers: Int
    /// Loss-side transients: retained logits and the f32 logits gradients.
    public var logitsTransient: Int
    /// Backward temporaries (backwardWorkspaceLayers × the largest layer).
    public var backwardWorkspace: Int
    /// The sum of the four parts (perLayer is a breakdown of `layers` without checkpointing).
    public var total: Int

    public init(perLayer: [Int], layers: Int, outsideLayers: Int, logitsTransient: Int, backwardWorkspace: Int) {
        self.perLayer = perLayer
        self.layers = layers
        self.outsideLayers = outsideLayers
        self.logitsTransient = logitsTransient
        self.backwardWorkspace = backwardWorkspace
        total = layers + outsideLayers + logitsTransient + backwardWorkspace
    }
}

/// The per-layer formula above as code.
public struct ActivationModel: Sendable {
    public var shape: ModelShape
    /// a: bytes of one activation element.
    public var activationBytes: Int
    /// p: bytes of one adapter element.
    public var adapterBytes: Int
    public var attention: AttentionKind
    /// Whether base weights (linears, norms, embeddings) train: full fine-tuning.
    public var baseTrains: Bool
    public var loraRank: Int
    /// The kinds (`q_proj`, …) with an adapter, per layer index.
    public var targetsPerLayer: [Set<String>]

    public init(shape: ModelShape, activationBytes: Int, adapterBytes: Int = 4, attention: AttentionKind,
                baseTrains: Bool, loraRank: Int = 0, targetsPerLayer: [Set<String>]? = nil) {
        self.shape = shape
        self.activationBytes = activationBytes
        self.adapterBytes = adapterBytes
        self.attention = attention
        self.baseTrains = baseTrains
        self.loraRank = loraRank
        self.targetsPerLayer = targetsPerLayer ?? Array(repeating: [], count: shape.layerCount)
    }

    /// Saved bytes per token of one layer with the given adapters, at sequence length T (eager attention keeps
    /// T scores per head per token).
    public func layerBytesPerToken(targets: Set<String>, sequenceLength t: Int) -> Int {
        let a = activationBytes, p = adapterBytes, f = 4
        let c = shape.hiddenSize, i = shape.intermediateSize, h = shape.headCount
        let q = shape.queryWidth, k = shape.keyValueWidth
        let norm = f * c + f + (baseTrains ? a * c : 0)
        var bytes = 2 * norm
        switch attention {
        case .sdpa:
            bytes += a * (q + 2 * k) + a * q + f * h
        case .eager:
            bytes += a * q + 2 * a * q + f * h * t + (a < f ? a * h * t : 0)
        }
        bytes += 3 * a * i
        // Inputs of the four linear groups: (width, kinds, saved already by another op).
        let groups: [(Int, [String], Bool)] = [
            (c, ["q_proj", "k_proj", "v_proj", "qkv_proj"], false),   // qkv_proj, gate_up_proj: Phi-3's fused layers
            (q, ["o_proj"], attention == .sdpa),
            (c, ["gate_proj", "up_proj", "gate_up_proj"], false),
            (i, ["down_proj"], false),
        ]
        for (width, kinds, savedElsewhere) in groups {
            let adapters = kinds.filter(targets.contains).count
            let baseSaves = baseTrains && !savedElsewhere
            if baseSaves { bytes += a * width }
            if adapters > 0 {
                if p != a {
                    bytes += adapters * p * width
                } else if !baseSaves && !savedElsewhere {
                    bytes += a * width
                }
                bytes += adapters * p * loraRank
            }
        }
        return bytes
    }

    /// Saved bytes outside the decoder layers for B sequences of T tokens.
    public func outsideLayerBytes(batch b: Int, sequenceLength t: Int) -> Int {
        let a = activationBytes, c = shape.hiddenSize, v = shape.vocabSize
        var perToken = 4 * c + 4 + 4 * v + 8
        if baseTrains { perToken += 8 + 2 * a * c }
        return b * t * perToken + 2 * t * shape.headDim * a + 4
    }

    /// The activation estimate for B sequences of T tokens.
    public func estimate(batch b: Int, sequenceLength t: Int, checkpointing: Bool,
                         coefficients: PlanCoefficients) -> ActivationEstimate {
        let tokens = b * t
        let perLayer = targetsPerLayer.map { tokens * layerBytesPerToken(targets: $0, sequenceLength: t) }
        let largest = perLayer.max() ?? 0
        let layers = checkpointing
            ? shape.layerCount * tokens * activationBytes * shape.hiddenSize + largest
            : perLayer.reduce(0, +)
        let v = Double(tokens * shape.vocabSize)
        let logits = (coefficients.retainLogits ? v * Double(activationBytes) : 0)
            + coefficients.logitsGradientF32Copies * 4 * v
        return ActivationEstimate(
            perLayer: perLayer, layers: layers, outsideLayers: outsideLayerBytes(batch: b, sequenceLength: t),
            logitsTransient: Int(logits.rounded()),
            backwardWorkspace: Int((coefficients.backwardWorkspaceLayers * Double(largest)).rounded()))
    }
}
