// Errors of a training run; each names the key, file, line or step involved.
import Foundation

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(key: String, message: String)
    case unknownKey(String, file: String, known: [String])
    case malformedData(file: String, line: Int, message: String)
    case emptyDataset(file: String)
    case nonFinite(step: Int, what: String)
    case checkpoint(path: String, message: String)
    /// A fresh run's output folder already holds files.
    case outputNotEmpty(path: String, entries: [String])
    /// `--resume` with a configuration or data that differ from the checkpoint's run.
    case resumeMismatch(path: String, differences: [String])
    /// SIGINT or SIGTERM stopped the run after a step; a checkpoint of that step was written.
    case interrupted(step: Int, signal: Int32, checkpoint: URL)

    public var description: String {
        switch self {
        case .invalidConfiguration(let key, let message): "\(key): \(message)"
        case .unknownKey(let key, let file, let known):
            "\(file): unknown hyperparameter '\(key)'; known: \(known.sorted().joined(separator: ", "))"
        case .malformedData(let file, let line, let message): line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
        case .emptyDataset(let file): "\(file): no training rows"
        case .nonFinite(let step, let what):
            "step \(step): \(what) is NaN or infinite; training stopped, the last checkpoint is intact (lower the learning rate, or pass --skip-non-finite-steps)"
        case .checkpoint(let path, let message): "\(path): \(message)"
        case .outputNotEmpty(let path, let entries):
            "\(path) already holds a run (\(entries.prefix(5).joined(separator: ", "))\(entries.count > 5 ? ", …" : "")); pass --resume to continue it, --force to replace it, or choose another --out"
        case .resumeMismatch(let path, let differences):
            "\(path) was written by a different run; --resume refuses these changes (pass --force to resume anyway):\n  " + differences.joined(separator: "\n  ")
        case .interrupted(let step, let signal, let checkpoint):
            "interrupted by signal \(signal) after step \(step); checkpoint written to \(checkpoint.path)"
        }
    }
}
