// Converting source records of each format into Samples, with the line and field named on every failure.
import Foundation
import TailorChat

/// Turns records into samples for one format.
public struct RecordConverter: Sendable {
    public var format: DataFormat
    public var fields: FieldMapping
    public var path: String

    /// `format` must not be `.auto`; resolve it with `DataFormat.detect` first.
    public init(format: DataFormat, fields: FieldMapping = FieldMapping(), path: String) {
        self.format = format
        self.fields = fields
        self.path = path
    }

    /// Resolves `.auto` from the first record; throws `unknownFormat` naming that record's line and keys.
    public static func resolve(_ format: DataFormat, records: [SourceRecord], fields: FieldMapping, path: String) throws -> DataFormat {
        guard format == .auto else { return format }
        guard let first = records.first else { throw DataError.emptyFile(path: path) }
        guard let detected = DataFormat.detect(first.value, fields: fields) else {
            var keys: [String] = []
            if case let .object(pairs) = first.value { keys = pairs.map(\.0) }
            throw DataError.unknownFormat(path: path, line: first.line, keys: keys)
        }
        return detected
    }

    /// ShareGPT speaker names → chat roles. "function_call" is the assistant calling a tool; "function",
    /// "observation" and "tool" are the tool's answer (LLaMA-Factory's convention).
    public static let shareGPTRoles: [String: String] = [
        "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
        "bing": "assistant", "bard": "assistant", "model": "assistant", "system": "system",
        "function_call": "assistant", "function": "tool", "observation": "tool", "tool": "tool",
    ]

    /// Converts one record.
    public func convert(_ record: SourceRecord) throws -> Sample {
        let r = record.value, line = record.line
        func string(_ key: String, required: Bool = true) throws -> String? {
            switch r[key] {
            case nil, .none?, .undefined?:
                if required { throw DataError.missingField(path: path, line: line, field: key, format: format.rawValue) }
                return nil
            case let .string(s)?: return s
            case let .int(i)?: return String(i)
            case let .double(d)?: return String(d)
            case let other?:
                throw DataError.invalidField(path: path, line: line, field: key, message: "expected a string, got \(DataReader.kind(other))")
            }
        }
        func list(_ key: String) throws -> [JinjaValue]? {
            switch r[key] {
            case nil, .none?: return nil
            case let .array(items)?: return items
            case let .string(s)?:
                // CSV cells carry nested lists as JSON text.
                if s.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
                if case let .array(items)? = try? JinjaValue(json: Data(s.utf8)) { return items }
                throw DataError.invalidField(path: path, line: line, field: key, message: "expected a list (or a JSON list in a string)")
            case let other?:
                throw DataError.invalidField(path: path, line: line, field: key, message: "expected a list, got \(DataReader.kind(other))")
            }
        }
        switch format {
        case .auto:
            throw DataError.invalidOption("RecordConverter needs a concrete format; resolve .auto first")
        case .text:
            return .text(try string(fields.text) ?? "")
        case .promptCompletion:
            return .promptCompletion(prompt: try string(fields.prompt) ?? "", completion: try string(fields.completion) ?? "")
        case .alpaca:
            var messages: [ChatMessage] = []
            if let system = try string(fields.system, required: false), !system.isEmpty {
                messages.append(ChatMessage(role: "system", content: system))
            }
            for (k, pair) in (try list(fields.history) ?? []).enumerated() {
                guard case let .array(items) = pair, items.count == 2, let q = items[0].stringValue, let a = items[1].stringValue else {
                    throw DataError.invalidField(path: path, line: line, field: "\(fields.history)[\(k)]", message: "expected [user, assistant] strings")
                }
                messages.append(ChatMessage(role: "user", content: q))
                messages.append(ChatMessage(role: "assistant", content: a))
            }
            // LLaMA-Factory joins instruction and input with one newline.
            let instruction = try string(fields.instruction) ?? ""
            let input = try string(fields.input, required: false) ?? ""
            messages.append(ChatMessage(role: "user", content: input.isEmpty ? instruction : instruction + "\n" + input))
            messages.append(ChatMessage(role: "assistant", content: try string(fields.output) ?? ""))
            return .conversation(messages)
        case .sharegpt, .messages:
            let key = r[fields.messages] != nil && format == .messages ? fields.messages
                : r[fields.conversations] != nil ? fields.conversations : fields.messages
            guard let items = try list(key) else {
                throw DataError.missingField(path: path, line: line, field: format == .messages ? fields.messages : fields.conversations,
                                             format: format.rawValue)
            }
            var messages: [ChatMessage] = []
            for (k, item) in items.enumerated() {
                let roleKey = format == .sharegpt ? fields.from : fields.role
                let contentKey = format == .sharegpt ? fields.value : fields.content
                guard case .object = item else {
                    throw DataError.invalidField(path: path, line: line, field: "\(key)[\(k)]", message: "expected an object")
                }
                guard let speaker = item[roleKey]?.stringValue else {
                    throw DataError.missingField(path: path, line: line, field: "\(key)[\(k)].\(roleKey)", format: format.rawValue)
                }
                let content: String
                switch item[contentKey] {
                case let .string(s)?: content = s
                case nil, .none?: content = ""
                case let other?:
                    throw DataError.invalidField(path: path, line: line, field: "\(key)[\(k)].\(contentKey)",
                                                 message: "expected a string, got \(DataReader.kind(other))")
                }
                var role = speaker
                if format == .sharegpt {
                    guard let mapped = Self.shareGPTRoles[speaker.lowercased()] else {
                        throw DataError.invalidField(path: path, line: line, field: "\(key)[\(k)].\(roleKey)",
                                                     message: "unknown speaker '\(speaker)' (known: human, gpt, system, function_call, observation, function, tool)")
                    }
                    role = mapped
                }
                // Other fields (tool_calls, tool_call_id, name, ...) reach the template as they are.
                var extra: [String: JinjaValue] = [:]
                if case let .object(pairs) = item {
                    for (field, value) in pairs where field != roleKey && field != contentKey && value != .none { extra[field] = value }
                }
                if let calls = extra["tool_calls"] {
                    guard case let .array(list) = calls, list.allSatisfy({ if case .object = $0 { true } else { false } }) else {
                        throw DataError.invalidField(path: path, line: line, field: "\(key)[\(k)].tool_calls",
                                                     message: "expected a list of {\"type\", \"function\": {\"name\", \"arguments\"}} objects")
                    }
                }
                messages.append(ChatMessage(role: role, content: content, extra: extra.isEmpty ? nil : extra))
            }
            let tools = try list(fields.tools)
            if let bad = tools?.firstIndex(where: { if case .object = $0 { false } else { true } }) {
                throw DataError.invalidField(path: path, line: line, field: "\(fields.tools)[\(bad)]", message: "expected a tool object (a function schema)")
            }
            return .conversation(messages, tools: tools)
        }
    }
}
