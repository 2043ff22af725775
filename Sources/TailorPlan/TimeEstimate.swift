// Time per optimizer step and per epoch from FLOPs per token and an achieved throughput.
import Foundation
import TailorFormats

/// Compute and time of one method. FLOPs count multiply-adds as 2.
public struct TimeEstimate: Codable, Sendable, Equatable {
    /// Training FLOPs per token (forward + backward, + recompute with checkpointing).
    public var flopsPerToken: Double
    /// Tokens per optimizer step over all devices: micro-batch × T × accumulation × devices.
    public var tokensPerStep: Int
    public var flopsPerStep: Double
    /// Seconds per optimizer step; nil without a throughput.
    public var secondsPerStep: Double?
    /// Optimizer steps per epoch; nil without an example count.
    public var stepsPerEpoch: Int?
    public var secondsPerEpoch: Double?
}

/// FLOPs per token of each method (the 6·N rule with its LoRA and checkpointing variants).
///
/// N here is the matmul parameter count: the decoder linears plus lm_head (V·C, tied or not), since an embedding
/// lookup does no multiply. Full: 6N. LoRA: 4N for the frozen base (forward 2N + input gradients 2N) + 6·adapter.
/// Checkpointing: + 2N (one more forward). Attention scores and mixing add 4·T·Q·share per token per layer in the
/// forward, three times that for training (four with checkpointing). QLoRA's dequantization is a time factor, not
/// FLOPs (see PlanCoefficients.qloraDequantOverhead).
struct TimeModel {
    var request: PlanRequest
    var coefficients: PlanCoefficients

    func flopsPerToken(_ method: TrainingMethod, adapterParameters: Int) -> Double {
        let shape = request.model
        let n = Double(shape.layerCount * shape.layerLinearWeights + shape.vocabSize * shape.hiddenSize)
        var flops = method == .full
            ? coefficients.fullFlopsPerParameter * n
            : coefficients.frozenFlopsPerParameter * n + coefficients.adapterFlopsPerParameter * Double(adapterParameters)
        let attentionForward = 4 * Double(request.sequenceLength) * Double(shape.queryWidth)
            * coefficients.attentionCausalShare * Double(shape.layerCount)
        flops += 3 * attentionForward
        if request.gradientCheckpointing {
            flops += coefficients.recomputeFlopsPerParameter * n + attentionForward
        }
        return flops
    }

    func estimate(_ method: TrainingMethod, adapterParameters: Int) -> TimeEstimate {
        let perToken = flopsPerToken(method, adapterParameters: adapterParameters)
        let sequencesPerStep = request.microBatchSize * request.gradientAccumulation * request.deviceCount
        let tokens = sequencesPerStep * request.sequenceLength
        let flops = perToken * Double(tokens)
        var seconds: Double?
        if let throughput = request.flopsPerSecond {
            let efficiency = request.deviceCount > 1 ? coefficients.multiDeviceEfficiency : 1
            let factor = method == .qlora ? coefficients.qloraDequantOverhead : 1
            seconds = flops / (throughput * Double(request.deviceCount) * efficiency) * factor
        }
        let steps = request.exampleCount.map { ($0 + sequencesPerStep - 1) / sequencesPerStep }
        let epochSeconds: Double? = if let seconds, let steps { seconds * Double(steps) } else { nil }
        return TimeEstimate(flopsPerToken: perToken, tokensPerStep: tokens, flopsPerStep: flops,
                            secondsPerStep: seconds, stepsPerEpoch: steps, secondsPerEpoch: epochSeconds)
    }
}
