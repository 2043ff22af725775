// The training loop, as a recipe read top to bottom: batch, forward, loss, backward, clip, step, schedule, log,
// evaluate, checkpoint. Everything a step does follows from (seed, step), so a resumed run repeats it exactly.
import Foundation
import TailorFormats
import TailorModels
import TailorOptim
import TailorTensor

/// What one optimizer step did (a line of metrics.jsonl).
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Double
    public var loss: Double
    public var learningRate: Double
    public var gradNorm: Double
    public var tokens: Int
    public var seconds: Double
    public var evalLoss: Double?

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, tokens, seconds
        case learningRate = "learning_rate", gradNorm = "grad_norm", evalLoss = "eval_loss"
    }
}

/// Things the trainer tells its caller, in order.
public enum TrainingEvent: Sendable {
    case started(totalSteps: Int, firstStep: Int, trainableParameters: Int)
    case step(StepRecord, totalSteps: Int)
    case evaluated(step: Int, loss: Double)
    case checkpointed(step: Int, directory: URL)
    case skipped(step: Int, reason: String)
}

/// Runs a training configuration on a model and a dataset.
public struct Trainer {
    public private(set) var model: LlamaModel
    public let configuration: TrainingConfiguration
    public let modelConfig: ModelConfig
    /// Recorded as the adapter's base_model_name_or_path.
    public let baseModelName: String
    let train: [TrainingExample]
    let evaluation: [TrainingExample]
    let outputDirectory: URL
    let padID: Int32
    let backend: any Backend
    let slots: [(name: String, slot: ParameterSlot)]
    var optimizer: AdamW
    public private(set) var step = 0
    public private(set) var history: [StepRecord] = []
    /// Resume even when the checkpoint's configuration or data differ from this run's.
    public var resumeDespiteChanges = false
    /// Polled after each optimizer step: a signal number stops the run there with a checkpoint.
    public var interruption: (@Sendable () -> Int32?)? = nil

    /// Prepares a run: validates the configuration, attaches or loads adapters, sizes the schedule.
    ///
    /// Hand the model over (`consuming`): full fine-tuning updates the weights in place, and a caller that keeps its
    /// own reference makes the first update copy every weight.
    public init(model: consuming LlamaModel, modelConfig: ModelConfig, baseModelName: String, configuration: TrainingConfiguration,
                train: [TrainingExample], evaluation: [TrainingExample] = [], outputDirectory: URL, padID: Int32,
                backend: any Backend) throws {
        try configuration.validate()
        try TrainingData.checkTokenIDs(train, vocabularySize: modelConfig.vocabSize, source: "training data")
        try TrainingData.checkTokenIDs(evaluation, vocabularySize: modelConfig.vocabSize, source: "evaluation data")
        var configuration = configuration
        configuration.computeDType = configuration.resolvedComputeDType   // saved with checkpoints as it ran
        var model = model
        if configuration.method == .qlora { try model.weights.quantizeLinearLayers(with: configuration.quantizer) }
        if configuration.method.trainsAdapters {
            if let initial = configuration.initAdapter {
                var weights = model.weights
                _ = try PEFTAdapter.load(from: URL(fileURLWithPath: initial), into: &weights)
                if let module = weights.doraModules.first { throw LoRAError.doraTraining(module: module) }   // no DoRA backward
                model.weights = weights
            } else {
                try model.weights.attachLoRA(configuration.loraConfiguration, seed: configuration.seed)
            }
        }
        model.weights.setMatmulPrecision(configuration.resolvedComputeDType, storeFrozenAsBF16: configuration.method.trainsAdapters)
        self.model = model
        self.modelConfig = modelConfig
        self.baseModelName = baseModelName
        self.configuration = configuration
        self.train = train.map { $0.truncated(to: configuration.maxLength) }
        self.evaluation = evaluation.map { $0.truncated(to: configuration.maxLength) }
        self.outputDirectory = outputDirectory
        self.padID = padID
        self.backend = backend
        slots = model.weights.trainableSlots(fullFineTuning: configuration.method == .full)
        let batchesPerEpoch = (self.train.count + configuration.batchSize - 1) / configuration.batchSize
        totalSteps = try TrainingSteps.totalSteps(maxSteps: configuration.maxSteps, epochs: configuration.epochs,
                                                  batchesPerEpoch: batchesPerEpoch,
                                                  accumulation: configuration.gradientAccumulationSteps)
        warmupSteps = try TrainingSteps.warmupSteps(totalSteps: totalSteps, warmupSteps: configuration.warmupSteps,
                                                    warmupRatio: configuration.warmupRatio)
        optimizer = AdamW(configuration: AdamWConfiguration(
            learningRate: configuration.resolvedLearningRate, beta1: configuration.adamBeta1,
            beta2: configuration.adamBeta2, epsilon: configuration.adamEpsilon, weightDecay: configuration.weightDecay))
    }

    var microBatchesPerEpoch: Int { (train.count + configuration.batchSize - 1) / configuration.batchSize }
    var stepsPerEpoch: Int { max(1, (microBatchesPerEpoch + configuration.gradientAccumulationSteps - 1) / configuration.gradientAccumulationSteps) }

    /// Optimizer steps of the whole run.
    public let totalSteps: Int
    /// Warmup steps of the schedule.
    public let warmupSteps: Int

    /// Number of trainable parameters.
    public var trainableParameterCount: Int { slots.reduce(0) { $0 + (model.weights[$1.slot]?.count ?? 0) } }

    /// The micro-batches of optimizer step `s` (0-based): the rows of each, in order.
    public func microBatches(ofStep s: Int) -> [[Int]] {
        let epoch = s / stepsPerEpoch, within = s % stepsPerEpoch
        let order = TrainingData.order(count: train.count, epoch: epoch, seed: configuration.seed, shuffle: configuration.shuffle)
        let g = configuration.gradientAccumulationSteps, size = configuration.batchSize
        return (within * g..<min((within + 1) * g, microBatchesPerEpoch)).map { m in
            Array(order[(m * size)..<min((m + 1) * size, order.count)])
        }
    }

    /// Trains until `totalSteps`, continuing from the latest checkpoint when `resume` is set.
    public mutating func run(resume: Bool = false, onEvent: (TrainingEvent) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        if resume {
            guard let latest = TrainingCheckpoint.latest(in: outputDirectory) else {
                throw TrainingError.checkpoint(path: outputDirectory.path, message: "--resume: no checkpoint to resume from")
            }
            try ResumeCheck.verify(latest, configuration: configuration, dataFingerprint: dataFingerprint, force: resumeDespiteChanges)
            try restore(from: latest)
        }
        let metrics = try MetricsLog(url: outputDirectory.appendingPathComponent("metrics.jsonl"), keepingSteps: step)
        onEvent(.started(totalSteps: totalSteps, firstStep: step, trainableParameters: trainableParameterCount))
        let fullFineTuning = configuration.method == .full
        model.weights.refreshComputeCopies()
        while step < totalSteps {
            let started = Date()
            // Batch, forward, loss, backward: the gradient of the mean token loss over the whole step.
            let batches = microBatches(ofStep: step).map { TrainingData.collate($0.map { train[$0] }, padID: padID) }
            let trainedTokens = batches.reduce(0) { $0 + $1.trainedTokenCount }
            var lossSum = 0.0
            var grads: [Tensor] = []
            do {
                var gradients = LlamaGradients(for: model.weights, fullFineTuning: fullFineTuning)
                for (i, batch) in batches.enumerated() {
                    let options = TrainingPassOptions(gradientCheckpointing: configuration.resolvedGradientCheckpointing,
                                                      seed: configuration.seed ^ UInt64(step &* 1_000_003 &+ i),
                                                      neftuneAlpha: Float(configuration.neftuneNoiseAlpha))
                    lossSum += model.accumulateGradients(batch: batch, lossScale: 1 / Float(max(trainedTokens, 1)),
                                                         into: &gradients, options: options, backend: backend)
                }
                grads = slots.map { gradients[$0.slot] ?? Tensor(zeros: model.weights[$0.slot]?.shape ?? [0]) }
            }   // `gradients` ends here, so clipping scales `grads` in place instead of copying them
            let loss = lossSum / Double(max(trainedTokens, 1))
            // Clip, step, schedule.
            let norm = GradientClipping.clipByGlobalNorm(&grads, maxNorm: configuration.maxGradNorm)
            guard loss.isFinite, norm.isFinite else {
                if configuration.skipNonFiniteSteps { onEvent(.skipped(step: step + 1, reason: "non-finite loss or gradient")); step += 1; continue }
                throw TrainingError.nonFinite(step: step + 1, what: loss.isFinite ? "the gradient norm" : "the loss")
            }
            let lr = configuration.resolvedLearningRate
                * configuration.lrSchedulerType.multiplier(step: step, totalSteps: totalSteps, warmupSteps: warmupSteps)
            let names = slots.map(\.name)
            model.weights.withParameters(slots.map(\.slot)) { params in
                optimizer.step(parameters: &params, gradients: grads, names: names, learningRate: lr)
            }
            model.weights.refreshComputeCopies()
            step += 1
            // Log, evaluate, checkpoint.
            var record = StepRecord(step: step, epoch: Double(step) / Double(stepsPerEpoch), loss: loss, learningRate: lr,
                                    gradNorm: norm, tokens: batches.reduce(0) { $0 + $1.segments.filter { $0 >= 0 }.count },
                                    seconds: Date().timeIntervalSince(started), evalLoss: nil)
            if configuration.evalSteps > 0, !evaluation.isEmpty, step % configuration.evalSteps == 0 || step == totalSteps {
                record.evalLoss = evaluationLoss()
                onEvent(.evaluated(step: step, loss: record.evalLoss ?? .nan))
            }
            history.append(record)
            try metrics.append(record)
            if step % configuration.loggingSteps == 0 || step == totalSteps { onEvent(.step(record, totalSteps: totalSteps)) }
            if configuration.saveSteps > 0, step % configuration.saveSteps == 0, step < totalSteps {
                let directory = try TrainingCheckpoint.save(self, in: outputDirectory)
                onEvent(.checkpointed(step: step, directory: directory))
            }
            if step < totalSteps, let signal = interruption?() { try stopAfterInterrupt(signal: signal, onEvent: onEvent) }
        }
        try TrainingCheckpoint.saveFinal(self, to: outputDirectory)
    }

    /// Mean token loss over the evaluation rows.
    public func evaluationLoss() -> Double {
        var sum = 0.0, count = 0
        for start in stride(from: 0, to: evaluation.count, by: configuration.batchSize) {
            let batch = TrainingData.collate(Array(evaluation[start..<min(start + configuration.batchSize, evaluation.count)]), padID: padID)
            let logits = model.forward(tokens: batch.tokens, batch: batch.batch, positions: batch.positions,
                                       segments: batch.segments, backend: backend)
            let (s, c) = CausalLMLoss.sum(logits: logits, targets: batch.targets, backend: backend)
            sum += s
            count += c
        }
        return count > 0 ? sum / Double(count) : .nan
    }

    mutating func restore(from directory: URL) throws {
        let restored = try TrainingCheckpoint.load(directory, slots: slots, weights: model.weights, configuration: configuration)
        model.weights = restored.weights
        optimizer = restored.optimizer
        step = restored.step
        history = restored.history
    }
}
