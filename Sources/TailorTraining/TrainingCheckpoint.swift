// Checkpoints: weights or adapter, optimizer state and trainer state, written into a temporary folder and renamed,
// so a killed run never leaves a half-written checkpoint; the last `save_total_limit` are kept.
import Foundation
import TailorFormats
import TailorModels
import TailorOptim
import TailorTensor

/// The trainer state saved beside the tensors.
struct TrainerState: Codable {
    var step: Int
    var totalSteps: Int
    var optimizer: AdamWState
    var history: [StepRecord]
    var configuration: TrainingConfiguration
    /// `Trainer.dataFingerprint` of the run (absent in checkpoints of older versions).
    var dataFingerprint: String? = nil
}

public enum TrainingCheckpoint {
    /// `checkpoint-<step>` folders in `directory`, oldest first.
    public static func all(in directory: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, directory.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest complete checkpoint.
    public static func latest(in directory: URL) -> URL? { all(in: directory).last?.url }

    /// Writes the trainer's state as `checkpoint-<step>` and prunes old ones.
    @discardableResult
    static func save(_ trainer: Trainer, optimizer: AdamW? = nil, weights: LlamaWeights? = nil, in directory: URL) throws -> URL {
        let optimizer = optimizer ?? trainer.optimizer   // data-parallel runs pass the state gathered from all ranks
        let final = directory.appendingPathComponent("checkpoint-\(trainer.step)")
        let partial = directory.appendingPathComponent(".checkpoint-\(trainer.step).partial")
        let fm = FileManager.default
        try? fm.removeItem(at: partial)
        try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        try writeWeights(weights ?? trainer.model.weights, of: trainer, to: partial)
        try SafeTensorsWriter.write(optimizer.stateTensors(), metadata: ["format": "pt"],
                                    to: partial.appendingPathComponent("optimizer.safetensors"))
        let state = TrainerState(step: trainer.step, totalSteps: trainer.totalSteps, optimizer: optimizer.scalarState,
                                 history: trainer.history, configuration: trainer.configuration,
                                 dataFingerprint: trainer.dataFingerprint)
        try jsonData(state).write(to: partial.appendingPathComponent("trainer_state.json"), options: .atomic)
        try? fm.removeItem(at: final)
        try fm.moveItem(at: partial, to: final)
        // Only this run's checkpoints (none later than its step) take part in rotation.
        for old in all(in: directory).filter({ $0.step <= trainer.step }).dropLast(trainer.configuration.saveTotalLimit) { try? fm.removeItem(at: old.url) }
        return final
    }

    /// Writes the trained adapter (LoRA) or model (full) and the configuration into the output folder.
    static func saveFinal(_ trainer: Trainer, weights: LlamaWeights? = nil, to directory: URL) throws {
        try writeWeights(weights ?? trainer.model.weights, of: trainer, to: directory)
        try jsonData(trainer.configuration).write(to: directory.appendingPathComponent("training_config.json"), options: .atomic)
    }

    /// `weights`: the trainer's, or (ZeRO-1) those with every master gathered on rank 0.
    static func writeWeights(_ weights: LlamaWeights, of trainer: Trainer, to directory: URL) throws {
        switch trainer.configuration.method {
        case .lora, .qlora:
            var config = trainer.configuration.loraConfiguration
            config.baseModelNameOrPath = trainer.baseModelName
            try PEFTAdapter.save(weights, config: config, to: directory)
        case .full:
            let tensors = weights.trainableSlots(fullFineTuning: true).compactMap { entry in
                weights[entry.slot].map { (name: entry.name, tensor: $0.converted(to: .f32)) }
            }
            var config = trainer.modelConfig
            config.torchDtype = "float32"
            try config.jsonData().write(to: directory.appendingPathComponent("config.json"), options: .atomic)
            try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        }
    }

    /// Reads a checkpoint back: weights, optimizer and step.
    static func load(_ directory: URL, slots: [(name: String, slot: ParameterSlot)], weights: LlamaWeights,
                     configuration: TrainingConfiguration) throws -> (weights: LlamaWeights, optimizer: AdamW, step: Int, history: [StepRecord]) {
        let stateURL = directory.appendingPathComponent("trainer_state.json")
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingError.checkpoint(path: stateURL.path, message: "unreadable trainer state (\(error))")
        }
        guard state.configuration.method == configuration.method else {
            throw TrainingError.checkpoint(path: directory.path, message: "was written by a \(state.configuration.method) run, not \(configuration.method)")
        }
        var restored = weights
        switch configuration.method {
        case .lora, .qlora:
            _ = try PEFTAdapter.load(from: directory, into: &restored)
        case .full:
            let file = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
            for entry in slots {
                guard file.info(entry.name) != nil else {
                    throw TrainingError.checkpoint(path: file.url.path, message: "tensor '\(entry.name)' is missing")
                }
                restored[entry.slot] = try file.tensor(entry.name).converted(to: .f32)
            }
        }
        let optimizerFile = try SafeTensorsFile(url: directory.appendingPathComponent("optimizer.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in optimizerFile.names { tensors[name] = try optimizerFile.tensor(name) }
        let optimizer = try AdamW(configuration: AdamWConfiguration(
            learningRate: configuration.resolvedLearningRate, beta1: configuration.adamBeta1, beta2: configuration.adamBeta2,
            epsilon: configuration.adamEpsilon, weightDecay: configuration.weightDecay),
            restoring: tensors, scalarState: state.optimizer, parameterNames: slots.map(\.name),
            shapes: slots.map { restored[$0.slot]?.shape ?? [] })
        return (restored, optimizer, state.step, state.history)
    }

    static func jsonData<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}

/// metrics.jsonl: one JSON line per optimizer step, appended as the run goes.
final class MetricsLog {
    let handle: FileHandle

    /// Opens `url`, keeping the records of steps ≤ `keepingSteps` (those before a resume) and dropping the rest.
    init(url: URL, keepingSteps: Int) throws {
        let fm = FileManager.default
        var kept = Data()
        if keepingSteps > 0, let old = fm.contents(atPath: url.path) {
            for line in old.split(separator: UInt8(ascii: "\n")) {
                if let record = try? JSONDecoder().decode(StepRecord.self, from: Data(line)), record.step <= keepingSteps {
                    kept += line + [UInt8(ascii: "\n")]
                }
            }
        }
        try kept.write(to: url, options: .atomic)
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    func append(_ record: StepRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]   // "rewards/chosen", as TRL logs it
        try handle.write(contentsOf: encoder.encode(record) + [UInt8(ascii: "\n")])
    }

    deinit { try? handle.close() }
}
