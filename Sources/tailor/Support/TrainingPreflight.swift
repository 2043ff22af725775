// The pitfalls checked before the first training step: rank for the data size, learning rate for the method,
// effective batch, target modules, rows longer than max_length.
import Foundation
import TailorModels
import TailorPlan
import TailorTraining
import TailorFormats

enum TrainingPreflight {
    /// Findings for a run; errors stop training before it starts.
    static func findings(configuration c: TrainingConfiguration, model: LlamaModel, rows: [TrainingExample]) -> [Finding] {
        let method: TailorPlan.TrainingMethod = switch c.method {
        case .full: .full
        case .lora: .lora
        case .qlora: .qlora
        }
        var findings: [Finding] = []
        if c.method.trainsAdapters {
            findings += Preflight.loraRank(c.loraR, exampleCount: rows.count)
            let names = model.weights.layers.indices.flatMap { l in
                LlamaLayerWeights.linearNames.map { "model.layers.\(l).\($0)" }
            } + ["lm_head"]
            let spec: TargetSpec = switch c.loraConfiguration.targetModules {
            case .allLinear: .allLinear
            case .names(let list): .names(list)
            case .regex(let pattern): .regex(pattern)
            }
            findings += Preflight.targetModules(spec, linearModules: names)
        }
        findings += Preflight.learningRate(c.resolvedLearningRate, method: method)
        findings += Preflight.effectiveBatch(microBatchSize: c.batchSize, gradientAccumulation: c.gradientAccumulationSteps)
        findings += Preflight.sequenceLengths(rows.map(\.inputIDs.count), maxLength: c.maxLength)
        return findings
    }
}

/// Tailor's own memory for a run, from the planner's engine model.
enum TrainingMemory {
    static func predict(configuration c: TrainingConfiguration, modelConfig: ModelConfig, batchRows: Int, length: Int,
                        mapped: Bool) -> EngineMemoryEstimate {
        let shape = ModelShape(config: modelConfig)
        let method: TailorPlan.TrainingMethod = switch c.method {
        case .full: .full
        case .lora: .lora
        case .qlora: .qlora
        }
        let targets = TargetModuleMatcher(spec: TargetSpec.parse(c.targetModules))
        let adapted = ((try? targets.select(from: shape.layerLinears(0))) ?? []).map { (inFeatures: $0.inFeatures, outFeatures: $0.outFeatures) }
        return EngineMemory.estimate(shape: shape, method: method, batch: batchRows, sequenceLength: max(length, 1), rank: c.loraR,
                                     adaptedLinears: adapted, gradientCheckpointing: c.resolvedGradientCheckpointing,
                                     loraDropout: c.loraDropout > 0, weightsMemoryMapped: mapped)
    }
}
