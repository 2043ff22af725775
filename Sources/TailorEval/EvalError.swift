// Errors of model-based evaluation: bad data files, unknown tasks, impossible requests.

/// What can go wrong while evaluating a model. Each message names the file and line (or the request) and says how
/// to fix it where we know.
public enum EvalError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The data file cannot be read as UTF-8 text.
    case unreadableFile(path: String)
    /// A line is not a JSON object.
    case invalidJSON(path: String, line: Int, detail: String)
    /// A required field is missing or has the wrong type; `expected` lists the accepted names.
    case missingField(path: String, line: Int, expected: String)
    /// The answer index of a multiple-choice row is outside its choices.
    case answerOutOfRange(path: String, line: Int, answer: Int, choiceCount: Int)
    /// A multiple-choice row with fewer than two choices, or an empty choice.
    case badChoices(path: String, line: Int, detail: String)
    /// `--task` is not one of ``EvalTask``.
    case unknownTask(String)
    /// The file has no examples.
    case emptyData(path: String)
    /// A scoring request the model cannot serve (empty context, token outside the vocabulary, too long).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unreadableFile(let path):
            return "\(path): cannot read the file as UTF-8 text"
        case .invalidJSON(let path, let line, let detail):
            return "\(path):\(line): not a JSON object (\(detail)); each line must be one JSON object"
        case .missingField(let path, let line, let expected):
            return "\(path):\(line): missing field: expected \(expected)"
        case .answerOutOfRange(let path, let line, let answer, let count):
            return "\(path):\(line): answer \(answer) is out of range for \(count) choices (0-based index 0..<\(count), or a letter A-\(String(UnicodeScalar(UInt8(64 + max(1, min(count, 26)))))))"
        case .badChoices(let path, let line, let detail):
            return "\(path):\(line): bad \"choices\": \(detail)"
        case .unknownTask(let name):
            return "unknown task '\(name)'; choose one of \(EvalTask.allCases.map(\.rawValue).joined(separator: ", "))"
        case .emptyData(let path):
            return "\(path): no examples (empty lines are skipped)"
        case .invalidRequest(let detail):
            return detail
        }
    }
}
