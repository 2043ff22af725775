// Errors raised while building a model from a checkpoint.

/// A checkpoint does not fit the model it claims to be.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingTensor(name: String, source: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int], source: String)
    case unsupportedDType(name: String, dtype: String, source: String)
    case unsupportedArchitecture(String, source: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .missingTensor(let name, let source):
            "\(source): tensor '\(name)' is missing"
        case .shapeMismatch(let name, let expected, let found, let source):
            "\(source): tensor '\(name)' has shape \(found), expected \(expected)"
        case .unsupportedDType(let name, let dtype, let source):
            "\(source): tensor '\(name)' is stored as \(dtype); weights must be f32, bf16 or f16"
        case .unsupportedArchitecture(let name, let source):
            "\(source): architecture '\(name)' is not supported (supported: llama, mistral, qwen2)"
        case .invalidInput(let message):
            message
        }
    }
}
