// The training loop, as a recipe read top to bottom: batch, forward, loss, backward, clip, step, schedule, log,
// evaluate, checkpoint. Everything a step does follows from (seed, step), so a resumed run repeats it exactly.
import Foundation
import TailorData
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
    /// Data-parallel runs: seconds this step spent in collectives (waiting for other ranks included) and the bytes
    /// rank 0 handed to them.
    public var communicationSeconds: Double?
    public var bytesSent: Int?
    /// Seconds the evaluation after this step took (not part of `seconds`).
    public var evalSeconds: Double?
    /// Rows (samples) the step trained on.
    public var samples: Int?
    /// The process's peak resident memory so far, in bytes.
    public var peakMemoryBytes: Int?
    /// DPO/ORPO/SimPO: TRL's reward and log-prob metrics, written as top-level keys ("rewards/chosen", …).
    public var preference: PreferenceMetrics? = nil

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, tokens, seconds, samples
        case learningRate = "learning_rate", gradNorm = "grad_norm", evalLoss = "eval_loss"
        case communicationSeconds = "comm_seconds", bytesSent = "bytes_sent"
        case evalSeconds = "eval_seconds", peakMemoryBytes = "peak_memory_bytes"
    }
}

extension StepRecord {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decode(Double.self, forKey: .epoch)
        loss = try c.decode(Double.self, forKey: .loss)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        gradNorm = try c.decode(Double.self, forKey: .gradNorm)
        tokens = try c.decode(Int.self, forKey: .tokens)
        seconds = try c.decode(Double.self, forKey: .seconds)
        evalLoss = try c.decodeIfPresent(Double.self, forKey: .evalLoss)
        communicationSeconds = try c.decodeIfPresent(Double.self, forKey: .communicationSeconds)
        bytesSent = try c.decodeIfPresent(Int.self, forKey: .bytesSent)
        evalSeconds = try c.decodeIfPresent(Double.self, forKey: .evalSeconds)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples)
        peakMemoryBytes = try c.decodeIfPresent(Int.self, forKey: .peakMemoryBytes)
        preference = try? PreferenceMetrics(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(loss, forKey: .loss)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(gradNorm, forKey: .gradNorm)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(evalLoss, forKey: .evalLoss)
        try c.encodeIfPresent(communicationSeconds, forKey: .communicationSeconds)
        try c.encodeIfPresent(bytesSent, forKey: .bytesSent)
        try c.encodeIfPresent(evalSeconds, forKey: .evalSeconds)
        try c.encodeIfPresent(samples, forKey: .samples)
        try c.encodeIfPresent(peakMemoryBytes, forKey: .peakMemoryBytes)
        try preference?.encode(to: encoder)   // same keyed container: the metrics sit beside the others
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
    public internal(set) var model: LlamaModel
    public let configuration: TrainingConfiguration
    public let modelConfig: ModelConfig
    /// Recorded as the adapter's base_model_name_or_path.
    public let baseModelName: String
    let train: [TrainingExample]
    /// Preference pairs (DPO, ORPO, SimPO); empty for SFT.
    let pairs: [PreferencePair]
    var reference = PreferenceReference.none
    let evaluation: [TrainingExample]
    let outputDirectory: URL
    let padID: Int32
    let backend: any Backend
    let slots: [(name: String, slot: ParameterSlot)]
    var optimizer: AdamW
    /// The ranks this run trains on (see `Trainer+DataParallel.swift`); set it before `run`.
    public var parallelism = DataParallelism()
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
                train: [TrainingExample], evaluation: [TrainingExample] = [], pairs: [PreferencePair] = [],
                outputDirectory: URL, padID: Int32, backend: any Backend) throws {
        try configuration.validate()
        try TrainingData.checkTokenIDs(train, vocabularySize: modelConfig.vocabSize, source: "training data")
        try TrainingData.checkTokenIDs(evaluation, vocabularySize: modelConfig.vocabSize, source: "evaluation data")
        var configuration = configuration
        configuration.computeDType = configuration.resolvedComputeDType   // saved with checkpoints as it ran
        configuration.learningRate = configuration.resolvedLearningRate
        configuration.gradientCheckpointing = configuration.resolvedGradientCheckpointing
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
        self.pairs = pairs
        guard configuration.objective.usesPairs == !pairs.isEmpty else {
            throw TrainingError.invalidConfiguration(key: "objective", message: configuration.objective.usesPairs
                ? "\(configuration.objective.rawValue) trains on preference pairs (prompt, chosen, rejected)" : "preference pairs need objective dpo, orpo or simpo")
        }
        self.outputDirectory = outputDirectory
        self.padID = padID
        self.backend = backend
        slots = model.weights.trainableSlots(fullFineTuning: configuration.method == .full)
        let batchesPerEpoch = (max(self.train.count, pairs.count) + configuration.batchSize - 1) / configuration.batchSize
        totalSteps = try TrainingSteps.totalSteps(maxSteps: configuration.maxSteps, epochs: configuration.epochs,
                                                  batchesPerEpoch: batchesPerEpoch,
                                                  accumulation: configuration.gradientAccumulationSteps)
        warmupSteps = try TrainingSteps.warmupSteps(totalSteps: totalSteps, warmupSteps: configuration.warmupSteps,
                                                    warmupRatio: configuration.warmupRatio)
        optimizer = AdamW(configuration: AdamWConfiguration(
            learningRate: configuration.resolvedLearningRate, beta1: configuration.adamBeta1,
            beta2: configuration.adamBeta2, epsilon: configuration.adamEpsilon, weightDecay: configuration.weightDecay))
    }

    /// Rows (SFT) or pairs (preference objectives) of an epoch.
    var exampleCount: Int { max(train.count, pairs.count) }
    var microBatchesPerEpoch: Int { (exampleCount + configuration.batchSize - 1) / configuration.batchSize }
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
        let order = TrainingData.order(count: exampleCount, epoch: epoch, seed: configuration.seed, shuffle: configuration.shuffle)
        let g = configuration.gradientAccumulationSteps, size = configuration.batchSize
        return (within * g..<min((within + 1) * g, microBatchesPerEpoch)).map { m in
            Array(order[(m * size)..<min((m + 1) * size, order.count)])
        }
    }

    /// Trains until `totalSteps`, continuing from the latest checkpoint when `resume` is set.
    public mutating func run(resume: Bool = false, onEvent: (TrainingEvent) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        try prepareReference(resume: resume)
        if resume {
            guard let latest = TrainingCheckpoint.latest(in: outputDirectory) else {
                throw TrainingError.checkpoint(path: outputDirectory.path, message: "--resume: no checkpoint to resume from")
            }
            try ResumeCheck.verify(latest, configuration: configuration, dataFingerprint: dataFingerprint, force: resumeDespiteChanges)
            try restore(from: latest)
        }
        try checkRanksAgree()
        if !pairs.isEmpty, parallelism.size > 1 {
            throw TrainingError.invalidConfiguration(key: "objective", message: "\(configuration.objective.rawValue) trains in one process; data-parallel preference tuning is not supported yet (run it without mpirun)")
        }
        let metrics = parallelism.isPrimary
            ? try MetricsLog(url: outputDirectory.appendingPathComponent("metrics.jsonl"), keepingSteps: step) : nil
        onEvent(.started(totalSteps: totalSteps, firstStep: step, trainableParameters: trainableParameterCount))
        let fullFineTuning = configuration.method == .full
        releaseUnownedMasters()   // ZeRO-1: the masters other ranks own, as bf16 copies alone
        model.weights.refreshComputeCopies()
        while step < totalSteps {
            let started = Date(), communicated = parallelism.communicator.statistics
            // Batch, forward, loss, backward: the gradient of the mean token loss over the whole step (this rank's
            // rows of it, when several train together); preference objectives train on pairs instead.
            let rowsOfStep = pairs.isEmpty ? microBatches(ofStep: step) : []
            let batches = parallelism.localMicroBatches(rowsOfStep, batchSize: configuration.batchSize)
                .map { TrainingData.collate($0.map { train[$0] }, padID: padID) }
            let (trainedTokens, stepTokens) = pairs.isEmpty ? stepTokenCounts(ofStep: step, local: batches) : (0, 0)
            var lossSum = 0.0
            var grads: [Tensor] = []
            var preference: (loss: Double, metrics: PreferenceMetrics, tokens: Int)? = nil
            let overlap = overlappedGradientSum()
            do {
                var gradients = LlamaGradients(for: model.weights, fullFineTuning: fullFineTuning)
                if !pairs.isEmpty { preference = accumulatePreferenceGradients(step: step, into: &gradients) }
                for (i, batch) in batches.enumerated() {
                    var options = TrainingPassOptions(gradientCheckpointing: configuration.resolvedGradientCheckpointing,
                                                      seed: configuration.seed ^ UInt64(step &* 1_000_003 &+ i),
                                                      neftuneAlpha: Float(configuration.neftuneNoiseAlpha))
                    if let overlap, i == batches.count - 1 { options.afterLayerBackward = overlap.layerDone }
                    lossSum += model.accumulateGradients(batch: batch, lossScale: 1 / Float(max(trainedTokens, 1)),
                                                         into: &gradients, options: options, backend: backend)
                }
                grads = slots.map { gradients[$0.slot] ?? Tensor(zeros: model.weights[$0.slot]?.shape ?? [0]) }
            }   // `gradients` ends here, so clipping scales `grads` in place instead of copying them
            // Sum over ranks, clip, step, schedule.
            let (summedLoss, norm) = try reduceAndClip(&grads, lossSum: lossSum, overlap: overlap)
            let loss = preference?.loss ?? summedLoss / Double(max(trainedTokens, 1))
            guard loss.isFinite, norm.isFinite else {
                if configuration.skipNonFiniteSteps { onEvent(.skipped(step: step + 1, reason: "non-finite loss or gradient")); step += 1; continue }
                throw TrainingError.nonFinite(step: step + 1, what: loss.isFinite ? "the gradient norm" : "the loss")
            }
            let lr = configuration.resolvedLearningRate
                * configuration.lrSchedulerType.multiplier(step: step, totalSteps: totalSteps, warmupSteps: warmupSteps)
            try stepOptimizer(gradients: grads, learningRate: lr)
            model.weights.refreshComputeCopies()
            step += 1
            // Log, evaluate, checkpoint.
            var record = StepRecord(step: step, epoch: Double(step) / Double(stepsPerEpoch), loss: loss, learningRate: lr,
                                    gradNorm: norm, tokens: preference?.tokens ?? stepTokens,
                                    seconds: Date().timeIntervalSince(started), evalLoss: nil,
                                    samples: preference == nil ? rowsOfStep.reduce(0) { $0 + $1.count } : nil,
                                    peakMemoryBytes: MemoryTracker.peakResidentBytes(), preference: preference?.metrics)
            if parallelism.size > 1 {
                record.communicationSeconds = parallelism.communicator.statistics.seconds - communicated.seconds
                record.bytesSent = parallelism.communicator.statistics.bytesSent - communicated.bytesSent
            }
            if parallelism.isPrimary, configuration.evalSteps > 0, !evaluation.isEmpty, pairs.isEmpty,
               step % configuration.evalSteps == 0 || step == totalSteps {
                let evalStarted = Date()
                record.evalLoss = evaluationLoss()
                record.evalSeconds = Date().timeIntervalSince(evalStarted)
            }
            history.append(record)
            try metrics?.append(record)
            if let loss = record.evalLoss { onEvent(.evaluated(step: step, loss: loss)) }
            if step % configuration.loggingSteps == 0 || step == totalSteps || record.evalLoss != nil {
                onEvent(.step(record, totalSteps: totalSteps))
            }
            if configuration.saveSteps > 0, step % configuration.saveSteps == 0, step < totalSteps {
                if let directory = try saveCheckpoint() { onEvent(.checkpointed(step: step, directory: directory)) }
            }
            if step < totalSteps, let signal = try agreedInterruption() { try stopAfterInterrupt(signal: signal, onEvent: onEvent) }
        }
        try saveFinal()
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
        optimizer = try shardedOptimizer(restored.optimizer)
        step = restored.step
        history = restored.history
    }
}
