// The one error type of TailorFormats: every case names the file and the tensor, field or byte offset at fault.
import Foundation

/// Errors thrown while reading or writing checkpoint files (safetensors, GGUF, config.json).
///
/// "Missing" (a file or tensor that is not there) and "corrupt" (bytes that break the format) are different cases.
public enum FormatError: Error, CustomStringConvertible, Equatable {
    /// A file or folder that does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// The operating system refused to read, map or write a file.
    case io(path: String, operation: String, errno: Int32)
    /// The file ends before a structure it announces (`needed` bytes at `offset`, only `available` left).
    case truncated(path: String, offset: Int, needed: Int, available: Int, what: String)
    /// The bytes break the format at `offset` (a bad length, a bad magic, malformed JSON…).
    case corrupt(path: String, offset: Int?, reason: String)
    /// A tensor's header entry is invalid (dtype, shape, data offsets, overlap, hole).
    case badTensor(path: String, tensor: String, reason: String)
    /// A dtype or GGML tensor type that Tailor does not handle.
    case unsupportedType(path: String, tensor: String, type: String)
    /// A GGUF version other than 2 or 3.
    case unsupportedVersion(path: String, version: Int)
    /// A config or GGUF architecture Tailor has no model for.
    case unsupportedArchitecture(path: String, name: String)
    /// A config.json or metadata field with a missing or invalid value.
    case invalidConfig(path: String, field: String, reason: String)
    /// A tensor the configuration requires is absent from the checkpoint.
    case missingTensor(path: String, tensor: String)
    /// A tensor whose shape differs from the one the configuration implies.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor name that occurs twice.
    case duplicateTensor(path: String, tensor: String)
    /// Invalid arguments to a writer (for example a bad shard size).
    case invalidArgument(reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found"
        case .io(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .truncated(let path, let offset, let needed, let available, let what):
            return "\(path): truncated at offset \(offset): \(what) needs \(needed) bytes, \(available) left"
                + " (hint: the file is incomplete; download or copy it again)"
        case .corrupt(let path, let offset, let reason):
            let at = offset.map { " at offset \($0)" } ?? ""
            return "\(path): corrupt file\(at): \(reason)"
        case .badTensor(let path, let tensor, let reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case .unsupportedType(let path, let tensor, let type):
            return "\(path): tensor '\(tensor)' has unsupported type \(type)"
                + " (hint: supported are F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K; requantize with llama-quantize)"
        case .unsupportedVersion(let path, let version):
            return "\(path): unsupported GGUF version \(version) (hint: only versions 2 and 3 are read)"
        case .unsupportedArchitecture(let path, let name):
            return "\(path): unsupported architecture '\(name)' (hint: supported are llama, mistral, qwen2)"
        case .invalidConfig(let path, let field, let reason):
            return "\(path): field '\(field)': \(reason)"
        case .missingTensor(let path, let tensor):
            return "\(path): missing tensor '\(tensor)'"
        case .shapeMismatch(let path, let tensor, let expected, let found):
            return "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .duplicateTensor(let path, let tensor):
            return "\(path): tensor '\(tensor)' occurs more than once"
        case .invalidArgument(let reason):
            return "invalid argument: \(reason)"
        }
    }
}
