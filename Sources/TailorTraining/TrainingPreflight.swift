// The pitfalls checked before the first training step: rank for the data size, learning rate for the method,
// effective batch, target modules, rows longer than max_length.
import Foundation
import TailorChat
import TailorFormats
import TailorModels
import TailorPlan

/// The checks `tailor train` runs before the first step.
public enum TrainingPreflight {
    /// Findings for a run; errors stop training before it starts.
    /// - Parameters:
    ///   - predictedBytes: Tailor's predicted peak memory for the run (weights included).
    ///   - trainingTemplate / modelTemplate: the chat template the data was prepared with, and the model's own.
    public static func findings(configuration c: TrainingConfiguration, model: LlamaModel, rows: [TrainingExample],
                         predictedBytes: Int, trainingTemplate: String?, modelTemplate: String?) -> [Finding] {
        let method = c.method
        var findings: [Finding] = []
        if c.method.trainsAdapters {
            findings += Preflight.loraRank(c.loraR, exampleCount: rows.count)
            let names = model.weights.layers.indices.flatMap { l in
                model.weights.layers[l].presentLinears.map { "model.layers.\(l).\($0.moduleName)" }
            } + ["lm_head"]
            findings += Preflight.targetModules(c.loraConfiguration.targetModules, linearModules: names)
        }
        findings += Preflight.learningRate(c.resolvedLearningRate, method: method)
        findings += Preflight.effectiveBatch(microBatchSize: c.batchSize, gradientAccumulation: c.gradientAccumulationSteps)
        findings += Preflight.sequenceLengths(rows.map(\.inputIDs.count), maxLength: c.maxLength)
        findings += trainedTokensAfterTruncation(rows, maxLength: c.maxLength)
        if rows.count < 1000 {
            findings.append(Finding(check: "data-size", severity: .warning,
                                    message: "\(rows.count) training rows: fine-tuning usually needs at least 1,000",
                                    fix: "collect more examples, or keep epochs and rank low to avoid overfitting"))
        }
        findings += Preflight.memory(predicted: predictedBytes, available: availableMemory(), method: method,
                                     gradientCheckpointing: c.resolvedGradientCheckpointing)
        findings += Preflight.chatTemplate(training: trainingTemplate, model: modelTemplate)
        return findings
    }

    /// Rows whose trained tokens all lie beyond `maxLength` teach nothing once truncated: an error when that is every
    /// row (prompts longer than max_length), a warning when it is some.
    static func trainedTokensAfterTruncation(_ rows: [TrainingExample], maxLength: Int) -> [Finding] {
        let empty = rows.filter { row in !row.labels.prefix(maxLength).dropFirst().contains { $0 != -100 } }.count
        guard empty > 0 else { return [] }
        let fix = "raise max_length, or shorten the prompts (truncation keeps the start of each row)"
        if empty == rows.count {
            return [Finding(check: "truncation", severity: .error,
                            message: "no row keeps a trained token within max_length \(maxLength)", fix: fix)]
        }
        return [Finding(check: "truncation", severity: .warning,
                        message: "\(empty) of \(rows.count) rows keep no trained token within max_length \(maxLength)", fix: fix)]
    }

    /// Memory the system can give this process now: MemAvailable on Linux, physical memory elsewhere.
    static func availableMemory() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kib * 1024
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }

    /// The template a prepared dataset was rendered with (from the report.json `tailor prepare` wrote beside it),
    /// as source text; nil when the data used the model's own template or carries no record.
    public static func preparedTemplate(forData path: String) -> String? {
        let report = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("report.json")
        guard path.hasSuffix(".tdata"), let data = FileManager.default.contents(atPath: report.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["template"] as? String, name != "model's own" else { return nil }
        if FileManager.default.fileExists(atPath: name) { return try? ChatTemplate(contentsOf: URL(fileURLWithPath: name)).source }
        return try? ChatTemplate.builtIn(named: name).source
    }
}

/// Tailor's own memory for a run, from the planner's engine model.
public enum TrainingMemory {
    /// Predicted peak memory of a run with `batchRows` rows of `length` tokens.
    public static func predict(configuration c: TrainingConfiguration, modelConfig: ModelConfig, batchRows: Int, length: Int,
                        mapped: Bool) -> EngineMemoryEstimate {
        let shape = ModelShape(config: modelConfig)
        let method = c.method
        let targets = TargetModuleMatcher(spec: c.loraConfiguration.targetModules)
        let adapted = ((try? targets.select(from: shape.config.layerLinears(0))) ?? []).map { (inFeatures: $0.inFeatures, outFeatures: $0.outFeatures) }
        return EngineMemory.estimate(shape: shape, method: method, batch: batchRows, sequenceLength: max(length, 1), rank: c.loraR,
                                     adaptedLinears: adapted, gradientCheckpointing: c.resolvedGradientCheckpointing,
                                     loraDropout: c.loraDropout > 0, weightsMemoryMapped: mapped,
                                     bf16Products: c.resolvedComputeDType == .bf16)
    }
}
