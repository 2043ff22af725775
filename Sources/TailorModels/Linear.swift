// A linear layer y = x·Wᵀ + b, optionally with a LoRA adapter: y += s·(dropout(x)·Aᵀ)·Bᵀ (PEFT semantics).
// Legend: M rows, K input features, N output features, R LoRA rank.
import TailorTensor

/// Low-rank adapter on a frozen linear layer (PEFT's lora_A / lora_B).
public struct LoRAAdapter: Sendable {
    public var a: Tensor        // (R, K) lora_A.weight
    public var b: Tensor        // (N, R) lora_B.weight
    /// lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.
    public var scaling: Float
    /// Probability of dropping an input feature of A during training.
    public var dropout: Float
    /// DoRA's lora_magnitude_vector m `(N)`; nil for plain LoRA (see LoRA/DoRA.swift).
    public var magnitude: Tensor?
    /// DoRA: ‖W + s·B·A‖ per output row `(N)`, computed once when the adapter is attached to its layer (PEFT detaches
    /// it); nil means computed on each forward. Stale once W, A or B change: set it to nil then.
    public var weightNorm: Tensor?

    public init(a: Tensor, b: Tensor, scaling: Float, dropout: Float = 0, magnitude: Tensor? = nil) {
        self.a = a
        self.b = b
        self.scaling = scaling
        self.dropout = dropout
        self.magnitude = magnitude
    }

    public var rank: Int { a.shape[0] }
}

/// A linear layer with an optional bias and LoRA adapter. The weight is dense (f32, bf16, f16) or packed
/// (4-bit, frozen; `weight` is then empty).
public struct Linear: Sendable {
    public var weight: Tensor   // (N, K), f32, bf16 or f16; empty when `packed` holds the weight
    public var packed: (any PackedMatrix)?
    public var bias: Tensor?    // (N)
    public var lora: LoRAAdapter?
    /// Precision of the products with the base weight (forward and input gradient); the adapter is always f32.
    public var precision: MatmulPrecision = .f32
    /// A bf16 copy of a trained f32 weight that bf16 products read instead of rounding the weight at every call
    /// (full fine-tuning; refreshed after each optimizer step by `LlamaWeights.refreshComputeCopies`).
    public var computeCopy: Tensor?

    /// The weight the products read.
    var productWeight: Tensor { computeCopy ?? weight }

    public init(weight: Tensor, bias: Tensor? = nil, lora: LoRAAdapter? = nil) {
        self.weight = weight
        self.bias = bias
        self.lora = lora
    }

    /// A frozen layer whose weight is packed.
    public init(packed: any PackedMatrix, bias: Tensor? = nil) {
        weight = Tensor(zeros: [0, packed.shape[1]])
        self.packed = packed
        self.bias = bias
    }

    public var inFeatures: Int { packed?.shape[1] ?? weight.shape[1] }
    public var outFeatures: Int { packed?.shape[0] ?? weight.shape[0] }
    /// Bytes of the base weight as stored.
    public var weightByteCount: Int { packed?.byteCount ?? weight.byteCount }

    /// What training keeps for the backward pass: the adapter's input after dropout and its low-rank product.
    public struct Saved: Sendable {
        var droppedInput: Tensor?   // (M, K) dropout(x); nil without dropout (x itself is used)
        var lowRank: Tensor?        // (M, R) dropout(x)·Aᵀ
    }

    /// Inference: no dropout, nothing saved.
    public func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        forward(x, backend: backend, dropoutMask: nil).output
    }

    /// Inference of layers that share one input (q/k/v, gate/up): what `forward` returns for each, with the base
    /// products run together by `Backend.linears` when the layers store their weights alike (decode then hands the
    /// whole group to the cores at once), adapters added after.
    static func forward(_ linears: [Linear], _ x: Tensor, backend: any Backend) -> [Tensor] {
        guard let first = linears.first, linears.count > 1, linears.allSatisfy({
            $0.precision == first.precision && ($0.packed == nil) == (first.packed == nil)
        }) else { return linears.map { $0.forward(x, backend: backend) } }
        let biases = linears.map(\.bias)
        let bases = first.packed == nil
            ? backend.linears(x, weights: linears.map(\.productWeight), biases: biases, precision: first.precision)
            : backend.linears(x, packedWeights: linears.compactMap(\.packed), biases: biases, precision: first.precision)
        return zip(linears, bases).map { linear, base in linear.addingAdapter(to: base, x, backend: backend, dropoutMask: nil).output }
    }

    /// Training forward; `dropoutMask` holds 0 or 1/(1-p) per input element when dropout is active.
    func forward(_ x: Tensor, backend: any Backend, dropoutMask: Tensor?) -> (output: Tensor, saved: Saved) {
        let base = packed.map { backend.linear(x, packedWeight: $0, bias: bias, precision: precision) }
            ?? backend.linear(x, weight: productWeight, bias: bias, precision: precision)
        return addingAdapter(to: consume base, x, backend: backend, dropoutMask: dropoutMask)
    }

    /// The base product `base` of input `x` with the adapter's term added, and what the backward keeps.
    private func addingAdapter(to base: consuming Tensor, _ x: Tensor, backend: any Backend,
                               dropoutMask: Tensor?) -> (output: Tensor, saved: Saved) {
        let saved = savedState(x, backend: backend, dropoutMask: dropoutMask)
        guard let lora, let lowRank = saved.lowRank else { return (base, saved) }
        if lora.isDoRA {
            let update = backend.linear(lowRank, weight: lora.b, bias: nil)                         // (M, N)
            return (doraOutput(base: base, update: update, dropped: saved.droppedInput, lora: lora, backend: backend), saved)
        }
        // base + s·(lowRank·Bᵀ), accumulated into the base output in one product.
        return (backend.addingLinear(consume base, lowRank, weight: lora.b, scale: lora.scaling), saved)
    }

    /// What the training forward saves for the backward, without the layer's output (no product with the base
    /// weight): gradient checkpointing's recomputation of a layer whose output nothing reads.
    func savedState(_ x: Tensor, backend: any Backend, dropoutMask: Tensor?) -> Saved {
        guard let lora else { return Saved(droppedInput: nil, lowRank: nil) }
        let dropped = dropoutMask.map { backend.multiply(x, $0) }
        return Saved(droppedInput: dropped, lowRank: backend.linear(dropped ?? x, weight: lora.a, bias: nil))   // (M, R)
    }

    /// Backward: returns dx when asked; accumulates into `gradients` the parts it holds (weight, bias, A, B).
    func backward(dOutput dy: Tensor, input x: Tensor, saved: Saved, dropoutMask: Tensor?,
                  gradients: inout LinearGradients, needInputGradient: Bool, backend: any Backend) -> Tensor? {
        var dx: Tensor?
        if let packed {
            dx = needInputGradient ? backend.linearInputGradient(dOutput: dy, packedWeight: packed, precision: precision) : nil
        } else {
            dx = backend.linearBackward(dOutput: dy, input: x, weight: productWeight, weightGradient: &gradients.weight,
                                        biasGradient: &gradients.bias, needInputGradient: needInputGradient,
                                        precision: precision)
        }
        guard let lora, let lowRank = saved.lowRank else { return dx }
        // y_lora = s·(x'Aᵀ)Bᵀ: dB += dyᵀ·(s·x'Aᵀ); d(x'Aᵀ) = s·(dy·B); dA += d(x'Aᵀ)ᵀ·x'; dx' = d(x'Aᵀ)·A.
        // The scale multiplies the rank-R tensors (M × R), never the M × N gradient.
        var noBias: Tensor? = nil
        guard let unscaledDLowRank = backend.linearBackward(
            dOutput: dy, input: backend.scale(lowRank, by: lora.scaling), weight: lora.b,
            weightGradient: &gradients.loraB, biasGradient: &noBias, needInputGradient: true) else { return dx }
        let dLowRank = backend.scale(unscaledDLowRank, by: lora.scaling)
        let dDropped = backend.linearBackward(dOutput: dLowRank, input: saved.droppedInput ?? x, weight: lora.a,
                                              weightGradient: &gradients.loraA, biasGradient: &noBias,
                                              needInputGradient: needInputGradient)
        if let dDropped, let current = dx {
            dx = backend.add(current, dropoutMask.map { backend.multiply(dDropped, $0) } ?? dDropped)
        }
        return dx
    }
}

/// Gradients of one linear layer; nil fields are not trained.
public struct LinearGradients: Sendable {
    public var weight: Tensor?
    public var bias: Tensor?
    public var loraA: Tensor?
    public var loraB: Tensor?

    public init(weight: Tensor? = nil, bias: Tensor? = nil, loraA: Tensor? = nil, loraB: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
        self.loraA = loraA
        self.loraB = loraB
    }

    /// Zeroed gradients for what `linear` trains: the adapter when it has one and `fullFineTuning` is off.
    public init(for linear: Linear, fullFineTuning: Bool) {
        if fullFineTuning {
            weight = Tensor(zeros: linear.weight.shape)
            bias = linear.bias.map { Tensor(zeros: $0.shape) }
        }
        if let lora = linear.lora {
            loraA = Tensor(zeros: lora.a.shape)
            loraB = Tensor(zeros: lora.b.shape)
        }
    }
}
