// Sample: one training example in a format-independent form, converted from a source record.
import Foundation
import TailorChat

/// A training example before tokenization.
public enum Sample: Sendable, Equatable {
    /// A chat; assistant turns are trained (all turns with trainOnPrompt).
    case conversation([ChatMessage])
    /// A prompt and its completion; the completion (+ EOS) is trained.
    case promptCompletion(prompt: String, completion: String)
    /// Plain text; every token (+ EOS) is trained.
    case text(String)

    /// The text training learns from: assistant contents, the completion, or the whole text.
    public var responses: [String] {
        switch self {
        case let .conversation(messages): return messages.filter { $0.role == "assistant" }.map(\.content)
        case let .promptCompletion(_, completion): return [completion]
        case let .text(text): return [text]
        }
    }

    /// All text of the sample, each part tagged with its role (for duplicate detection and scanning).
    public var parts: [(role: String, text: String)] {
        switch self {
        case let .conversation(messages): return messages.map { ($0.role, $0.content) }
        case let .promptCompletion(prompt, completion): return [("prompt", prompt), ("completion", completion)]
        case let .text(text): return [("text", text)]
        }
    }

    /// The same sample with `transform` applied to every text part.
    public func mapText(_ transform: (String) -> String) -> Sample {
        switch self {
        case let .conversation(messages):
            return .conversation(messages.map { ChatMessage(role: $0.role, content: transform($0.content), extra: $0.extra) })
        case let .promptCompletion(prompt, completion): return .promptCompletion(prompt: transform(prompt), completion: transform(completion))
        case let .text(text): return .text(transform(text))
        }
    }

    /// The sample as the JSON object written to sample.jsonl.
    public var jsonValue: JinjaValue {
        switch self {
        case let .conversation(messages): return .object([("messages", .array(messages.map(\.jinjaValue)))])
        case let .promptCompletion(prompt, completion): return .object([("prompt", .string(prompt)), ("completion", .string(completion))])
        case let .text(text): return .object([("text", .string(text))])
        }
    }
}

/// A sample and the line of the record it came from.
public struct SourcedSample: Sendable, Equatable {
    public var line: Int
    public var sample: Sample

    public init(line: Int, sample: Sample) {
        self.line = line
        self.sample = sample
    }
}
