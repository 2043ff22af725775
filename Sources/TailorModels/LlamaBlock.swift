// One decoder block of the Llama family (Llama, Mistral, Qwen2/3, Phi-3, Gemma 2/3, SmolLM), forward and backward,
// written once for every caller: inference with or without a KV cache, the continuous-batching step, and training.
// What the families change in it (Gemma's norms, GeGLU, soft-caps, …) is in BlockVariants.swift.
// Legend: M rows (B·T), C channels, F feed-forward, H/G query/kv heads, D head size.
import TailorFormats
import TailorTensor

/// Runs block `layer`'s attention on q (M, H·D) and k, v (M, G·D), all after head norms and RoPE: over the batch
/// itself (training, scoring), over a KV cache the new keys join (generation), or over one cache per request (the
/// batch step).
typealias AttendLayer = (_ layer: Int, _ q: Tensor, _ k: Tensor, _ v: Tensor) -> AttentionOutput

/// Keeps what one linear layer's backward needs without running its product (`Linear.savedState`).
typealias SaveLayer = (_ slot: LinearSlot, _ linear: Linear, _ input: Tensor) -> Void

/// What one block's forward keeps for its backward.
struct LlamaLayerActivations {
    var input: Tensor                        // (M, C) residual entering the block
    var attentionNorm: RMSNormOutput         // (M, C), (M)
    var qNorm: HeadNormSaved?, kNorm: HeadNormSaved?   // Qwen3's and Gemma 3's per-head norms
    var q: Tensor, k: Tensor, v: Tensor      // (M, H·D), (M, G·D), (M, G·D) after RoPE
    var attention: AttentionOutput           // output (M, H·D); what its backward reads
    var middle: Tensor                       // (M, C) residual after attention
    var mlpNorm: RMSNormOutput
    var gate: Tensor, up: Tensor, gated: Tensor   // (M, F)
    /// What each linear layer's forward kept (training only; `project` fills it).
    var linears = LinearActivations()
    // Gemma's post-norms: o_proj's and down_proj's outputs (M, C) with their norm statistics; nil without them.
    var attentionProjected: Tensor? = nil, postAttention: RMSNormOutput? = nil
    var mlpProjected: Tensor? = nil, postMLP: RMSNormOutput? = nil
}

/// Per linear layer: its saved adapter state and its LoRA dropout mask.
struct LinearActivations {
    var saved = PerLinear<Linear.Saved>()
    var masks = PerLinear<Tensor>()
}

extension LlamaModel {
    /// Block `l` on the residual `input` (M, C): its output (M, C) and what its backward needs. `project` runs the
    /// linear layers (plainly, keeping what training needs, or with per-row adapters); `attend` runs attention.
    ///
    /// `outputUnused`, for gradient checkpointing's recomputation (only the activations are read): when the block
    /// has no post-MLP norm and a plain down projection, the down projection's product is skipped (a quarter of a
    /// block's product work), `outputUnused` keeps what its backward needs, and the output returned is empty (0 × C).
    func blockForward(_ l: Int, _ input: Tensor, angles: RotaryAngles, backend: any Backend,
                      project: ProjectLayers, attend: AttendLayer,
                      outputUnused: SaveLayer? = nil) -> (output: Tensor, activations: LlamaLayerActivations) {
        let c = configuration, w = weights.layers[l], eps = Float(c.rmsNormEps)
        let n1 = norm(input, w.attentionNorm, backend: backend)
        let (qRaw, kRaw, v) = w.queryKeyValue(n1.output, configuration: c, project: project)
        // Each tensor handed on with `consume`, so RoPE rotates the only reference in place.
        let (qNormed, qNormSaved) = headNormForward(consume qRaw, weight: w.qNorm.map(c.appliedNormWeight), heads: c.headCount,
                                                    eps: eps, backend: backend)
        let (kNormed, kNormSaved) = headNormForward(consume kRaw, weight: w.kNorm.map(c.appliedNormWeight), heads: c.kvHeadCount,
                                                    eps: eps, backend: backend)
        let q = backend.applyRotary(consume qNormed, heads: c.headCount, angles: angles)
        let k = backend.applyRotary(consume kNormed, heads: c.kvHeadCount, angles: angles)
        let attention = attend(l, q, k, v)
        let attentionProjected = project([.o], [w.oProj], attention.output)[0]
        let postAttention = postNorm(attentionProjected, w.postAttentionNorm, backend: backend)
        let (middle, n2) = addNorm(input, postAttention.output, w.mlpNorm, backend: backend)
        let (gate, up) = w.gateAndUp(n2.output, project: project)
        let gated = gatedActivation(gate: gate, up: up, backend: backend)
        var activations = LlamaLayerActivations(input: input, attentionNorm: n1, qNorm: qNormSaved, kNorm: kNormSaved,
                                                q: q, k: k, v: v, attention: attention, middle: middle, mlpNorm: n2,
                                                gate: gate, up: up, gated: gated)
        if postAttention.saved != nil {
            (activations.attentionProjected, activations.postAttention) = (attentionProjected, postAttention.saved)
        }
        if let outputUnused, w.postMLPNorm == nil, w.downProj.lora?.isDoRA != true {
            outputUnused(.down, w.downProj, gated)
            return (Tensor(zeros: [0, c.hiddenSize]), activations)
        }
        let mlpProjected = project([.down], [w.downProj], gated)[0]
        let postMLP = postNorm(mlpProjected, w.postMLPNorm, backend: backend)
        if postMLP.saved != nil { (activations.mlpProjected, activations.postMLP) = (mlpProjected, postMLP.saved) }
        return (backend.add(middle, postMLP.output), activations)
    }

    /// Block `l` backward: the gradient of its output in, the gradient of its input out; adds into `g` what it trains.
    func blockBackward(_ l: Int, _ dOutput: Tensor, _ a: LlamaLayerActivations, shape: AttentionShape, segments: KeySegments?,
                       angles: RotaryAngles, gradients g: inout LlamaLayerGradients, backend: any Backend) -> Tensor {
        let c = configuration, w = weights.layers[l]
        func back(_ slot: LinearSlot, _ linear: Linear, _ dy: Tensor, _ x: Tensor) -> Tensor {
            let dx = g.linears.update(slot, initial: LinearGradients()) { gradients in
                linear.backward(dOutput: dy, input: x, saved: a.linears.saved[slot] ?? Linear.Saved(droppedInput: nil, lowRank: nil),
                                dropoutMask: a.linears.masks[slot], gradients: &gradients, needInputGradient: true, backend: backend)
            }
            return dx ?? Tensor(zeros: x.shape)
        }
        let dMLPProjected = postNormBackward(dOutput, input: a.mlpProjected ?? dOutput, w.postMLPNorm, saved: a.postMLP,
                                             weightGradient: &g.postMLPNorm, backend: backend)
        let dGated = back(.down, w.downProj, dMLPProjected, a.gated)
        let (dGate, dUp) = gatedActivationBackward(dOutput: dGated, gate: a.gate, up: a.up, backend: backend)
        let dn2 = w.gateAndUpBackward(dGate: dGate, dUp: dUp, backend: backend) { slot, linear, dy in back(slot, linear, dy, a.mlpNorm.output) }
        let dMiddle = normBackward(dn2, input: a.middle, w.mlpNorm, saved: a.mlpNorm, adding: dOutput,
                                   weightGradient: &g.mlpNorm, backend: backend)
        let dAttentionProjected = postNormBackward(dMiddle, input: a.attentionProjected ?? dMiddle, w.postAttentionNorm,
                                                   saved: a.postAttention, weightGradient: &g.postAttentionNorm, backend: backend)
        let dAttended = back(.o, w.oProj, dAttentionProjected, a.attention.output)
        // Taken apart right away, so each gradient is the only reference to its bytes and RoPE rotates it in place.
        let (dQuery, dKey, dValue) = backend.attentionBackward(
            dOutput: dAttended, query: a.q, key: a.k, value: a.v, output: a.attention.output,
            logSumExp: a.attention.logSumExp ?? Tensor(zeros: [0]), shape: shape, segments: segments).parts
        let dq = headNormBackward(backend.applyRotaryBackward(consume dQuery, heads: c.headCount, angles: angles),
                                  weight: w.qNorm.map(c.appliedNormWeight), saved: a.qNorm, heads: c.headCount, weightGradient: &g.qNorm, backend: backend)
        let dk = headNormBackward(backend.applyRotaryBackward(consume dKey, heads: c.kvHeadCount, angles: angles),
                                  weight: w.kNorm.map(c.appliedNormWeight), saved: a.kNorm, heads: c.kvHeadCount, weightGradient: &g.kNorm, backend: backend)
        let x1 = a.attentionNorm.output
        let dn1 = w.queryKeyValueBackward(dq: dq, dk: dk, dv: dValue, backend: backend) { slot, linear, dy in back(slot, linear, dy, x1) }
        return normBackward(dn1, input: a.input, w.attentionNorm, saved: a.attentionNorm, adding: dMiddle,
                            weightGradient: &g.attentionNorm, backend: backend)
    }

    /// The shape of block `l`'s attention over a batch of `batch` rows of `length` tokens attending to themselves.
    func selfAttentionShape(layer l: Int, batch: Int, length: Int) -> AttentionShape {
        configuration.attentionShape(layer: l, batch: batch, queryLength: length, keyLength: length)
    }

    /// Block `l`'s attention over a KV cache: appends k and v (`count` new positions per batch entry of the cache) to
    /// layer `l`, then attends q to every cached key. `newSegments` are the new positions' sample ids (nil: one sample).
    func attendCached(_ l: Int, q: Tensor, k: Tensor, v: Tensor, count: Int, cache: inout KVCache, newSegments: [Int32]?,
                      backend: any Backend) -> AttentionOutput {
        let past = cache.length
        cache.append(layer: l, keys: k, values: v, count: count)
        let shape = configuration.attentionShape(layer: l, batch: cache.batch, queryLength: count, keyLength: past + count,
                                                 keyCapacity: cache.capacity, queryOffset: past)
        return backend.attention(query: q, key: cache.keys[l], value: cache.values[l], shape: shape,
                                 segments: newSegments.map { cache.segmentsIncluding($0, count: count) }, keepLogSumExp: false)
    }
}

private extension AttentionGradients {
    /// The three gradients as separate values.
    var parts: (query: Tensor, key: Tensor, value: Tensor) { (query, key, value) }
}
