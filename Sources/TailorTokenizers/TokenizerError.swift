// Errors thrown while loading a tokenizer: each names the file and the JSON key (or GGUF key) involved.
import Foundation

/// A tokenizer could not be loaded. Descriptions name the file and key, with a hint where one is known.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required file is absent (e.g. `tokenizer.json` in a model folder).
    case missingFile(path: String)
    /// A file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file is not valid JSON, or a key has the wrong type or value.
    case malformedJSON(file: String, key: String, reason: String)
    /// The `model.type` (or GGUF `tokenizer.ggml.model`) is not one we implement.
    case unsupportedModel(file: String, type: String)
    /// A normalizer, pre-tokenizer, post-processor or decoder type we do not implement.
    case unsupportedComponent(file: String, key: String, type: String)
    /// A `Split` pre-tokenizer regex that has no exact hand-written scanner.
    case unsupportedRegex(file: String, key: String, pattern: String)
    /// A merge names a token that is not in the vocabulary (or whose concatenation is not).
    case mergeReferencesUnknownToken(file: String, index: Int, merge: String, token: String)
    /// A special token named by the post-processor or config is not in the vocabulary.
    case unknownSpecialToken(file: String, key: String, token: String)

    /// The message shown to the user: file, key and a hint.
    public var description: String {
        switch self {
        case .missingFile(let path):
            return "missing tokenizer file \(path) (a model folder needs tokenizer.json; GGUF files carry tokenizer.ggml.* keys)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .malformedJSON(let file, let key, let reason):
            return "malformed \(file) at key '\(key)': \(reason)"
        case .unsupportedModel(let file, let type):
            return "\(file): unsupported tokenizer model type '\(type)' (supported: BPE in tokenizer.json; gpt2 and llama in GGUF)"
        case .unsupportedComponent(let file, let key, let type):
            return "\(file): unsupported \(key) type '\(type)'"
        case .unsupportedRegex(let file, let key, let pattern):
            return "\(file): unsupported Split regex at '\(key)': \(pattern) (supported: GPT-2, Llama-3 and Qwen2 patterns, literal strings)"
        case .mergeReferencesUnknownToken(let file, let index, let merge, let token):
            return "\(file): merges[\(index)] '\(merge)' references '\(token)', which is not in the vocabulary"
        case .unknownSpecialToken(let file, let key, let token):
            return "\(file): \(key) names token '\(token)', which is not in the vocabulary"
        }
    }
}
