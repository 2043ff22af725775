// What the families change in the shared decoder block, each in one place: Gemma's (1 + w) norm weights, scaled
// embeddings, post-norms, GeGLU and soft-capping; every family's attention shape (window, scale, cap) per layer.
// Legend: M rows, C channels, F feed-forward, V vocab.
import TailorFormats
import TailorTensor

extension ModelConfig {
    /// The weight an RMSNorm multiplies by: `weight` itself, or Gemma's `1 + weight` computed in f32 as transformers'
    /// `1.0 + weight.float()`. The gradient with respect to the stored weight equals the one with respect to this
    /// applied weight, so backward passes take it unchanged.
    public func appliedNormWeight(_ weight: Tensor) -> Tensor {
        normWeightOffset == 0 ? weight : weight.adding(normWeightOffset)
    }

    /// The shape of layer `layer`'s attention call: its sliding window, and Gemma 2's score scale and soft-cap.
    public func attentionShape(layer: Int, batch: Int, queryLength: Int, keyLength: Int, keyCapacity: Int? = nil,
                               queryOffset: Int = 0) -> AttentionShape {
        AttentionShape(batch: batch, queryLength: queryLength, keyLength: keyLength, keyCapacity: keyCapacity,
                       heads: headCount, kvHeads: kvHeadCount, headDim: headDim, queryOffset: queryOffset,
                       slidingWindow: slidingWindow(layer: layer),
                       scale: queryPreAttentionScalar == nil ? nil : Float(attentionScale),
                       logitSoftCap: attentionLogitSoftCap.map(Float.init))
    }
}

extension LlamaModel {
    /// Gemma 3's local RoPE angles (`localRopeTheta`, no scaling) for the sliding layers; nil when every layer uses
    /// `rotaryAngles`.
    func localRotaryAngles(positions: [Int32], backend: any Backend) -> RotaryAngles? {
        guard let base = configuration.localRopeTheta else { return nil }
        let frequencies = RotaryFrequencies.inverseFrequencies(base: base, headDim: configuration.headDim, scaling: nil)
        return backend.rotaryAngles(positions: positions, inverseFrequencies: frequencies)
    }

    /// The angles layer `layer` rotates q and k with: the local ones on Gemma 3's sliding layers, else the global ones.
    func layerAngles(_ layer: Int, global: RotaryAngles, local: RotaryAngles?) -> RotaryAngles {
        guard let local, configuration.isLocalLayer(layer) else { return global }
        return local
    }

    /// The input embeddings of `ids` (M, C), from the int8 head when the embedding is tied to it (see
    /// `LlamaWeights.outputPacked`): Gemma multiplies them by √C rounded to the table's dtype, as transformers'
    /// `embed_scale.to(weight.dtype)`.
    func embed(_ ids: [Int32], backend: any Backend) -> Tensor {
        let tiedPacked = weights.lmHead == nil ? weights.outputPacked : nil
        let rows = tiedPacked.map { $0.rows(ids) } ?? backend.embedding(ids: ids, table: weights.embedding)
        guard let factor = embeddingFactor else { return rows }
        return backend.scale(rows, by: factor)
    }

    /// Adds the gradient of `embed`'s output `dOutput` into the table's gradient.
    func embedBackward(_ dOutput: Tensor, ids: [Int32], tableGradient: inout Tensor, backend: any Backend) {
        let dRows = embeddingFactor.map { backend.scale(dOutput, by: $0) } ?? dOutput
        backend.embeddingBackward(dOutput: dRows, ids: ids, tableGradient: &tableGradient)
    }

    /// Gemma's embedding multiplier in the table's precision; nil for the other families.
    var embeddingFactor: Float? {
        guard let scale = configuration.embeddingScale else { return nil }
        let dtype = [.bf16, .f16].contains(weights.embedding.dtype) ? weights.embedding.dtype : DType.f32
        return Tensor(shape: [1], values: [Float(scale)]).converted(to: dtype).converted(to: .f32).floats()[0]
    }

    /// RMSNorm of `x` (M, C) with a stored norm weight (applied as `appliedNormWeight`).
    func norm(_ x: Tensor, _ weight: Tensor, backend: any Backend) -> RMSNormOutput {
        backend.rmsNorm(x, weight: configuration.appliedNormWeight(weight), eps: Float(configuration.rmsNormEps))
    }

    /// `a + b` (the residual add) and `norm` of it, in one pass.
    func addNorm(_ a: Tensor, _ b: Tensor, _ weight: Tensor, backend: any Backend) -> (sum: Tensor, normalized: RMSNormOutput) {
        backend.addRMSNorm(a, b, weight: configuration.appliedNormWeight(weight), eps: Float(configuration.rmsNormEps))
    }

    /// The input gradient of `norm`, plus `residual` (the gradient reaching the same input around the norm) when
    /// given; adds the weight's gradient into `weightGradient` when non-nil.
    func normBackward(_ dOutput: Tensor, input: Tensor, _ weight: Tensor, saved: RMSNormOutput, adding residual: Tensor? = nil,
                      weightGradient: inout Tensor?, backend: any Backend) -> Tensor {
        backend.rmsNormBackward(dOutput: dOutput, input: input, weight: configuration.appliedNormWeight(weight),
                                inverseRMS: saved.inverseRMS, adding: residual, weightGradient: &weightGradient)
    }

    /// Gemma's post-norm of a sub-block's output (M, C) before it joins the residual; `x` unchanged without one.
    func postNorm(_ x: Tensor, _ weight: Tensor?, backend: any Backend) -> (output: Tensor, saved: RMSNormOutput?) {
        guard let weight else { return (x, nil) }
        let normed = norm(x, weight, backend: backend)
        return (normed.output, normed)
    }

    /// The gradient of `postNorm`'s input; adds into `weightGradient` when non-nil.
    func postNormBackward(_ dOutput: Tensor, input: Tensor, _ weight: Tensor?, saved: RMSNormOutput?, weightGradient: inout Tensor?,
                          backend: any Backend) -> Tensor {
        guard let weight, let saved else { return dOutput }
        return normBackward(dOutput, input: input, weight, saved: saved, weightGradient: &weightGradient, backend: backend)
    }

    /// The MLP's gate: `silu(gate)·up`, or Gemma's `gelu_tanh(gate)·up` (M, F).
    func gatedActivation(gate: Tensor, up: Tensor, backend: any Backend) -> Tensor {
        configuration.isGemma ? backend.geglu(gate: gate, up: up) : backend.swiglu(gate: gate, up: up)
    }

    /// The gradients of `gatedActivation`'s gate and up inputs.
    func gatedActivationBackward(dOutput: Tensor, gate: Tensor, up: Tensor, backend: any Backend) -> (gate: Tensor, up: Tensor) {
        configuration.isGemma ? backend.gegluBackward(dOutput: dOutput, gate: gate, up: up)
            : backend.swigluBackward(dOutput: dOutput, gate: gate, up: up)
    }

    /// Logits (M, V) of final hidden states (M, C): the output projection, then Gemma 2's final soft-cap.
    func logits(_ normed: Tensor, backend: any Backend) -> Tensor {
        let raw = weights.outputPacked.map { backend.linear(normed, packedWeight: $0, bias: nil, precision: weights.outputPrecision) }
            ?? backend.linear(normed, weight: weights.outputProductWeight, bias: nil, precision: weights.outputPrecision)
        guard let cap = configuration.finalLogitSoftCap else { return raw }
        return backend.softCap(raw, cap: Float(cap))
    }
}
