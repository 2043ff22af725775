// The pitfalls checked before the first training step: rank for the data size, learning rate for the method,
// effective batch, target modules, rows longer than max_length.
import Foundation
import TailorModels
import TailorPlan
import TailorTraining

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
