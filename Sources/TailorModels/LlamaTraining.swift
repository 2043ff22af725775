// Training pass of the Llama-family decoder: forward keeping what backward needs, then backward in exactly the
// reverse order. Legend: B batch, T time, M = B·T, C channels, F feed-forward, V vocab, H/G heads, D head size.
import TailorFormats
import TailorTensor

/// A right-padded batch ready for the model.
public struct TrainingBatch: Sendable, Equatable {
    public var tokens: [Int32]      // (B·T) input ids
    public var targets: [Int32]     // (B·T) next-token label of each position, -100 where nothing is trained
    public var segments: [Int32]    // (B·T) sample id per token, -1 for padding
    public var positions: [Int32]   // (B·T) position ids
    public var batch: Int

    public init(tokens: [Int32], targets: [Int32], segments: [Int32], positions: [Int32], batch: Int) {
        self.tokens = tokens
        self.targets = targets
        self.segments = segments
        self.positions = positions
        self.batch = batch
    }

    /// Tokens whose prediction is trained (transformers' num_items_in_batch for this micro-batch).
    public var trainedTokenCount: Int { targets.reduce(0) { $0 + ($1 == -100 ? 0 : 1) } }
}

/// Gradients of one decoder block; nil fields are frozen.
public struct LlamaLayerGradients: Sendable {
    public var attentionNorm: Tensor?
    public var mlpNorm: Tensor?
    public var qNorm: Tensor? = nil, kNorm: Tensor? = nil   // Qwen3, Gemma 3
    public var postAttentionNorm: Tensor? = nil, postMLPNorm: Tensor? = nil   // Gemma
    public var linears: PerLinear<LinearGradients>
}

/// Gradients of the whole model for one optimizer step (allocated zeroed at the start of each step).
public struct LlamaGradients: Sendable {
    public var embedding: Tensor?
    public var layers: [LlamaLayerGradients]
    public var finalNorm: Tensor?
    public var lmHead: Tensor?

    /// Zeroed gradients: every weight for full fine-tuning, otherwise only the LoRA adapters.
    public init(for weights: LlamaWeights, fullFineTuning: Bool) {
        func zeros(_ t: Tensor) -> Tensor? { fullFineTuning ? Tensor(zeros: t.shape) : nil }
        embedding = zeros(weights.embedding)
        finalNorm = zeros(weights.finalNorm)
        lmHead = weights.lmHead.flatMap(zeros)
        layers = weights.layers.map { layer in
            var linears = PerLinear<LinearGradients>()
            for slot in layer.presentLinears {
                if let l = layer[linear: slot] { linears[slot] = LinearGradients(for: l, fullFineTuning: fullFineTuning) }
            }
            return LlamaLayerGradients(attentionNorm: zeros(layer.attentionNorm), mlpNorm: zeros(layer.mlpNorm),
                                       qNorm: layer.qNorm.flatMap(zeros), kNorm: layer.kNorm.flatMap(zeros),
                                       postAttentionNorm: layer.postAttentionNorm.flatMap(zeros),
                                       postMLPNorm: layer.postMLPNorm.flatMap(zeros), linears: linears)
        }
    }
}

/// Switches of one training pass.
public struct TrainingPassOptions: Sendable {
    /// Keep only each block's input and recompute the block during backward.
    public var gradientCheckpointing: Bool
    /// Seed of this micro-batch's dropout masks (LoRA dropout) and NEFTune noise.
    public var seed: UInt64
    /// NEFTune α (0 = off): uniform noise of ±α/sqrt(T·C) added to the input embeddings.
    public var neftuneAlpha: Float
    /// Called with block l's gradients (accumulated so far) as soon as its backward is done, on the calling thread:
    /// data-parallel training starts summing them over the ranks while the blocks below run their backward.
    public var afterLayerBackward: (@Sendable (Int, LlamaLayerGradients) -> Void)?
    /// Rows of each block the output head and loss run on (their logits, rows × vocabulary, are all of them that exist
    /// at once); nil: as many as fit `LlamaModel.headBlockElements`.
    public var headBlockRows: Int?

    public init(gradientCheckpointing: Bool = false, seed: UInt64 = 0, neftuneAlpha: Float = 0,
                afterLayerBackward: (@Sendable (Int, LlamaLayerGradients) -> Void)? = nil, headBlockRows: Int? = nil) {
        self.headBlockRows = headBlockRows
        self.gradientCheckpointing = gradientCheckpointing
        self.seed = seed
        self.neftuneAlpha = neftuneAlpha
        self.afterLayerBackward = afterLayerBackward
    }
}

extension LlamaModel {
    /// Runs forward and backward on `batch`, adding `lossScale`·∂(Σ token NLL)/∂θ into `gradients`.
    /// Returns the sum of the trained tokens' negative log-likelihoods (f64).
    ///
    /// With gradient accumulation, `lossScale` is 1 / (trained tokens of the whole optimizer step), so the
    /// accumulated gradient is that of the mean token loss over the step (transformers' num_items_in_batch).
    /// `tokenLossGradient`, when given, replaces the uniform `lossScale`: it receives every target's NLL and returns
    /// ∂loss/∂NLL per target (preference losses are functions of per-sequence sums of token log-probs).
    public func accumulateGradients(batch: TrainingBatch, lossScale: Float, into gradients: inout LlamaGradients,
                                    options: TrainingPassOptions = TrainingPassOptions(), backend: any Backend,
                                    tokenLossGradient: (([Float]) -> [Float])? = nil) -> Double {
        let c = configuration, t = batch.tokens.count / batch.batch
        let globalAngles = rotaryAngles(positions: batch.positions, backend: backend)
        let localAngles = localRotaryAngles(positions: batch.positions, backend: backend)
        func angles(_ l: Int) -> RotaryAngles { layerAngles(l, global: globalAngles, local: localAngles) }
        var h = embed(batch.tokens, backend: backend)                                       // (M, C)
        if options.neftuneAlpha > 0 { h = addNEFTuneNoise(h, alpha: options.neftuneAlpha, length: t, seed: options.seed, backend: backend) }

        var inputs: [Tensor] = [], kept: [LlamaLayerActivations?] = []
        for l in 0..<c.layerCount {
            inputs.append(h)
            let (out, acts) = layerForward(l, h, batch: batch, angles: angles(l), seed: options.seed, backend: backend)
            // Checkpointing keeps the last block's activations: its backward comes right after the head, which is
            // when a recomputation would make them again.
            kept.append(options.gradientCheckpointing && l < c.layerCount - 1 ? nil : acts)
            h = out
        }
        let final = norm(h, weights.finalNorm, backend: backend)
        // The head: logits and their gradient (M × V each, the largest tensors of the step) live only in here.
        let (lossSum, dFinal) = headForwardBackward(final.output, targets: batch.targets, lossScale: lossScale, blockRows: options.headBlockRows,
                                                    tokenLossGradient: tokenLossGradient, gradients: &gradients, backend: backend)
        guard let dFinal else { return lossSum }
        var dh = normBackward(dFinal, input: h, weights.finalNorm, saved: final, weightGradient: &gradients.finalNorm, backend: backend)
        for l in (0..<c.layerCount).reversed() {
            let acts = kept[l] ?? layerForward(l, inputs[l], batch: batch, angles: angles(l), seed: options.seed,
                                               outputNeeded: false, backend: backend).1
            kept[l] = nil
            dh = blockBackward(l, dh, acts, shape: selfAttentionShape(layer: l, batch: batch.batch, length: t), segments: batch.segments,
                               angles: angles(l),
                               gradients: &gradients.layers[l], backend: backend)
            options.afterLayerBackward?(l, gradients.layers[l])
        }
        if gradients.embedding != nil {
            var table = gradients.embedding ?? Tensor(zeros: weights.embedding.shape)
            gradients.embedding = nil   // keep `table` the only reference while adding into it
            embedBackward(dh, ids: batch.tokens, tableGradient: &table, backend: backend)
            gradients.embedding = table
        }
        return lossSum
    }

    /// Output projection, loss and the gradient flowing back into the final norm; accumulates the head's gradient
    /// (the embedding's when tied). Returns the sum of the trained tokens' NLL.
    func headForwardBackward(_ allNormed: Tensor, targets allTargets: [Int32], lossScale: Float, blockRows requestedRows: Int?,
                             tokenLossGradient: (([Float]) -> [Float])?,
                             gradients: inout LlamaGradients, backend: any Backend) -> (Double, Tensor?) {
        // Only trained positions go through the head: the others' logits get no gradient (see HeadRows.swift).
        let rows = trainedRows(allTargets)
        let normed = rows.map { allNormed.gatheringRows($0) } ?? allNormed
        let targets = rows.map { $0.map { allTargets[$0] } } ?? allTargets
        // Per-token weights (preference losses) need every row's loss before any gradient: one block of all rows.
        // Otherwise the head runs in blocks of rows, so its logits (M × V, SmolLM2's largest tensor: 201 MB at 4 × 256)
        // never exist whole and each block's buffer is the previous block's (no fresh pages to fault in).
        let fitting = max(16, Self.headBlockElements / max(1, weights.outputProjection.shape[0]))
        let mostRows = tokenLossGradient == nil ? max(1, requestedRows ?? fitting) : max(1, targets.count)
        // Blocks of equal size (SmolLM2 at 4 × 256: 7 × 147 rows rather than 6 × 170 + 4): one pooled buffer size, no tiny GEMM.
        let blockCount = max(1, (targets.count + mostRows - 1) / mostRows)
        let blockRows = max(1, (targets.count + blockCount - 1) / blockCount)
        let cap = configuration.finalLogitSoftCap.map(Float.init)
        var lossSum = 0.0
        let whole = blockRows >= targets.count
        var dNormed = Tensor(uninitialized: whole ? [0, normed.shape[1]] : normed.shape)
        var noBias: Tensor? = nil
        let tied = weights.lmHead == nil
        var headGradient = tied ? gradients.embedding : gradients.lmHead
        if tied { gradients.embedding = nil } else { gradients.lmHead = nil }   // one reference while accumulating
        for start in stride(from: 0, to: targets.count, by: blockRows) {
            let block = start..<min(targets.count, start + blockRows)
            let x = whole ? normed : normed.rows(block)
            let blockTargets = Array(targets[block])
            var logits = backend.linear(x, weight: weights.outputProductWeight, bias: nil,
                                        precision: weights.outputPrecision)   // (rows, V)
            // Gemma 2's final soft-cap: the uncapped logits stay for its backward (one more tensor, Gemma 2 only).
            // Without a cap nothing else holds `logits`, so the loss pass can turn its storage into the gradient.
            var uncapped: Tensor? = nil
            if let cap {
                uncapped = logits
                logits = backend.softCap(logits, cap: cap)
            }
            // Per-token weights (preference losses) need the losses first. They come from `crossEntropy`, the pass a
            // reference forward uses, so that a policy equal to its reference gets bitwise equal log-probs.
            let dLoss = tokenLossGradient.map { closure -> [Float] in
                let losses = backend.crossEntropy(logits: logits, targets: blockTargets).floats()
                var all = [Float](repeating: 0, count: allTargets.count)
                for (i, r) in (rows ?? Array(allTargets.indices)).enumerated() { all[r] = losses[i] }
                let weightsOfAll = closure(all)
                return (rows ?? Array(allTargets.indices)).map { weightsOfAll[$0] }
            } ?? [Float](repeating: lossScale, count: block.count)
            var (lossTensor, dLogits) = backend.crossEntropyWithGradient(logits: consume logits, targets: blockTargets, dLoss: dLoss)
            if let cap, let uncapped { dLogits = backend.softCapBackward(dOutput: dLogits, input: uncapped, cap: cap) }
            lossSum += zip(lossTensor.floats(), blockTargets).reduce(0.0) { $0 + ($1.1 == -100 ? 0 : Double($1.0)) }
            let dx = backend.linearBackward(dOutput: dLogits, input: x, weight: weights.outputProductWeight,
                                            weightGradient: &headGradient, biasGradient: &noBias, needInputGradient: true,
                                            precision: weights.outputPrecision)
            guard let dx else { continue }
            if whole { dNormed = dx } else { dx.copyRows(into: &dNormed, block.indices.map { ($0 - block.lowerBound, $0) }) }
        }
        if tied { gradients.embedding = headGradient } else { gradients.lmHead = headGradient }
        return (lossSum, rows.map { dNormed.scatteringRows($0, into: allTargets.count) } ?? dNormed)
    }

    /// Most logits per block of the training head (rows × vocabulary): 8 Mi values, 32 MiB in f32 (170 rows of SmolLM2's 49,152 tokens).
    static let headBlockElements = 1 << 23

    /// Block `l` forward over the batch, keeping what its backward needs: each linear layer's adapter state and
    /// LoRA dropout mask (drawn here), and the attention's saved state. Without `outputNeeded` (recomputation for the
    /// backward) the block may skip its last product and return an empty output (`blockForward`'s `outputUnused`).
    func layerForward(_ l: Int, _ input: Tensor, batch: TrainingBatch, angles: RotaryAngles, seed: UInt64,
                      outputNeeded: Bool = true, backend: any Backend) -> (Tensor, LlamaLayerActivations) {
        var linears = LinearActivations()
        let shape = selfAttentionShape(layer: l, batch: batch.batch, length: batch.tokens.count / batch.batch)
        func mask(_ slot: LinearSlot, _ linear: Linear, _ x: Tensor) -> Tensor? {
            let mask = dropoutMask(for: linear, layer: l, slot: slot, rows: x.shape[0], seed: seed)
            if let mask { linears.masks[slot] = mask }
            return mask
        }
        var (output, activations) = blockForward(l, input, angles: angles, backend: backend, project: { slots, layers, x in
            zip(slots, layers).map { slot, linear in
                let (y, saved) = linear.forward(x, backend: backend, dropoutMask: mask(slot, linear, x))
                linears.saved[slot] = saved
                return y
            }
        }, attend: { _, q, k, v in
            backend.attention(query: q, key: k, value: v, shape: shape, segments: batch.segments, keepLogSumExp: true)
        }, outputUnused: outputNeeded ? nil : { slot, linear, x in
            linears.saved[slot] = linear.savedState(x, backend: backend, dropoutMask: mask(slot, linear, x))
        })
        activations.linears = linears
        return (output, activations)
    }

    /// Inverted-dropout mask for a LoRA adapter's input: 0 or 1/(1-p), seeded per (micro-batch, layer, module) so that
    /// recomputation under gradient checkpointing and resumed runs draw the same masks.
    func dropoutMask(for linear: Linear, layer: Int, slot: LinearSlot, rows: Int, seed: UInt64) -> Tensor? {
        guard let p = linear.lora?.dropout, p > 0 else { return nil }
        let moduleIndex = UInt64(slot.rawValue)
        var rng = SplitMix64(seed: seed ^ (UInt64(layer + 1) &* 0x9E37_79B9) ^ (moduleIndex &* 0x85EB_CA6B))
        let keep = 1 / (1 - p)
        let values = (0..<(rows * linear.inFeatures)).map { _ in Float(rng.next() >> 40) / Float(1 << 24) < p ? 0 : keep }
        return Tensor(shape: [rows, linear.inFeatures], values: values)
    }

    /// NEFTune: uniform noise in ±α/sqrt(T·C) on the input embeddings (training only).
    func addNEFTuneNoise(_ h: Tensor, alpha: Float, length: Int, seed: UInt64, backend: any Backend) -> Tensor {
        let bound = alpha / Float(length * configuration.hiddenSize).squareRoot()
        var rng = SplitMix64(seed: seed ^ 0x4E45_4654)
        let noise = (0..<h.count).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * bound }
        return backend.add(h, Tensor(shape: h.shape, values: noise))
    }
}
