// Sample: one training example in a format-independent form, converted from a source record.
import Foundation
import TailorChat

/// A training example before tokenization.
public enum Sample: Sendable, Equatable {
    /// A chat; assistant turns (their text and tool calls) are trained (all turns with trainOnPrompt). `tools` is the
    /// conversation's top-level tool list (function schemas), passed to the chat template as `tools`.
    case conversation([ChatMessage], tools: [JinjaValue]? = nil)
    /// A prompt and its completion; the completion (+ EOS) is trained.
    case promptCompletion(prompt: String, completion: String)
    /// Plain text; every token (+ EOS) is trained.
    case text(String)

    /// The text training learns from: assistant contents, the completion, or the whole text.
    public var responses: [String] {
        switch self {
        case let .conversation(messages, _): return messages.filter { $0.role == "assistant" }.map(\.trainedText)
        case let .promptCompletion(_, completion): return [completion]
        case let .text(text): return [text]
        }
    }

    /// All text of the sample, each part tagged with its role (for duplicate detection and scanning).
    public var parts: [(role: String, text: String)] {
        switch self {
        case let .conversation(messages, tools):
            return messages.map { ($0.role, $0.trainedText) } + (tools ?? []).map { ("tools", "\($0)") }
        case let .promptCompletion(prompt, completion): return [("prompt", prompt), ("completion", completion)]
        case let .text(text): return [("text", text)]
        }
    }

    /// The same sample with `transform` applied to every text part.
    public func mapText(_ transform: (String) -> String) -> Sample {
        switch self {
        case let .conversation(messages, tools):
            return .conversation(messages.map { ChatMessage(role: $0.role, content: transform($0.content), extra: $0.extra) }, tools: tools)
        case let .promptCompletion(prompt, completion): return .promptCompletion(prompt: transform(prompt), completion: transform(completion))
        case let .text(text): return .text(transform(text))
        }
    }

    /// The sample as the JSON object written to sample.jsonl.
    public var jsonValue: JinjaValue {
        switch self {
        case let .conversation(messages, tools):
            return .object([("messages", .array(messages.map(\.jinjaValue)))] + (tools.map { [("tools", .array($0))] } ?? []))
        case let .promptCompletion(prompt, completion): return .object([("prompt", .string(prompt)), ("completion", .string(completion))])
        case let .text(text): return .object([("text", .string(text))])
        }
    }
}

extension Sample {
    /// Whether the conversation calls tools or lists them (false for other samples).
    public var usesTools: Bool {
        guard case let .conversation(messages, tools) = self else { return false }
        return tools != nil || messages.contains { $0.toolCalls != nil }
    }
}

extension ChatMessage {
    /// The message's `tool_calls` list, when it has a non-empty one.
    public var toolCalls: [JinjaValue]? {
        guard case let .array(calls)? = extra?["tool_calls"], !calls.isEmpty else { return nil }
        return calls
    }

    /// What training learns from this message: its content, then its tool calls as JSON-like text (so a turn that
    /// only calls a tool is not empty, and two turns calling different tools are not duplicates).
    public var trainedText: String {
        guard let calls = toolCalls else { return content }
        return ([content] + calls.map { "\($0)" }).filter { !$0.isEmpty }.joined(separator: "\n")
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
