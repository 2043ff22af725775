// The endpoints: OpenAI's /v1 (chat, completions, models), vLLM's adapter loading, /health and /metrics.
import Foundation
import Hummingbird
import TailorChat

extension ServerState {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in
            self.ready == nil ? jsonResponse(.serviceUnavailable, Data(#"{"status":"loading"}"#.utf8))
                : jsonResponse(.ok, Data(#"{"status":"ok"}"#.utf8))
        }
        router.get("/metrics") { _, _ in
            if let snapshot = self.ready?.engine.snapshot {
                self.metrics.queueLength.set(Double(snapshot.queued))
                self.metrics.batchOccupancy.set(Double(snapshot.running))
                self.metrics.cancelledRequests.set(Double(snapshot.cancelled))
            }
            self.metrics.loadedAdapters.set(Double(self.adapters.all.count))
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        router.get("/v1/models") { request, _ in
            await self.handle("models", request) { _ in
                let ready = try self.requireReady()
                let base = ModelCard(id: self.modelName, created: self.created, root: self.modelName, parent: nil,
                                     maxModelLen: ready.maxContext)
                let adapters = self.adapters.all.map {
                    ModelCard(id: $0.name, created: $0.created, root: $0.path, parent: self.modelName, maxModelLen: ready.maxContext)
                }
                return jsonResponse(.ok, APIJSON.encode(ModelList(data: [base] + adapters)))
            }
        }
        router.post("/v1/chat/completions") { request, _ in
            await self.handle("chat", request, cancelOnHangUp: true) { body in
                let ready = try self.requireReady()
                let fields = try decodeBody(SamplingFields.self, from: body)
                let chat = try decodeBody(ChatCompletionBody.self, from: body)
                guard !chat.messages.isEmpty else { throw APIError.invalid("messages is empty", param: "messages") }
                let conversation = chat.messages.map { ChatMessage(role: $0.role, content: $0.content?.text ?? "") }
                let prompt: [Int32]
                do { prompt = try ready.chat.promptIDs(for: conversation) } catch {
                    throw APIError.invalid("cannot apply the chat template: \(error)", param: "messages")
                }
                if let n = chat.topLogprobs, !(0...20).contains(n) {
                    throw APIError.invalid("top_logprobs must be between 0 and 20", param: "top_logprobs")
                }
                let top = chat.logprobs == true ? (chat.topLogprobs ?? 0) : nil
                let prepared = try fields.prepared(prompt: prompt, topLogprobs: top, state: self, ready: ready)
                let runner = ReplyRunner(state: self, ready: ready, kind: .chat, request: prepared)
                return prepared.stream ? try runner.streamed() : try await runner.complete()
            }
        }
        router.post("/v1/completions") { request, _ in
            await self.handle("completions", request, cancelOnHangUp: true) { body in
                let ready = try self.requireReady()
                let fields = try decodeBody(SamplingFields.self, from: body)
                let completion = try decodeBody(CompletionBody.self, from: body)
                guard completion.prompt.values.count == 1 else {
                    throw APIError.invalid("prompt must be one string (batches of prompts are not supported)", param: "prompt")
                }
                if let n = completion.logprobs, !(0...20).contains(n) {
                    throw APIError.invalid("logprobs must be between 0 and 20", param: "logprobs")
                }
                let prompt = ready.chat.rawIDs(for: completion.prompt.values[0])
                let prepared = try fields.prepared(prompt: prompt, topLogprobs: completion.logprobs, state: self, ready: ready)
                let runner = ReplyRunner(state: self, ready: ready, kind: .completion, request: prepared)
                return prepared.stream ? try runner.streamed() : try await runner.complete()
            }
        }
        router.post("/v1/load_lora_adapter") { request, _ in
            await self.handle("load_lora_adapter", request) { body in
                let ready = try self.requireReady()
                let load = try decodeBody(LoadAdapterBody.self, from: body)
                try self.adapters.load(name: load.loraName, path: load.loraPath, base: ready.chat.model.weights,
                                       reserved: self.modelName)
                return textResponse("Success: LoRA adapter '\(load.loraName)' added successfully.")
            }
        }
        router.post("/v1/unload_lora_adapter") { request, _ in
            await self.handle("unload_lora_adapter", request) { body in
                _ = try self.requireReady()
                let unload = try decodeBody(UnloadAdapterBody.self, from: body)
                try self.adapters.unload(name: unload.loraName)
                return textResponse("Success: LoRA adapter '\(unload.loraName)' removed successfully.")
            }
        }
        return router
    }

    /// Checks the API key, reads the body within its limit, runs `body` and turns an `APIError` into its JSON.
    /// With `cancelOnHangUp`, a client that closes its connection before the reply is complete cancels `body` (and so
    /// frees its engine slot at the next step). Watching the connection ends it after the reply, which says so
    /// (`Connection: close`) so that clients do not reuse it.
    func handle(_ endpoint: String, _ request: Request, cancelOnHangUp: Bool = false,
                _ body: (Data) async throws -> Response) async -> Response {
        var response: Response
        do {
            if let key = configuration.apiKey, request.headers[.authorization] != "Bearer \(key)" { throw APIError.unauthorized }
            if cancelOnHangUp {
                response = try await request.body.consumeWithCancellationOnInboundClose { requestBody in
                    try await body(try await self.readBody(requestBody, headers: request.headers))
                }
            } else {
                response = try await body(try await readBody(request.body, headers: request.headers))
            }
        } catch let error as APIError {
            response = jsonResponse(error.status, error.body)
        } catch is CancellationError {
            // Nobody reads it: counted as nginx's 499 "client closed request".
            response = Response(status: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"))
        } catch {
            let failure = APIError(status: .internalServerError, message: "\(error)", type: "server_error", param: nil, code: nil)
            response = jsonResponse(failure.status, failure.body)
        }
        if cancelOnHangUp { response.headers[.connection] = "close" }
        metrics.countRequest(endpoint: endpoint, status: response.status.code)
        return response
    }

    /// The request body, refused with 413 past `maxBodyBytes` (checked as it arrives, not only from Content-Length).
    func readBody(_ body: RequestBody, headers: HTTPFields) async throws -> Data {
        let limit = configuration.maxBodyBytes
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw APIError.tooLarge(limit: limit) }
        var data = Data()
        for try await chunk in body {
            guard data.count + chunk.readableBytes <= limit else { throw APIError.tooLarge(limit: limit) }
            data.append(contentsOf: chunk.readableBytesView)
        }
        return data
    }
}

/// A plain-text 200 (vLLM's answer to adapter loading).
func textResponse(_ text: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}
