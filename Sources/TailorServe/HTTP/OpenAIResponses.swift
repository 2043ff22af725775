// The JSON the server answers with, in OpenAI's field names (snake_case keys written by `APIJSON.encoder`).
import Foundation

struct Usage: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    init(prompt: Int, completion: Int) { promptTokens = prompt; completionTokens = completion; totalTokens = prompt + completion }
}

/// Chat's per-token log-probabilities: {"content": [{token, logprob, bytes, top_logprobs}]}.
struct ChatLogprobs: Encodable, Sendable {
    struct Alternative: Encodable, Sendable { var token: String; var logprob: Float; var bytes: [UInt8] }
    struct Entry: Encodable, Sendable {
        var token: String; var logprob: Float; var bytes: [UInt8]; var topLogprobs: [Alternative]
    }
    var content: [Entry]
}

/// Completions' log-probabilities: parallel lists, alternatives as {token: logprob}.
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Float] = []
    var topLogprobs: [[String: Float]] = []
    var textOffset: [Int] = []
}

struct ChatMessageOut: Encodable, Sendable { var role: String?; var content: String? }

struct ChatChoice: Encodable, Sendable {
    var index = 0
    var message: ChatMessageOut?
    var delta: ChatMessageOut?
    var logprobs: ChatLogprobs?
    var finishReason: String?
}

struct CompletionChoice: Encodable, Sendable {
    var index = 0
    var text: String
    var logprobs: CompletionLogprobs?
    var finishReason: String?
}

/// A chat.completion, chat.completion.chunk, text_completion (also its chunks) object.
struct CompletionObject<Choice: Encodable & Sendable>: Encodable, Sendable {
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
}

struct ModelCard: Encodable, Sendable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy = "tailor"
    var root: String
    var parent: String?
    var maxModelLen: Int
}

struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [ModelCard]
}

enum APIJSON {
    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
