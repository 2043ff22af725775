// ChatMessage: one conversation turn, flat-JSON Codable, convertible to the value a template reads.

/// One message of a conversation. `extra` carries other fields the template may read (`tool_calls`, `name`, ...).
///
/// Codable as the flat JSON object datasets use: `{"role": ..., "content": ..., "tool_calls": ...}`; keys other than
/// role and content go to `extra`. A null or missing content decodes as "" (use `render(messages:)` with
/// `JinjaValue`s when a template must see content as absent).
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String
    public var extra: [String: JinjaValue]?

    public init(role: String, content: String, extra: [String: JinjaValue]? = nil) {
        self.role = role
        self.content = content
        self.extra = extra
    }

    /// Decodes with Codable; nested objects get sorted keys (JSONDecoder does not keep order; use `init(_:)` on a
    /// value from `JinjaValue(json:)` to keep the file's key order, which `tojson` prints).
    public init(from decoder: Decoder) throws {
        try self.init(try JinjaValue(from: decoder))
    }

    /// A message from a JSON object value (`{"role": ..., "content": ..., other fields}`).
    public init(_ value: JinjaValue) throws {
        guard case let .object(pairs) = value else {
            throw ChatTemplateError.invalidInput("a chat message must be a JSON object with 'role' and 'content'")
        }
        guard case let .string(role)? = pairs.first(where: { $0.0 == "role" })?.1 else {
            throw ChatTemplateError.invalidInput("chat message has no string field 'role'")
        }
        self.role = role
        switch pairs.first(where: { $0.0 == "content" })?.1 {
        case let .string(text)?: content = text
        case nil, .none?: content = ""
        case let other?: throw ChatTemplateError.invalidInput("chat message 'content' must be a string, got \(other)")
        }
        let rest = pairs.filter { $0.0 != "role" && $0.0 != "content" }
        extra = rest.isEmpty ? nil : Dictionary(rest, uniquingKeysWith: { _, last in last })
    }

    public func encode(to encoder: Encoder) throws {
        try jinjaValue.encode(to: encoder)
    }

    /// The message as a template sees it: `role`, `content`, then the extra fields sorted by key.
    public var jinjaValue: JinjaValue {
        var pairs: [(String, JinjaValue)] = [("role", .string(role)), ("content", .string(content))]
        for key in (extra ?? [:]).keys.sorted() where key != "role" && key != "content" {
            pairs.append((key, extra?[key] ?? .none))
        }
        return .object(pairs)
    }
}
