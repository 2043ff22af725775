// Dataset layouts (alpaca, sharegpt, OpenAI messages, prompt/completion, plain text), their field names, and
// auto-detection from a record's keys.
import Foundation
import TailorChat

/// The layout of the records in a data file.
public enum DataFormat: String, Sendable, Codable, CaseIterable {
    /// Decide from the first record (see `DataFormat.detect`).
    case auto
    /// `instruction`, optional `input`, `output`, optional `system` and `history` ([[user, assistant], ...]).
    case alpaca
    /// `conversations`: [{"from": "human"|"gpt"|"system"|"function_call"|"observation"|..., "value": ...}].
    case sharegpt
    /// OpenAI chat: `messages`: [{"role": ..., "content": ...}], multi-turn, optional system turn.
    case messages
    /// `prompt` and `completion` strings (TRL's prompt-completion type).
    case promptCompletion = "prompt-completion"
    /// One `text` string per record, trained on every token.
    case text

    /// Picks the format from a record's fields, as mapped by `fields`. Returns nil when nothing matches.
    ///
    /// Order: a messages list of role/content objects → messages; a conversations list of from/value objects →
    /// sharegpt (a conversations list of role/content objects is read as messages); instruction + output →
    /// alpaca; prompt + completion → prompt-completion; text → text.
    public static func detect(_ record: JinjaValue, fields: FieldMapping) -> DataFormat? {
        func turns(_ key: String) -> [JinjaValue]? {
            switch record[key] {
            case let .array(items)?: return items
            case let .string(s)?: return (try? JinjaValue(json: Data(s.utf8))).flatMap { if case let .array(a) = $0 { return a } else { return nil } }
            default: return nil
            }
        }
        for key in [fields.messages, fields.conversations] {
            if let items = turns(key), let first = items.first {
                if first[fields.from] != nil && first[fields.value] != nil { return .sharegpt }
                if first[fields.role] != nil { return .messages }
            }
        }
        if record[fields.instruction] != nil && record[fields.output] != nil { return .alpaca }
        if record[fields.prompt] != nil && record[fields.completion] != nil { return .promptCompletion }
        if record[fields.text] != nil { return .text }
        return nil
    }
}

/// Field names for each format, so that other layouts (e.g. "question"/"answer") can be read.
public struct FieldMapping: Sendable, Codable, Equatable {
    public var instruction = "instruction"
    public var input = "input"
    public var output = "output"
    public var system = "system"
    public var history = "history"
    public var conversations = "conversations"
    public var messages = "messages"
    public var role = "role"
    public var content = "content"
    public var from = "from"
    public var value = "value"
    public var prompt = "prompt"
    public var completion = "completion"
    public var text = "text"
    /// A conversation's top-level tool list (function schemas), as in transformers' `apply_chat_template(tools=)`.
    public var tools = "tools"

    public init() {}

    /// Applies "name=column" overrides, e.g. ["prompt=question", "completion=answer"].
    public init(overrides: [String]) throws {
        self.init()
        for item in overrides {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0) }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw DataError.invalidOption("field mapping '\(item)' must look like NAME=COLUMN")
            }
            switch parts[0] {
            case "instruction": instruction = parts[1]
            case "input": input = parts[1]
            case "output": output = parts[1]
            case "system": system = parts[1]
            case "history": history = parts[1]
            case "conversations": conversations = parts[1]
            case "messages": messages = parts[1]
            case "role": role = parts[1]
            case "content": content = parts[1]
            case "from": from = parts[1]
            case "value": value = parts[1]
            case "prompt": prompt = parts[1]
            case "completion": completion = parts[1]
            case "text": text = parts[1]
            case "tools": tools = parts[1]
            default:
                throw DataError.invalidOption("unknown field '\(parts[0])' in mapping '\(item)' (known: instruction, input, output, system, history, conversations, messages, role, content, from, value, prompt, completion, text, tools)")
            }
        }
    }
}
