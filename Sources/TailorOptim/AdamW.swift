// torch.optim.AdamW (decoupled weight decay, single-tensor path) over named f32 parameters, with the Trainer's groups.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TailorTensor

/// AdamW exactly as `torch.optim.AdamW(foreach=False)` steps it, with transformers' Trainer parameter groups.
///
/// Per parameter, step t = 1, 2, …, with the current scheduled learning rate `lr`:
/// `p ← p·(1 − lr·wd)`, `m ← lerp(m, g, 1 − β1)`, `v ← β2·v + (1 − β2)·g²`,
/// `p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)`; bias corrections are f64, everything else f32 in torch's
/// operation order. Weight decay applies only to parameters `decays(parameterNamed:)` accepts (the Trainer's
/// `get_decay_parameter_names`); the others form torch's second group with weight decay 0.
///
/// The moments `m` (exp_avg) and `v` (exp_avg_sq) start at zero on the first step, one pair per parameter.
public struct AdamW: Sendable {
    /// The hyperparameters; `learningRate` is the base rate a schedule scales (the step takes the scheduled one).
    public let configuration: AdamWConfiguration
    /// Optimizer steps taken so far (torch's per-parameter `state["step"]`, equal for all parameters here).
    public private(set) var stepCount: Int = 0
    /// The names of the parameters, in the order `step` receives them; empty before the first step.
    public private(set) var parameterNames: [String] = []
    /// First moments, one per parameter, shaped like it.
    private(set) var expAvg: [Tensor] = []
    /// Second moments, one per parameter, shaped like it.
    private(set) var expAvgSq: [Tensor] = []

    /// A fresh optimizer; state is created on the first `step`.
    public init(configuration: AdamWConfiguration) {
        self.configuration = configuration
    }

    /// Installs restored state (see `init(configuration:restoring:…)`).
    mutating func restore(stepCount: Int, parameterNames: [String], expAvg: [Tensor], expAvgSq: [Tensor]) {
        self.stepCount = stepCount
        self.parameterNames = parameterNames
        self.expAvg = expAvg
        self.expAvgSq = expAvgSq
    }

    /// True when the Trainer puts `name` in the weight-decay group: false for names that, lower-cased, contain
    /// `bias`, `layernorm` or `rmsnorm`, have a dot-separated component equal to `norm` (`(^|\.)norm($|\.)`) or
    /// ending in `_norm` (`_norm($|\.)`). So `model.norm.weight`, `*.input_layernorm.weight`, `*.q_norm.weight` and
    /// every `*.bias` do not decay; projection, embedding, `lm_head` and LoRA `lora_A` / `lora_B` weights do.
    /// (The Trainer also exempts any parameter inside an `nn.LayerNorm` by type, e.g. GPT-2's `ln_f`; Llama-family
    /// norms are RMSNorm modules, so names decide for them.)
    public static func decays(parameterNamed name: String) -> Bool {
        let lower = name.lowercased()
        if lower.contains("bias") || lower.contains("layernorm") || lower.contains("rmsnorm") { return false }
        for component in lower.split(separator: ".", omittingEmptySubsequences: false)
        where component == "norm" || component.hasSuffix("_norm") {
            return false
        }
        return true
    }

    /// One optimizer step over all trainable parameters with the scheduled learning rate `learningRate`
    /// (base rate × λ(steps taken so far)).
    ///
    /// - Parameters:
    ///   - parameters: f32 parameters, updated in place (each is made uniquely owned first, copy-on-write).
    ///   - gradients: f32 gradients in the same order and shapes, already clipped and accumulated.
    ///   - names: the parameters' checkpoint names, the same list on every step; they pick the decay group and name
    ///     the exported state.
    public mutating func step(parameters: inout [Tensor], gradients: [Tensor], names: [String], learningRate: Double) {
        precondition(parameters.count == gradients.count && names.count == parameters.count,
                     "AdamW.step: \(parameters.count) parameters, \(gradients.count) gradients, \(names.count) names")
        if expAvg.isEmpty && stepCount == 0 {
            parameterNames = names
            expAvg = parameters.map { Tensor(zeros: $0.shape) }
            expAvgSq = parameters.map { Tensor(zeros: $0.shape) }
        }
        precondition(names == parameterNames, "AdamW.step: parameter names differ from the ones of the first step")
        stepCount += 1

        let c = configuration
        let t = Double(stepCount)
        // Python float arithmetic of torch's _single_tensor_adam: beta ** step with step a float, then ** 0.5.
        let biasCorrection1 = 1 - pow(c.beta1, t)
        let biasCorrection2 = 1 - pow(c.beta2, t)
        let stepSize = learningRate / biasCorrection1
        let base = AdamWScalars(
            decay: nil, lerpWeight: Float(1 - c.beta1), beta2: Float(c.beta2), oneMinusBeta2: Float(1 - c.beta2),
            biasCorrection2Sqrt: Float(pow(biasCorrection2, 0.5)), epsilon: Float(c.epsilon),
            negativeStepSize: Float(-stepSize))
        let decayFactor = Float(1 - learningRate * c.weightDecay)

        var buffers: [AdamWBuffers] = []
        buffers.reserveCapacity(parameters.count)
        for i in parameters.indices {
            precondition(parameters[i].shape == gradients[i].shape && parameters[i].shape == expAvg[i].shape,
                         "AdamW.step: '\(names[i])' parameter \(parameters[i].shape), gradient \(gradients[i].shape), "
                             + "state \(expAvg[i].shape)")
            precondition(parameters[i].dtype == .f32 && gradients[i].dtype == .f32,
                         "AdamW.step: '\(names[i])' must be f32 (parameter \(parameters[i].dtype), gradient \(gradients[i].dtype))")
            var scalars = base
            if c.weightDecay != 0 && Self.decays(parameterNamed: names[i]) { scalars.decay = decayFactor }
            buffers.append(AdamWBuffers(
                parameter: parameters[i].uniqueFloatAddress(), gradient: gradients[i].floatAddress(),
                expAvg: expAvg[i].uniqueFloatAddress(), expAvgSq: expAvgSq[i].uniqueFloatAddress(),
                count: parameters[i].count, scalars: scalars))
        }
        // The addresses stay valid: nothing below copies, reassigns or frees these tensors until the update returns.
        withExtendedLifetime((parameters, gradients, expAvg, expAvgSq)) {
            adamwUpdateParallel(buffers)
        }
    }
}
