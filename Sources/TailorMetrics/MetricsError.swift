// The typed error of the TailorMetrics target.

/// Errors thrown by TailorMetrics. Each message names the file, line or field involved and, where known, a hint.
public enum MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// Predictions and references have different numbers of examples.
    case countMismatch(predictionsPath: String, predictionCount: Int, referencesPath: String, referenceCount: Int)
    /// A JSONL line is not valid JSON.
    case invalidJSONLine(path: String, line: Int, reason: String)
    /// A JSONL object has none of the fields the scorer understands.
    case missingField(path: String, line: Int, expected: [String])
    /// A field holds a value of the wrong kind.
    case invalidField(path: String, line: Int, field: String, reason: String)
    /// An input list is empty where at least one example is needed.
    case emptyInput(what: String)
    /// Two parallel inputs differ in length.
    case lengthMismatch(what: String, expected: Int, actual: Int)
    /// A JSON Schema could not be used.
    case invalidSchema(path: String, reason: String)
    /// A metric needs an option that was not given.
    case missingOption(metric: String, option: String)
    /// JSON text failed to parse (offset and line/column are 1-based for lines and columns).
    case jsonSyntax(line: Int, column: Int, offset: Int, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .countMismatch(pp, pc, rp, rc):
            return "\(pp) has \(pc) predictions but \(rp) has \(rc) references; hint: both files need one example per line, in the same order"
        case let .invalidJSONLine(path, line, reason):
            return "\(path):\(line): invalid JSON: \(reason); hint: JSONL needs one JSON value per line (a string or an object)"
        case let .missingField(path, line, expected):
            return "\(path):\(line): object has none of the fields \(expected.map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .invalidField(path, line, field, reason):
            return "\(path):\(line): field \"\(field)\": \(reason)"
        case let .emptyInput(what):
            return "\(what) is empty; hint: at least one example is needed"
        case let .lengthMismatch(what, expected, actual):
            return "\(what): expected \(expected) items, got \(actual)"
        case let .invalidSchema(path, reason):
            return "invalid JSON Schema at \(path): \(reason)"
        case let .missingOption(metric, option):
            return "metric \(metric) needs \(option)"
        case let .jsonSyntax(line, column, offset, reason):
            return "line \(line), column \(column) (offset \(offset)): \(reason)"
        }
    }
}
