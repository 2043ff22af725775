// The CPU backend: BLAS for matrix products, parallel Swift loops for everything else.
import TailorTensor

/// Runs ops on the CPU cores: matrix products through BLAS, the rest in loops split over the cores.
public struct CPUBackend: Backend {
    public init() {}
    public var name: String { "cpu" }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, precision: MatmulPrecision) -> Tensor {
        if precision == .bf16 && weight.dtype == .bf16 && x.count <= streamingProductMaxRows * weight.shape[1] {
            return bf16StreamingProduct(x, weight: weight, bias: bias)
        }
        return linearForward(x, weight: weight, bias: bias, precision: precision)
    }
    public func linears(_ x: Tensor, weights: [Tensor], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor] {
        if !weights.isEmpty && precision == .bf16 && weights.allSatisfy({ $0.dtype == .bf16 && $0.rank == 2 && $0.shape[1] == weights[0].shape[1] })
            && x.count <= streamingProductMaxRows * weights[0].shape[1] {
            return bf16StreamingProducts(x, weights: weights, biases: biases)
        }
        return zip(weights, biases).map { linear(x, weight: $0, bias: $1, precision: precision) }
    }
    public func linears(_ x: Tensor, packedWeights: [any PackedMatrix], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor] {
        let int8 = packedWeights.compactMap { $0 as? Int8BlockMatrix }
        if !int8.isEmpty && int8.count == packedWeights.count && int8.allSatisfy({ $0.shape[1] == int8[0].shape[1] }) {
            return int8Products(x, weights: int8, biases: biases)
        }
        return zip(packedWeights, biases).map { linear(x, packedWeight: $0, bias: $1, precision: precision) }
    }
    public func embedding(ids: [Int32], table: Tensor) -> Tensor { embeddingForward(ids: ids, table: table) }
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput { rmsNormForward(x, weight: weight, eps: eps) }
    public func addRMSNorm(_ a: Tensor, _ b: Tensor, weight: Tensor, eps: Float) -> (sum: Tensor, normalized: RMSNormOutput) {
        addRMSNormForward(a, b, weight: weight, eps: eps)
    }
    public func rotaryAngles(positions: [Int32], inverseFrequencies: [Float]) -> RotaryAngles {
        rotaryAnglesForward(positions: positions, inverseFrequencies: inverseFrequencies)
    }
    public func applyRotary(_ x: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
        applyRotaryForward(consume x, heads: heads, angles: angles)
    }
    public func attention(query: Tensor, key: Tensor, value: Tensor, shape: AttentionShape, segments: KeySegments?,
                          keepLogSumExp: Bool) -> AttentionOutput {
        attentionForward(query: query, key: key, value: value, shape: shape, segments: segments, keepLogSumExp: keepLogSumExp)
    }
    public func swiglu(gate: Tensor, up: Tensor) -> Tensor { swigluForward(gate: gate, up: up) }
    public func geglu(gate: Tensor, up: Tensor) -> Tensor { gegluForward(gate: gate, up: up) }
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { addForward(a, b) }
    public func addScaled(_ a: Tensor, _ b: Tensor, scale: Float) -> Tensor { addScaledForward(a, b, scale: scale) }
    public func addingLinear(_ y: consuming Tensor, _ x: Tensor, weight: Tensor, scale: Float) -> Tensor {
        linearAccumulating(consume y, x, weight: weight, scale: scale)
    }
    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { elementwise(a, b) { $0 * $1 } }
    public func softCap(_ x: Tensor, cap: Float) -> Tensor { softCapForward(x, cap: cap) }
    public func softCapBackward(dOutput: Tensor, input: Tensor, cap: Float) -> Tensor {
        TailorKernels.softCapBackward(dOutput: dOutput, input: input, cap: cap)
    }
    public func scale(_ a: Tensor, by scale: Float) -> Tensor { elementwise(a, a) { x, _ in scale * x } }
    public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor { crossEntropyForward(logits: logits, targets: targets) }

    public func linearBackward(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                               biasGradient: inout Tensor?, needInputGradient: Bool, precision: MatmulPrecision) -> Tensor? {
        TailorKernels.linearBackward(dOutput: dOutput, input: input, weight: weight, weightGradient: &weightGradient,
                                     biasGradient: &biasGradient, needInputGradient: needInputGradient, precision: precision)
    }
    public func embeddingBackward(dOutput: Tensor, ids: [Int32], tableGradient: inout Tensor) {
        TailorKernels.embeddingBackward(dOutput: dOutput, ids: ids, tableGradient: &tableGradient)
    }
    public func rmsNormBackward(dOutput: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor, adding addend: Tensor?,
                                weightGradient: inout Tensor?) -> Tensor {
        TailorKernels.rmsNormBackward(dOutput: dOutput, input: input, weight: weight, inverseRMS: inverseRMS, adding: addend,
                                      weightGradient: &weightGradient)
    }
    public func applyRotaryBackward(_ dOutput: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
        TailorKernels.applyRotaryBackward(consume dOutput, heads: heads, angles: angles)
    }
    public func attentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  shape: AttentionShape, segments: KeySegments?) -> AttentionGradients {
        TailorKernels.attentionBackward(dOutput: dOutput, query: query, key: key, value: value, output: output,
                                        logSumExp: logSumExp, shape: shape, segments: segments)
    }
    public func swigluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
        TailorKernels.swigluBackward(dOutput: dOutput, gate: gate, up: up)
    }
    public func gegluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor) {
        TailorKernels.gegluBackward(dOutput: dOutput, gate: gate, up: up)
    }
    public func crossEntropyBackward(logits: Tensor, targets: [Int32], dLoss: [Float]) -> Tensor {
        TailorKernels.crossEntropyBackward(logits: logits, targets: targets, dLoss: dLoss)
    }
    public func crossEntropyWithGradient(logits: consuming Tensor, targets: [Int32], dLoss: [Float]) -> (losses: Tensor, dLogits: Tensor) {
        TailorKernels.crossEntropyWithGradient(logits: logits, targets: targets, dLoss: dLoss)
    }
    public func linear(_ x: Tensor, packedWeight: any PackedMatrix, bias: Tensor?, precision: MatmulPrecision) -> Tensor {
        if let int8 = packedWeight as? Int8BlockMatrix { return int8Product(x, weight: int8, bias: bias) }
        guard precision == .bf16 else { return packedLinearForward(x, weight: packedWeight, bias: bias) }
        return linearForward(x, weight: decodedBF16(packedWeight), bias: bias, precision: .bf16, weightIsReused: false)
    }
    public func linearInputGradient(dOutput: Tensor, packedWeight: any PackedMatrix, precision: MatmulPrecision) -> Tensor {
        guard precision == .bf16 else { return packedLinearInputGradient(dOutput: dOutput, weight: packedWeight) }
        return BF16Matmul.multiply(dOutput, weight: decodedBF16(packedWeight), .timesWeight)
    }
}
