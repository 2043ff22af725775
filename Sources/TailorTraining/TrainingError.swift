// Errors of a training run; each names the key, file, line or step involved.

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(key: String, message: String)
    case unknownKey(String, file: String, known: [String])
    case malformedData(file: String, line: Int, message: String)
    case emptyDataset(file: String)
    case nonFinite(step: Int, what: String)
    case checkpoint(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let key, let message): "\(key): \(message)"
        case .unknownKey(let key, let file, let known):
            "\(file): unknown hyperparameter '\(key)'; known: \(known.sorted().joined(separator: ", "))"
        case .malformedData(let file, let line, let message): "\(file):\(line): \(message)"
        case .emptyDataset(let file): "\(file): no training rows"
        case .nonFinite(let step, let what):
            "step \(step): \(what) is NaN or infinite; training stopped, the last checkpoint is intact (lower the learning rate, or pass --skip-non-finite-steps)"
        case .checkpoint(let path, let message): "\(path): \(message)"
        }
    }
}
