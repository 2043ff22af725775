// The output folder of a run: never overwritten by accident, never resumed from the wrong run.
import Foundation

public enum RunFolder {
    /// Checks `directory` before a run writes into it.
    ///
    /// - A fresh run (no `resume`) needs a missing or empty folder; with `force` it replaces the old run, whose
    ///   checkpoints are removed first so checkpoint rotation never mixes two runs.
    /// - `resume` needs a checkpoint to resume from.
    /// - Throws: `TrainingError.outputNotEmpty` or `TrainingError.checkpoint`.
    public static func prepare(_ directory: URL, resume: Bool, force: Bool) throws {
        let fm = FileManager.default
        let entries = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0 != ".DS_Store" }.sorted()
        if resume {
            guard TrainingCheckpoint.latest(in: directory) != nil else {
                throw TrainingError.checkpoint(path: directory.path, message: "--resume: there is no checkpoint-<step> folder to resume from (checkpoints are written every --save-steps steps and on Ctrl-C)")
            }
            return
        }
        guard !entries.isEmpty else { return }
        guard force else { throw TrainingError.outputNotEmpty(path: directory.path, entries: entries) }
        for name in entries where name.hasPrefix("checkpoint-") || name.hasPrefix(".checkpoint-") {
            try fm.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}

/// What a checkpoint must agree on with the run that resumes it.
enum ResumeCheck {
    /// Keys a resumed run may change: they decide what is logged and saved, not what is computed.
    static let changeableKeys: Set<String> = ["logging_steps", "eval_steps", "save_steps", "save_total_limit"]

    /// Throws `TrainingError.resumeMismatch` listing each difference between the checkpoint's run and this one,
    /// unless `force`.
    static func verify(_ checkpoint: URL, configuration: TrainingConfiguration, dataFingerprint: String, force: Bool) throws {
        guard !force else { return }
        let stateURL = checkpoint.appendingPathComponent("trainer_state.json")
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainingError.checkpoint(path: stateURL.path, message: "unreadable trainer state (\(error))")
        }
        var differences: [String] = []
        let saved = try dictionary(state.configuration), current = try dictionary(configuration)
        for key in Set(saved.keys).union(current.keys).subtracting(changeableKeys).sorted() {
            let old = saved[key].map { "\($0)" } ?? "unset", new = current[key].map { "\($0)" } ?? "unset"
            if old != new { differences.append("\(key): \(old) → \(new)") }
        }
        if let old = state.dataFingerprint, old != dataFingerprint {
            differences.append("training data: fingerprint \(old) → \(dataFingerprint)")
        }
        if !differences.isEmpty { throw TrainingError.resumeMismatch(path: checkpoint.path, differences: differences) }
    }

    private static func dictionary(_ configuration: TrainingConfiguration) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any]) ?? [:]
    }
}

extension Trainer {
    /// FNV-1a over the rows' ids and labels, in order: changes when the data, its order or its truncation does.
    public var dataFingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: Int32) {
            for shift in stride(from: 0, to: 32, by: 8) {
                hash = (hash ^ UInt64(UInt32(bitPattern: value) >> UInt32(shift) & 0xFF)) &* 0x100_0000_01b3
            }
        }
        for row in train {
            mix(Int32(truncatingIfNeeded: row.inputIDs.count))
            row.inputIDs.forEach(mix)
            row.labels.forEach(mix)
        }
        return String(hash, radix: 16)
    }
}

extension Trainer {
    /// Writes a checkpoint of the step just finished (unless one exists) and throws `TrainingError.interrupted`.
    func stopAfterInterrupt(signal: Int32, onEvent: (TrainingEvent) -> Void) throws -> Never {
        let existing = outputDirectory.appendingPathComponent("checkpoint-\(step)")
        let directory: URL
        if configuration.saveSteps > 0, step % configuration.saveSteps == 0 {
            directory = existing
        } else if let saved = try saveCheckpoint() {   // rank 0 writes; under ZeRO-1 every rank hands in its shard
            directory = saved
            onEvent(.checkpointed(step: step, directory: directory))
        } else {
            directory = existing
        }
        throw TrainingError.interrupted(step: step, signal: signal, checkpoint: directory)
    }
}
