// Bytes per device of one training method: weights, gradients, optimizer state, adapters, activations, overhead.
import TailorFormats

/// The memory one device needs for a method at one micro-batch size. All sizes in bytes per device.
public struct MemoryEstimate: Codable, Sendable, Equatable {
    /// Base weights: 16/32-bit (+ f32 master copy for mixed-precision full), or NF4 + 16-bit rest for QLoRA.
    public var weights: Int
    /// Gradients of the trainable parameters.
    public var gradients: Int
    /// Optimizer state of the trainable parameters.
    public var optimizer: Int
    /// LoRA A/B weights (0 for full fine-tuning).
    public var adapters: Int
    /// Activations of one micro-batch, with the loss transients and backward workspace.
    public var activations: Int
    /// Fixed runtime overhead + fraction of the rest (+ QLoRA's dequantization buffer).
    public var overhead: Int
    /// Memory per device the plan was made against.
    public var available: Int
    /// The sum of the six parts.
    public var total: Int
    /// `total <= available`.
    public var fits: Bool

    public init(weights: Int, gradients: Int, optimizer: Int, adapters: Int, activations: Int, overhead: Int,
                available: Int) {
        self.weights = weights
        self.gradients = gradients
        self.optimizer = optimizer
        self.adapters = adapters
        self.activations = activations
        self.overhead = overhead
        self.available = available
        total = weights + gradients + optimizer + adapters + activations + overhead
        fits = total <= available
    }
}

/// The static (batch-independent) memory of each method and the assembly of a `MemoryEstimate`.
struct MemoryModel {
    var request: PlanRequest
    var coefficients: PlanCoefficients

    var shape: ModelShape { request.model }

    /// Bytes of one NF4 tensor of n weights with double quantization (spec §1.2, §1.5): 4-bit codes n/2, one 8-bit
    /// absmax code per block of 64, one f32 nested absmax per 256 blocks, one f32 offset.
    func nf4Bytes(_ n: Int) -> Int {
        let blocks = (n + coefficients.nf4BlockSize - 1) / coefficients.nf4BlockSize
        let nested = (blocks + coefficients.nestedBlockSize - 1) / coefficients.nestedBlockSize
        return (n + 1) / 2 + blocks + 4 * nested + 4
    }

    /// Base weight bytes of a method (before sharding).
    func weightBytes(_ method: TrainingMethod) -> Double {
        let n = Double(shape.parameterCount)
        let w = Double(request.weightDType.bytes)
        switch method {
        case .full:
            let master = request.mixedPrecision && request.weightDType != .float32 ? coefficients.masterWeightBytes : 0
            return n * (w + master)
        case .lora:
            return n * w
        case .qlora:
            let quantized = shape.config.layerLinears(0).reduce(0) { $0 + nf4Bytes($1.inFeatures * $1.outFeatures) }
            let kept = Double(shape.parameterCount - shape.quantizableParameters)
            let keptBytes = request.weightDType == .float32 ? 4 : coefficients.qloraKeptBytes
            return Double(quantized * shape.layerCount) + kept * keptBytes
        }
    }

    /// Trainable parameters: everything for full, the adapters otherwise.
    func trainableParameters(_ method: TrainingMethod, adapterParameters: Int) -> Int {
        method == .full ? shape.parameterCount : adapterParameters
    }

    /// The estimate for `method` with `activations` bytes for the micro-batch.
    func estimate(_ method: TrainingMethod, adapterParameters: Int, activations: Int) -> MemoryEstimate {
        let shards = request.isSharded ? Double(request.deviceCount) : 1
        let trainable = Double(trainableParameters(method, adapterParameters: adapterParameters))
        let gradientBytes = method == .full ? Double(request.weightDType.bytes) : coefficients.adapterBytes
        let stateBytes = request.optimizer == .adamW ? coefficients.adamWStateBytes : coefficients.adamW8bitStateBytes
        let weights = weightBytes(method) / shards
        let gradients = trainable * gradientBytes / shards
        let optimizer = trainable * stateBytes / shards
        let adapters = method == .full ? 0 : Double(adapterParameters) * coefficients.adapterBytes / shards
        var overhead = coefficients.overheadFixedBytes
            + coefficients.overheadFraction * (weights + gradients + optimizer + adapters + Double(activations))
        if method == .qlora {
            // One linear dequantized to the compute dtype at a time (forward and backward).
            let largest = shape.config.layerLinears(0).map { $0.inFeatures * $0.outFeatures }.max() ?? 0
            overhead += Double(largest * request.weightDType.bytes)
        }
        return MemoryEstimate(weights: Int(weights.rounded(.up)), gradients: Int(gradients.rounded(.up)),
                              optimizer: Int(optimizer.rounded(.up)), adapters: Int(adapters.rounded(.up)),
                              activations: activations, overhead: Int(overhead.rounded(.up)),
                              available: request.memoryPerDevice.bytes)
    }
}
