// Runs a prepared request on the engine and writes the reply: one JSON object, or server-sent events
// (`data: {chunk}` … `data: [DONE]`) for chat and completions alike.
import Foundation
import Hummingbird
import TailorTokenizers

/// Which of the two OpenAI endpoints a reply is for: they differ only in the JSON around the text.
enum ReplyKind: Sendable {
    case chat, completion

    var idPrefix: String { self == .chat ? "chatcmpl-" : "cmpl-" }
}

/// What the engine produced for one request so far.
struct ReplyProgress {
    var text: ReplyText
    var tokens: [GeneratedToken] = []
    var finish: FinishReason = .length
    let started = ContinuousClock.now
    var lastToken: ContinuousClock.Instant?

    /// Takes one engine event; returns the text now safe to send, and whether the reply is over.
    mutating func take(_ event: EngineEvent, metrics: ServeMetrics) -> (String, Bool) {
        switch event {
        case .token(let token):
            let now = ContinuousClock.now
            if let lastToken { metrics.timePerOutputToken.record(now - lastToken) } else { metrics.timeToFirstToken.record(now - started) }
            lastToken = now
            tokens.append(token)
            let piece = token.isStop ? "" : text.append(token.id)
            if text.hitStop { finish = .stop; return (piece, true) }
            return (piece, false)
        case .finished(let reason):
            finish = reason
            return ("", true)
        }
    }
}

struct ReplyRunner: Sendable {
    let state: ServerState
    let ready: ServerState.Ready
    let kind: ReplyKind
    let request: PreparedRequest
    let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let created = Int(Date().timeIntervalSince1970)

    var tokenizer: Tokenizer { ready.chat.tokenizer }
    var promptTokens: Int { request.engine.prompt.count }

    func submit() throws -> AsyncStream<EngineEvent> {
        do { return try ready.engine.submit(request.engine) } catch let error as EngineError {
            switch error {
            case .queueFull: throw APIError.busy(error.description)
            case .shuttingDown: throw APIError.unavailable(error.description)
            case .emptyPrompt: throw APIError.invalid(error.description, param: "prompt")
            case .doraCombined: throw APIError.invalid(error.description, param: "lora")
            }
        }
    }

    /// The whole reply as one JSON object.
    func complete() async throws -> Response {
        let events = try submit()
        state.metrics.promptTokens.increment(by: Int64(promptTokens))
        var progress = ReplyProgress(text: ReplyText(tokenizer: tokenizer, stops: request.stops))
        for await event in events {
            if progress.take(event, metrics: state.metrics).1 { break }
        }
        _ = progress.text.finish()
        state.metrics.generatedTokens.increment(by: Int64(progress.tokens.count))
        let usage = Usage(prompt: promptTokens, completion: progress.tokens.count)
        let finish = progress.finish.rawValue
        let body: Data
        switch kind {
        case .chat:
            let choice = ChatChoice(message: ChatMessageOut(role: "assistant", content: progress.text.text),
                                    logprobs: request.logprobs ? chatLogprobs(progress.tokens) : nil, finishReason: finish)
            body = APIJSON.encode(CompletionObject(id: kind.idPrefix + id, object: "chat.completion", created: created,
                                                   model: request.modelName, choices: [choice], usage: usage))
        case .completion:
            let choice = CompletionChoice(text: progress.text.text,
                                          logprobs: request.logprobs ? completionLogprobs(progress.tokens) : nil, finishReason: finish)
            body = APIJSON.encode(CompletionObject(id: kind.idPrefix + id, object: "text_completion", created: created,
                                                   model: request.modelName, choices: [choice], usage: usage))
        }
        return jsonResponse(.ok, body)
    }

    /// The reply as server-sent events; a client that goes away ends the stream, which frees its slot.
    func streamed() throws -> Response {
        let events = try submit()
        state.metrics.promptTokens.increment(by: Int64(promptTokens))
        let runner = self
        let body = ResponseBody { writer in
            var progress = ReplyProgress(text: ReplyText(tokenizer: runner.tokenizer, stops: runner.request.stops))
            if runner.kind == .chat {
                try await writer.write(runner.event(runner.chunk(delta: ChatMessageOut(role: "assistant", content: ""))))
            }
            var seen = 0
            for await event in events {
                let (piece, done) = progress.take(event, metrics: runner.state.metrics)
                let fresh = Array(progress.tokens[seen...])
                seen = progress.tokens.count
                if !piece.isEmpty || (runner.request.logprobs && !fresh.isEmpty) {
                    try await writer.write(runner.event(runner.textChunk(piece, tokens: fresh, finish: nil)))
                }
                if done { break }
            }
            let rest = progress.text.finish()
            runner.state.metrics.generatedTokens.increment(by: Int64(progress.tokens.count))
            try await writer.write(runner.event(runner.textChunk(rest, tokens: [], finish: progress.finish.rawValue)))
            if runner.request.includeUsage {
                try await writer.write(runner.event(runner.usageChunk(Usage(prompt: runner.promptTokens, completion: progress.tokens.count))))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: chunks

    private func event(_ data: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }

    private func chunk(delta: ChatMessageOut, logprobs: ChatLogprobs? = nil, finish: String? = nil) -> Data {
        APIJSON.encode(CompletionObject(id: kind.idPrefix + id, object: "chat.completion.chunk", created: created,
                                        model: request.modelName,
                                        choices: [ChatChoice(delta: delta, logprobs: logprobs, finishReason: finish)], usage: nil))
    }

    private func textChunk(_ text: String, tokens: [GeneratedToken], finish: String?) -> Data {
        let withLogprobs = request.logprobs && !tokens.isEmpty
        switch kind {
        case .chat:
            return chunk(delta: ChatMessageOut(role: nil, content: finish == nil || !text.isEmpty ? text : nil),
                         logprobs: withLogprobs ? chatLogprobs(tokens) : nil, finish: finish)
        case .completion:
            let choice = CompletionChoice(text: text, logprobs: withLogprobs ? completionLogprobs(tokens) : nil, finishReason: finish)
            return APIJSON.encode(CompletionObject(id: kind.idPrefix + id, object: "text_completion", created: created,
                                                   model: request.modelName, choices: [choice], usage: nil))
        }
    }

    private func usageChunk(_ usage: Usage) -> Data {
        let object = kind == .chat ? "chat.completion.chunk" : "text_completion"
        return APIJSON.encode(CompletionObject<ChatChoice>(id: kind.idPrefix + id, object: object, created: created,
                                                           model: request.modelName, choices: [], usage: usage))
    }

    // MARK: log-probabilities

    private func piece(_ id: Int32) -> String { tokenizer.decode([Int(id)]) }

    private func chatLogprobs(_ tokens: [GeneratedToken]) -> ChatLogprobs {
        ChatLogprobs(content: tokens.map { t in
            let text = piece(t.id)
            return .init(token: text, logprob: t.logprob ?? 0, bytes: Array(text.utf8), topLogprobs: t.top.map { alt in
                let s = piece(alt.id)
                return .init(token: s, logprob: alt.logprob, bytes: Array(s.utf8))
            })
        })
    }

    private func completionLogprobs(_ tokens: [GeneratedToken]) -> CompletionLogprobs {
        var out = CompletionLogprobs(), offset = 0
        for t in tokens {
            let text = piece(t.id)
            out.tokens.append(text)
            out.tokenLogprobs.append(t.logprob ?? 0)
            out.topLogprobs.append(Dictionary(t.top.map { (piece($0.id), $0.logprob) }, uniquingKeysWith: max))
            out.textOffset.append(offset)
            offset += text.count
        }
        return out
    }
}

/// A response with a JSON body.
func jsonResponse(_ status: HTTPResponse.Status, _ body: Data) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
}
