// The HTTP API on a loopback port: every endpoint, streaming, errors, adapter loading, mixed batches, disconnects.
import Foundation
import TailorChat
import TailorKernels
import TailorModels
import TailorServe
import TailorTokenizers
import XCTest

final class ServerTests: XCTestCase {
    nonisolated(unsafe) static let messages: [[String: Any]] = [["role": "system", "content": "be brief"], ["role": "user", "content": "hello there"]]

    /// The text `tailor generate` prints for `prompt` with `adapter`, greedy, and its token count (stop token included).
    func expectedReply(folder: URL, adapter: URL?, prompt: [Int32], maxTokens: Int) throws -> (text: String, tokens: Int, finish: String) {
        let chat = try ServeFixtures.served(folder).chat
        let tokens = try ServeFixtures.generateAlone(folder: folder, adapter: adapter, prompt: prompt, maxNewTokens: maxTokens,
                                                     stop: chat.stopTokens)
        var detokenizer = StreamingDetokenizer(tokenizer: chat.tokenizer, skipSpecialTokens: true)
        var text = ""
        for id in tokens where !chat.stopTokens.contains(id) { text += detokenizer.append(Int(id)) }
        text += detokenizer.finish()
        let stopped = tokens.last.map(chat.stopTokens.contains) ?? false
        return (text, tokens.count, stopped ? "stop" : "length")
    }

    func chatPrompt(_ folder: URL) throws -> [Int32] {
        try ServeFixtures.served(folder).chat.promptIDs(for: Self.messages.map {
            ChatMessage(role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "")
        })
    }

    /// Base, LoRA and DoRA requests sent at once share batches; each reply equals greedy generate with its adapter.
    func testModelsHealthAndMixedAdapterChats() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let server = try await RunningServer.start({ $0.engine = EngineConfiguration(maxBatch: 4, prefillChunk: 8) }, folder: folder,
            adapters: [("lora", ServeFixtures.loraAdapter.path), ("dora", ServeFixtures.doraAdapter.path)])
        defer { Task { await server.stop() } }
        let health = try await server.send("GET", "/health")
        XCTAssertEqual(health.status, 200)

        let models = try await server.send("GET", "/v1/models")
        XCTAssertEqual(models.status, 200)
        let cards = models.json["data"] as? [[String: Any]] ?? []
        XCTAssertEqual(cards.map { $0["id"] as? String }, ["tiny", "dora", "lora"])
        XCTAssertEqual(cards.dropFirst().map { $0["parent"] as? String }, ["tiny", "tiny"])

        let prompt = try chatPrompt(folder)
        let plan: [(model: String, adapter: URL?, maxTokens: Int)] = [
            ("tiny", nil, 20), ("lora", ServeFixtures.loraAdapter, 24), ("dora", ServeFixtures.doraAdapter, 16),
            ("lora", ServeFixtures.loraAdapter, 9), ("tiny", nil, 30), ("dora", ServeFixtures.doraAdapter, 21),
        ]
        let replies = try await withThrowingTaskGroup(of: (Int, RunningServer.Reply).self) { group in
            for (i, p) in plan.enumerated() {
                group.addTask {
                    (i, try await server.send("POST", "/v1/chat/completions", json: [
                        "model": p.model, "messages": Self.messages, "max_tokens": p.maxTokens, "temperature": 0]))
                }
            }
            var out = [Int: RunningServer.Reply]()
            for try await (i, reply) in group { out[i] = reply }
            return out
        }
        for (i, p) in plan.enumerated() {
            let reply = try XCTUnwrap(replies[i])
            XCTAssertEqual(reply.status, 200, reply.body)
            let expected = try expectedReply(folder: folder, adapter: p.adapter, prompt: prompt, maxTokens: p.maxTokens)
            let choice = (reply.json["choices"] as? [[String: Any]])?.first ?? [:]
            let message = choice["message"] as? [String: Any] ?? [:]
            XCTAssertEqual(message["content"] as? String, expected.text, "request \(i) (\(p.model))")
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertEqual(choice["finish_reason"] as? String, expected.finish)
            let usage = reply.json["usage"] as? [String: Int] ?? [:]
            XCTAssertEqual(usage, ["prompt_tokens": prompt.count, "completion_tokens": expected.tokens,
                                   "total_tokens": prompt.count + expected.tokens])
            XCTAssertEqual(reply.json["object"] as? String, "chat.completion")
            XCTAssertEqual(reply.json["model"] as? String, p.model)
        }
        // A request's `lora` scale: 0 gives the base model's reply.
        let scaled = try await server.send("POST", "/v1/chat/completions", json: [
            "model": "tiny", "messages": Self.messages, "max_tokens": 20, "temperature": 0, "lora": [["name": "lora", "scale": 0]]])
        let base = try expectedReply(folder: folder, adapter: nil, prompt: prompt, maxTokens: 20)
        XCTAssertEqual(((scaled.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String, base.text)
        let adapted = try expectedReply(folder: folder, adapter: ServeFixtures.loraAdapter, prompt: prompt, maxTokens: 20)
        XCTAssertNotEqual(adapted.text, base.text, "the adapter must change the reply for this test to mean anything")
        await server.stop()
    }

    /// `lora` lists several adapters with their scales (added to the one `model` names): the reply equals greedy
    /// generate with their terms summed, sent alongside single-adapter requests; DoRA in a combination, a name given
    /// twice and an entry without a name are refused with 400.
    func testSeveralAdaptersPerRequest() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let chat = try ServeFixtures.served(folder).chat
        let base = chat.model
        let secondURL = try ServeFixtures.secondLoRAAdapter(base: base.weights)
        let server = try await RunningServer.start({ $0.engine = EngineConfiguration(maxBatch: 4, prefillChunk: 8) }, folder: folder,
            adapters: [("lora", ServeFixtures.loraAdapter.path), ("second", secondURL.path), ("dora", ServeFixtures.doraAdapter.path)])
        defer { Task { await server.stop() } }
        let first = try UnmergedAdapter(directory: ServeFixtures.loraAdapter, base: base.weights)
        let second = try UnmergedAdapter(directory: secondURL, base: base.weights)
        let prompt = try chatPrompt(folder)
        func expected(_ terms: [ScaledAdapter]) -> String {
            let model = LlamaModel(configuration: base.configuration, weights: ServeFixtures.concatenated(terms, onto: base.weights))
            let tokens = model.generate(prompt: prompt, options: GenerationOptions(maxNewTokens: 20, temperature: 0, stopTokens: chat.stopTokens),
                                        backend: CPUBackend())
            return chat.tokenizer.decode(tokens.filter { !chat.stopTokens.contains($0) }.map(Int.init), skipSpecialTokens: true)
        }
        let plan: [(model: String, lora: [[String: Any]], terms: [ScaledAdapter])] = [
            ("lora", [["name": "second", "scale": 0.5]], [ScaledAdapter(first), ScaledAdapter(second, scale: 0.5)]),
            ("tiny", [["id": "second", "scale": -0.8], ["name": "lora", "scale": 1.3]],
             [ScaledAdapter(second, scale: -0.8), ScaledAdapter(first, scale: 1.3)]),
            ("second", [], [ScaledAdapter(second)]),
            ("lora", [["name": "lora", "scale": 0.25], ["name": "second"]], [ScaledAdapter(first, scale: 0.25), ScaledAdapter(second)]),
        ]
        let bodies = try plan.map { p in
            String(decoding: try JSONSerialization.data(withJSONObject: [
                "model": p.model, "messages": Self.messages, "max_tokens": 20, "temperature": 0, "lora": p.lora] as [String: Any]), as: UTF8.self)
        }
        let replies = try await withThrowingTaskGroup(of: (Int, RunningServer.Reply).self) { group in
            for (i, body) in bodies.enumerated() {
                group.addTask { (i, try await server.send("POST", "/v1/chat/completions", raw: body)) }
            }
            var out = [Int: RunningServer.Reply]()
            for try await (i, reply) in group { out[i] = reply }
            return out
        }
        var texts: [String] = []
        for (i, p) in plan.enumerated() {
            let reply = try XCTUnwrap(replies[i])
            XCTAssertEqual(reply.status, 200, reply.body)
            let text = ((reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            XCTAssertEqual(text, expected(p.terms), "request \(i)")
            texts.append(text ?? "")
        }
        XCTAssertEqual(Set(texts).count, texts.count, "the combinations must give different replies for this test to mean anything")
        for (lora, fragment) in [([["name": "dora"]], "DoRA"), ([["name": "second"], ["id": "second"]], "twice"),
                                 ([["scale": 0.5]], "name")] {
            let refused = try await server.send("POST", "/v1/chat/completions", json: [
                "model": "lora", "messages": Self.messages, "max_tokens": 3, "lora": lora])
            XCTAssertEqual(refused.status, 400, refused.body)
            let error = refused.json["error"] as? [String: Any]
            XCTAssertEqual(error?["param"] as? String, "lora")
            XCTAssertTrue((error?["message"] as? String ?? "").contains(fragment), refused.body)
        }
        await server.stop()
    }

    /// Streaming: `data: {chunk}` events, the role first, text deltas that add up to the non-streamed reply, the
    /// finish reason, a usage chunk with no choices, then `data: [DONE]`; completions likewise.
    func testStreamingChatAndCompletions() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let server = try await RunningServer.start(folder: folder, adapters: [("lora", ServeFixtures.loraAdapter.path)])
        defer { Task { await server.stop() } }
        let request: [String: Any] = ["model": "lora", "messages": Self.messages, "max_tokens": 25, "temperature": 0,
                                      "stream": true, "stream_options": ["include_usage": true]]
        let reply = try await server.send("POST", "/v1/chat/completions", json: request)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["content-type"], "text/event-stream")
        let events = sseEvents(reply.body)
        XCTAssertEqual(events.last, "[DONE]")
        let chunks = events.dropLast().map(jsonObject)
        XCTAssertEqual(chunks.count, events.count - 1, "every event but the last is a JSON object")
        let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
        XCTAssertEqual(deltas.first?["role"] as? String, "assistant")
        let text = deltas.compactMap { $0["content"] as? String }.joined()
        let expected = try expectedReply(folder: folder, adapter: ServeFixtures.loraAdapter, prompt: chatPrompt(folder), maxTokens: 25)
        XCTAssertEqual(text, expected.text)
        let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        XCTAssertEqual(finishes, [expected.finish])
        let usageChunk = try XCTUnwrap(chunks.last)
        XCTAssertEqual((usageChunk["choices"] as? [Any])?.count, 0)
        XCTAssertEqual((usageChunk["usage"] as? [String: Int])?["completion_tokens"], expected.tokens)
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })

        // Completions: the raw prompt, streamed and not, equal generate --raw.
        let chat = try ServeFixtures.served(folder).chat
        let raw = try expectedReply(folder: folder, adapter: nil, prompt: chat.rawIDs(for: "Once upon a time"), maxTokens: 18)
        let whole = try await server.send("POST", "/v1/completions", json: [
            "model": "tiny", "prompt": "Once upon a time", "max_tokens": 18, "temperature": 0])
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual((whole.json["choices"] as? [[String: Any]])?.first?["text"] as? String, raw.text)
        XCTAssertEqual(whole.json["object"] as? String, "text_completion")
        let streamed = try await server.send("POST", "/v1/completions", json: [
            "model": "tiny", "prompt": "Once upon a time", "max_tokens": 18, "temperature": 0, "stream": true])
        let parts = sseEvents(streamed.body)
        XCTAssertEqual(parts.last, "[DONE]")
        XCTAssertEqual(parts.dropLast().map(jsonObject).compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined(),
                       raw.text)
        await server.stop()
    }

    /// Stop strings cut the reply before them (finish "stop"); logprobs come with every token.
    func testStopStringsAndLogprobs() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let server = try await RunningServer.start(folder: folder)
        defer { Task { await server.stop() } }
        let full = try expectedReply(folder: folder, adapter: nil, prompt: chatPrompt(folder), maxTokens: 40)
        let scalars = Array(full.text.unicodeScalars)
        try XCTSkipIf(scalars.count < 12, "reply too short to pick a stop string")
        let stop = String(String.UnicodeScalarView(scalars[8..<11]))
        let before = try XCTUnwrap(full.text.range(of: stop)).lowerBound
        for stream in [false, true] {
            let reply = try await server.send("POST", "/v1/chat/completions", json: [
                "model": "tiny", "messages": Self.messages, "max_tokens": 40, "temperature": 0, "stop": [stop, "\u{1}never"],
                "stream": stream])
            let text: String
            if stream {
                text = sseEvents(reply.body).dropLast().map(jsonObject).compactMap {
                    (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            } else {
                text = ((reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? "?"
                XCTAssertEqual((reply.json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "stop")
            }
            XCTAssertEqual(text, String(full.text[..<before]), "stream: \(stream)")
        }
        let withLogprobs = try await server.send("POST", "/v1/chat/completions", json: [
            "model": "tiny", "messages": Self.messages, "max_tokens": 6, "temperature": 0, "logprobs": true, "top_logprobs": 2])
        let content = (((withLogprobs.json["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["content"]
                       as? [[String: Any]]) ?? []
        XCTAssertEqual(content.count, (withLogprobs.json["usage"] as? [String: Int])?["completion_tokens"])
        XCTAssertTrue(content.allSatisfy { ($0["top_logprobs"] as? [Any])?.count == 2 && ($0["logprob"] as? Double ?? 1) <= 0 })
        await server.stop()
    }

    /// Every refusal is an OpenAI-style JSON error with the right status.
    func testErrorsAreOpenAIStyle() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let server = try await RunningServer.start({ $0.maxBodyBytes = 4096; $0.maxTokens = 50; $0.maxContext = 64 }, folder: folder)
        defer { Task { await server.stop() } }
        func expect(_ status: Int, _ json: [String: Any]? = nil, raw: String? = nil, path: String = "/v1/chat/completions",
                    param: String? = nil, line: UInt = #line) async throws {
            let reply = try await server.send("POST", path, json: json, raw: raw)
            XCTAssertEqual(reply.status, status, reply.body, line: line)
            let error = reply.json["error"] as? [String: Any]
            XCTAssertNotNil(error?["message"] as? String, reply.body, line: line)
            XCTAssertNotNil(error?["type"] as? String, reply.body, line: line)
            if let param { XCTAssertEqual(error?["param"] as? String, param, line: line) }
        }
        let ok: [String: Any] = ["model": "tiny", "messages": Self.messages, "max_tokens": 4]
        func with(_ key: String, _ value: Any) -> [String: Any] { var o = ok; o[key] = value; return o }
        try await expect(400, raw: "{not json")
        try await expect(400, ["model": "tiny"], param: "messages")
        try await expect(400, with("messages", "hi"), param: "messages")
        try await expect(400, with("n", 2), param: "n")
        try await expect(400, with("temperature", 3), param: "temperature")
        try await expect(400, with("top_p", 0), param: "top_p")
        try await expect(400, with("max_tokens", 0), param: "max_tokens")
        try await expect(400, with("max_tokens", 51), param: "max_tokens")
        try await expect(400, with("stop", ["a", "b", "c", "d", "e"]), param: "stop")
        try await expect(400, with("top_logprobs", 50), param: "top_logprobs")
        try await expect(400, with("messages", [["role": "user", "content": String(repeating: "word ", count: 20)]]),
                         param: "messages")   // prompt + max_tokens > 64
        try await expect(404, with("model", "nope"), param: "model")
        try await expect(404, with("lora", [["name": "nope"]]), param: "model")
        try await expect(413, raw: String(repeating: " ", count: 5000))
        try await expect(400, ["model": "tiny", "prompt": ["a", "b"]], path: "/v1/completions", param: "prompt")
        try await expect(400, ["lora_name": "x", "lora_path": "/nonexistent"], path: "/v1/load_lora_adapter", param: "lora_path")
        await server.stop()

        let locked = try await RunningServer.start({ $0.apiKey = "sekret"; $0.engine = EngineConfiguration(maxQueue: 0) }, folder: folder)
        defer { Task { await locked.stop() } }
        let denied = try await locked.send("POST", "/v1/chat/completions", json: ok)
        XCTAssertEqual(denied.status, 401)
        XCTAssertEqual((denied.json["error"] as? [String: Any])?["code"] as? String, "invalid_api_key")
        let status1 = try await locked.send("GET", "/v1/models", headers: ["Authorization": "Bearer wrong"]).status
        XCTAssertEqual(status1, 401)
        let status2 = try await locked.send("GET", "/v1/models", headers: ["Authorization": "Bearer sekret"]).status
        XCTAssertEqual(status2, 200)
        let status3 = try await locked.send("GET", "/health").status
        XCTAssertEqual(status3, 200)
        let busy = try await locked.send("POST", "/v1/chat/completions", json: ok, headers: ["Authorization": "Bearer sekret"])
        XCTAssertEqual(busy.status, 429)   // a queue of 0: always full
        XCTAssertEqual((busy.json["error"] as? [String: Any])?["code"] as? String, "queue_full")
        await locked.stop()
    }

    /// Adapters added and removed at run time, as vLLM's endpoints do it; /metrics counts what happened.
    func testAdapterLoadUnloadAndMetrics() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let server = try await RunningServer.start(folder: folder)
        defer { Task { await server.stop() } }
        let load = ["lora_name": "dates", "lora_path": ServeFixtures.loraAdapter.path]
        let status4 = try await server.send("POST", "/v1/load_lora_adapter", json: load).status
        XCTAssertEqual(status4, 200)
        let status5 = try await server.send("POST", "/v1/load_lora_adapter", json: load).status
        XCTAssertEqual(status5, 400)
        let models = try await server.send("GET", "/v1/models")
        XCTAssertEqual((models.json["data"] as? [[String: Any]])?.map { $0["id"] as? String }, ["tiny", "dates"])
        let reply = try await server.send("POST", "/v1/chat/completions", json: [
            "model": "dates", "messages": Self.messages, "max_tokens": 15, "temperature": 0])
        let expected = try expectedReply(folder: folder, adapter: ServeFixtures.loraAdapter, prompt: chatPrompt(folder), maxTokens: 15)
        XCTAssertEqual(((reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String,
                       expected.text)
        let status6 = try await server.send("POST", "/v1/unload_lora_adapter", json: ["lora_name": "dates"]).status
        XCTAssertEqual(status6, 200)
        let status7 = try await server.send("POST", "/v1/unload_lora_adapter", json: ["lora_name": "dates"]).status
        XCTAssertEqual(status7, 404)
        let gone = try await server.send("POST", "/v1/chat/completions", json: [
            "model": "dates", "messages": Self.messages, "max_tokens": 3])
        XCTAssertEqual(gone.status, 404)

        let metrics = try await server.send("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        for name in ["tailor_requests_total{endpoint=\"chat\",status=\"200\"} 1", "tailor_requests_total{endpoint=\"chat\",status=\"404\"} 1",
                     "tailor_prompt_tokens_total \(try chatPrompt(folder).count)", "tailor_generation_tokens_total \(expected.tokens)",
                     "tailor_time_to_first_token_seconds_count 1", "tailor_time_per_output_token_seconds_bucket",
                     "tailor_queue_length 0", "tailor_batch_occupancy 0", "tailor_loaded_adapters 0"] {
            XCTAssertTrue(metrics.body.contains(name), "\(name) missing from:\n\(metrics.body)")
        }
        await server.stop()
    }

    /// A streaming client that hangs up frees its slot: with one slot, a long reply is cancelled and the next request runs.
    func testClientDisconnectFreesSlot() async throws {
        let folder = try ServeFixtures.slowChatFolder()
        let server = try await RunningServer.start({ $0.engine = EngineConfiguration(maxBatch: 1); $0.maxTokens = 3000 }, folder: folder)
        defer { Task { await server.stop() } }
        let body = #"{"model":"tiny","messages":[{"role":"user","content":"go"}],"max_tokens":3000,"temperature":0,"stream":true}"#
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        let port = server.port
        let head = try await Task.detached { try sendAndHangUp(port: port, request: request, marker: "\"content\":\"") }.value
        XCTAssertTrue(head.contains("200 OK"), head)
        try await assertCancelledAndSlotFree(server)
        await server.stop()
    }

    /// Waits (at most 15 s) until the server counts one cancelled request, then checks the only slot serves again.
    func assertCancelledAndSlotFree(_ server: RunningServer, line: UInt = #line) async throws {
        var cancelled = false
        for _ in 0..<300 where !cancelled {
            try await Task.sleep(for: .milliseconds(50))
            cancelled = try await server.send("GET", "/metrics").body.contains("tailor_cancelled_requests 1")
        }
        XCTAssertTrue(cancelled, "the hung-up request was not cancelled", line: line)
        let next = try await server.send("POST", "/v1/chat/completions", json: [
            "model": "tiny", "messages": Self.messages, "max_tokens": 3, "temperature": 0])
        XCTAssertEqual(next.status, 200, line: line)
        XCTAssertEqual((next.json["usage"] as? [String: Int])?["completion_tokens"], 3, line: line)
    }

    /// A client waiting for a whole (non-streamed) reply that hangs up frees its slot at the next step too: with one
    /// slot, the long reply is cancelled long before its 3,000 tokens and the next request runs.
    func testNonStreamingClientDisconnectFreesSlot() async throws {
        let folder = try ServeFixtures.slowChatFolder()
        let server = try await RunningServer.start({ $0.engine = EngineConfiguration(maxBatch: 1); $0.maxTokens = 3000 }, folder: folder)
        defer { Task { await server.stop() } }
        let body = #"{"model":"tiny","messages":[{"role":"user","content":"go"}],"max_tokens":3000,"temperature":0}"#
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        let client = try OpenConnection(port: server.port)
        try client.send(request)
        var running = false
        for _ in 0..<300 where !running {   // at most 15 s: the request holds the slot
            try await Task.sleep(for: .milliseconds(50))
            running = try await server.send("GET", "/metrics").body.contains("tailor_batch_occupancy 1")
        }
        XCTAssertTrue(running, "the request never started")
        client.close()
        try await assertCancelledAndSlotFree(server)
        let metrics = try await server.send("GET", "/metrics").body
        XCTAssertTrue(metrics.contains("tailor_requests_total{endpoint=\"chat\",status=\"499\"} 1"), metrics)
        await server.stop()
    }
}
