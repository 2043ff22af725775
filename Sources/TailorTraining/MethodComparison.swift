// Running full fine-tuning, LoRA and QLoRA on the same model and data, one after the other, and measuring each:
// peak memory, seconds per step, and evaluation loss relative to full fine-tuning.
import Foundation
import TailorFormats
import TailorModels
import TailorTensor

/// What one method did in a comparison.
public struct MethodResult: Codable, Sendable, Equatable {
    public var method: TrainingMethod
    public var trainableParameters: Int
    /// Peak tensor bytes while the method loaded its model and trained (MemoryTracker).
    public var peakBytes: Int
    public var secondsPerStep: Double
    public var tokensPerSecond: Double
    public var finalLoss: Double
    /// Mean token loss on the evaluation rows after training.
    public var evalLoss: Double
    /// exp(evalLoss - full's evalLoss): 1 means as good as full fine-tuning, above 1 worse.
    public var perplexityRatioToFull: Double?
    public var losses: [Double]
    /// Evaluation loss at the steps it was measured (the last one is `evalLoss`).
    public var evalLosses: [EvalLossPoint]
    /// Seconds the method took from loading its model to the end of evaluation.
    public var wallSeconds: Double
    /// The task metric from the caller's evaluation (accuracy, F1, …), when one was given.
    public var taskMetric: TaskMetric?
    /// `taskMetric` as a percentage of full fine-tuning's.
    public var taskMetricPercentOfFull: Double?
}

/// The evaluation loss after an optimizer step.
public struct EvalLossPoint: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
}

/// A named score of a trained model on the user's task.
public struct TaskMetric: Codable, Sendable, Equatable {
    public var name: String
    public var value: Double
    public init(name: String, value: Double) { self.name = name; self.value = value }
}

public enum MethodComparison {
    /// Trains each method in `methods` for `configuration`'s steps on `train`, evaluates on `evaluation`.
    /// `loadModel` is called once per method so each starts from the same weights and owns them.
    public static func run(methods: [TrainingMethod], configuration: TrainingConfiguration, modelConfig: ModelConfig,
                           baseModelName: String, loadModel: () throws -> LlamaModel, train: [TrainingExample],
                           evaluation: [TrainingExample], padID: Int32, backend: any Backend,
                           evaluateTask: ((LlamaModel) throws -> TaskMetric)? = nil,
                           progress: (TrainingMethod, TrainingEvent) -> Void = { _, _ in }) throws -> [MethodResult] {
        var results: [MethodResult] = []
        for method in methods {
            var c = configuration
            c.method = method
            // A learning rate left unset takes each method's usual value.
            c.saveSteps = 0
            // Four evaluations along the way draw the eval-loss curve; the last one, at the final step, is `evalLoss`.
            c.evalSteps = configuration.evalSteps > 0 ? configuration.evalSteps : (configuration.maxSteps > 0 ? max(1, configuration.maxSteps / 4) : 0)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-compare-\(method)-\(UUID())")
            defer { try? FileManager.default.removeItem(at: out) }
            let started = Date()
            let before = MemoryTracker.shared.liveBytes
            MemoryTracker.shared.resetPeak()
            var trainer = try Trainer(model: loadModel(), modelConfig: modelConfig, baseModelName: baseModelName,
                                      configuration: c, train: train, evaluation: evaluation, outputDirectory: out,
                                      padID: padID, backend: backend)
            try trainer.run { progress(method, $0) }
            let evalLosses = trainer.history.compactMap { r in r.evalLoss.map { EvalLossPoint(step: r.step, loss: $0) } }
            let evalLoss = trainer.history.last?.evalLoss ?? trainer.evaluationLoss()
            let peak = MemoryTracker.shared.peakBytes - before
            let metric = try evaluateTask?(trainer.model)
            let timed = trainer.history.dropFirst().map(\.seconds).sorted()
            let seconds = timed.isEmpty ? (trainer.history.first?.seconds ?? 0) : timed[timed.count / 2]
            let tokens = trainer.history.map(\.tokens).reduce(0, +) / max(trainer.history.count, 1)
            results.append(MethodResult(method: method, trainableParameters: trainer.trainableParameterCount, peakBytes: peak,
                                        secondsPerStep: seconds, tokensPerSecond: seconds > 0 ? Double(tokens) / seconds : 0,
                                        finalLoss: trainer.history.last?.loss ?? .nan, evalLoss: evalLoss,
                                        perplexityRatioToFull: nil, losses: trainer.history.map(\.loss),
                                        evalLosses: evalLosses,
                                        wallSeconds: Date().timeIntervalSince(started), taskMetric: metric,
                                        taskMetricPercentOfFull: nil))
        }
        if let full = results.first(where: { $0.method == .full }) {
            for i in results.indices {
                results[i].perplexityRatioToFull = Foundation.exp(results[i].evalLoss - full.evalLoss)
                if let mine = results[i].taskMetric?.value, let theirs = full.taskMetric?.value, theirs != 0 {
                    results[i].taskMetricPercentOfFull = 100 * mine / theirs
                }
            }
        }
        return results
    }
}
