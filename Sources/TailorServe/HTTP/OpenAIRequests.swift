// The bodies of /v1/chat/completions, /v1/completions and the adapter endpoints, decoded leniently (unknown fields
// are ignored, as OpenAI's server does) and validated by `SamplingRequest.validated`.
import Foundation

/// A JSON value that is a string or a list of strings (`stop`, `prompt`).
struct StringOrList: Decodable, Sendable {
    var values: [String]
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { values = [one] } else { values = try c.decode([String].self) }
    }
}

/// A chat message's content: a string, or a list of parts of which the text parts are joined.
struct MessageContent: Decodable, Sendable {
    var text: String
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = ""; return }
        if let s = try? c.decode(String.self) { text = s; return }
        struct Part: Decodable { var type: String; var text: String? }
        let parts = try c.decode([Part].self)
        guard parts.allSatisfy({ $0.type == "text" }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "only text content parts are supported")
        }
        text = parts.compactMap(\.text).joined()
    }
}

struct IncomingMessage: Decodable, Sendable {
    var role: String
    var content: MessageContent?
}

/// `"lora": [{"name" | "id", "scale"}]`: the adapter of this request and its scale.
struct LoRAChoice: Decodable, Sendable {
    var name: String?
    var id: String?
    var scale: Float?
}

struct StreamOptions: Decodable, Sendable { var includeUsage: Bool? }

/// The sampling fields chat and completions share.
struct SamplingFields: Decodable, Sendable {
    var model: String
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var temperature: Float?
    var topP: Float?
    var topK: Int?
    var seed: Int64?
    var stop: StringOrList?
    var n: Int?
    var stream: Bool?
    var streamOptions: StreamOptions?
    var lora: [LoRAChoice]?
}

struct ChatCompletionBody: Decodable, Sendable {
    var messages: [IncomingMessage]
    var logprobs: Bool?
    var topLogprobs: Int?
}

struct CompletionBody: Decodable, Sendable {
    var prompt: StringOrList
    /// Completions' `logprobs` is the number of alternatives (0…5 at OpenAI).
    var logprobs: Int?
}

struct LoadAdapterBody: Decodable, Sendable {
    var loraName: String
    var loraPath: String
}

struct UnloadAdapterBody: Decodable, Sendable {
    var loraName: String
}

/// Decodes `T` from a request body, as a 400 naming the field when it does not fit.
func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
        return try decoder.decode(T.self, from: data)
    } catch let DecodingError.keyNotFound(key, _) {
        throw APIError.invalid("missing field '\(key.stringValue.snakeCased)'", param: key.stringValue.snakeCased)
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue.snakeCased }.joined(separator: ".")
        throw APIError.invalid("field '\(path)' has the wrong type", param: path)
    } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue.snakeCased }.joined(separator: ".")
        throw APIError.invalid("field '\(path)': \(context.debugDescription)", param: path)
    } catch {
        throw APIError.invalid("the body is not valid JSON for this endpoint")
    }
}

extension String {
    /// maxTokens → max_tokens, for messages that name a field as the client wrote it.
    var snakeCased: String {
        var out = ""
        for ch in self {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}
