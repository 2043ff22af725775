// The scheduler: requests with different adapters share batches and each gets what `generate` gives it alone.
import Foundation
import TailorKernels
import TailorModels
import TailorServe
import TailorTensor
import XCTest

final class EngineTests: XCTestCase {
    /// Every event of `stream`: its tokens and how it ended (at most `limit` events).
    static func collect(_ stream: AsyncStream<EngineEvent>, limit: Int = 10_000) async -> (tokens: [Int32], finish: FinishReason?) {
        var tokens: [Int32] = [], finish: FinishReason?
        for await event in stream {
            switch event {
            case .token(let t): tokens.append(t.id)
            case .finished(let reason): finish = reason
            }
            if tokens.count > limit { break }
        }
        return (tokens, finish)
    }

    /// Mixed traffic: base, LoRA, DoRA and LoRA at scale 0 rows in batches of 3 with a 7-token prefill budget, so rows
    /// join and leave between steps and prompts are read in chunks next to decoding rows. Each reply equals greedy
    /// `generate` with that adapter attached (scale 0: the base model).
    func testMixedAdapterBatchesEqualGenerateAlone() async throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let base = try ServeFixtures.served(folder).chat.model
        let lora = try UnmergedAdapter(directory: ServeFixtures.loraAdapter, base: base.weights)
        let dora = try UnmergedAdapter(directory: ServeFixtures.doraAdapter, base: base.weights)
        let engine = InferenceEngine(model: base, configuration: EngineConfiguration(maxBatch: 3, maxQueue: 32, prefillChunk: 7),
                                     backend: CPUBackend())
        engine.start()
        let choices: [(UnmergedAdapter?, URL?, Float)] = [(nil, nil, 1), (lora, ServeFixtures.loraAdapter, 1),
                                                          (dora, ServeFixtures.doraAdapter, 1), (lora, nil, 0)]
        let lengths = [3, 11, 20, 5, 30, 9, 1, 16]
        var rng = SplitMix64(seed: 7)
        var cases: [(prompt: [Int32], choice: Int, maxNew: Int)] = []
        for (i, n) in lengths.enumerated() {
            cases.append(((0..<n).map { _ in Int32(rng.next() % 254) }, i % choices.count, 4 + i * 3))
        }
        let stop: Set<Int32> = [255]
        let streams = try cases.map { c in
            let (adapter, _, scale) = choices[c.choice]
            return try engine.submit(EngineRequest(prompt: c.prompt, options: GenerationOptions(maxNewTokens: c.maxNew, stopTokens: stop),
                                                   adapter: adapter, adapterScale: scale))
        }
        for (c, stream) in zip(cases, streams) {
            let got = await Self.collect(stream)
            let expected = try ServeFixtures.generateAlone(folder: folder, adapter: choices[c.choice].1, prompt: c.prompt,
                                                           maxNewTokens: c.maxNew, stop: stop)
            XCTAssertEqual(got.tokens, expected, "prompt of \(c.prompt.count) tokens, adapter choice \(c.choice)")
            XCTAssertEqual(got.finish, expected.last.map(stop.contains) == true ? .stop : .length)
        }
        // The adapters change the replies (otherwise the comparison above proves nothing about them).
        let probe: [Int32] = [5, 9, 77, 31, 2, 100]
        let plain = try ServeFixtures.generateAlone(folder: folder, adapter: nil, prompt: probe, maxNewTokens: 12, stop: [])
        let adapted = try ServeFixtures.generateAlone(folder: folder, adapter: ServeFixtures.loraAdapter, prompt: probe, maxNewTokens: 12, stop: [])
        XCTAssertNotEqual(plain, adapted)
        XCTAssertGreaterThan(engine.snapshot.steps, 0)
        await engine.shutdown(grace: .seconds(5))
    }

    /// The step's logits equal `forward`'s for each row, within f32 reassociation (rows of different lengths, adapters).
    func testForwardStepLogitsMatchForward() throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let base = try ServeFixtures.served(folder).chat.model
        let adapted = try LoadedModel.load(from: folder).applyingAdapter(at: ServeFixtures.loraAdapter).model
        let lora = try UnmergedAdapter(directory: ServeFixtures.loraAdapter, base: base.weights)
        let prompts: [[Int32]] = [[1, 2, 3, 4, 5], [9], [40, 41, 42]]
        var caches = prompts.map { KVCache(configuration: base.configuration, batch: 1, capacity: $0.count) }
        let rows = prompts.enumerated().map { BatchStepRow(tokens: $1, adapter: $0 == 1 ? lora : nil) }
        let logits = base.forwardStep(rows: rows, caches: &caches, backend: CPUBackend()).floats()
        let v = base.configuration.vocabSize
        for (r, prompt) in prompts.enumerated() {
            let model = r == 1 ? adapted : base
            let alone = model.forward(tokens: prompt, batch: 1, backend: CPUBackend()).floats()
            let expected = Array(alone[((prompt.count - 1) * v)..<(prompt.count * v)])
            // Same ops on the same rows; a tolerance only for BLAS blocking that may depend on the row count.
            XCTAssertNil(closeness(Array(logits[(r * v)..<((r + 1) * v)]), expected, tolerance: 1e-5), "row \(r)")
        }
        XCTAssertEqual(caches.map(\.length), prompts.map(\.count))
    }

    /// A row with several adapters gets the sum of their scaled low-rank terms: its logits equal `forward` with one
    /// adapter that concatenates them (PEFT's "cat" combination), next to rows with one adapter or none.
    func testSeveralAdaptersInOneRowSumTheirTerms() throws {
        let folder = try ServeFixtures.tinyChatFolder()
        let base = try ServeFixtures.served(folder).chat.model
        let first = try UnmergedAdapter(directory: ServeFixtures.loraAdapter, base: base.weights)
        let second = try UnmergedAdapter(directory: ServeFixtures.secondLoRAAdapter(base: base.weights), base: base.weights)
        let mixes: [[ScaledAdapter]] = [[ScaledAdapter(first, scale: 0.7), ScaledAdapter(second, scale: -0.4)], [],
                                        [ScaledAdapter(second, scale: 1.5)], [ScaledAdapter(second, scale: 1), ScaledAdapter(first)]]
        let prompts: [[Int32]] = [[1, 2, 3, 4, 5], [9], [40, 41, 42], [7, 8]]
        var caches = prompts.map { KVCache(configuration: base.configuration, batch: 1, capacity: $0.count) }
        let rows = zip(prompts, mixes).map { BatchStepRow(tokens: $0, adapters: $1) }
        let logits = base.forwardStep(rows: rows, caches: &caches, backend: CPUBackend()).floats()
        let v = base.configuration.vocabSize
        var perRow: [[Float]] = []
        for (r, prompt) in prompts.enumerated() {
            let model = LlamaModel(configuration: base.configuration, weights: ServeFixtures.concatenated(mixes[r], onto: base.weights))
            let alone = model.forward(tokens: prompt, batch: 1, backend: CPUBackend()).floats()
            let expected = Array(alone[((prompt.count - 1) * v)..<(prompt.count * v)])
            perRow.append(Array(logits[(r * v)..<((r + 1) * v)]))
            XCTAssertNil(closeness(perRow[r], expected, tolerance: 1e-5), "row \(r)")
        }
        // Each adapter matters: the pair differs from either alone.
        var single = prompts.map { KVCache(configuration: base.configuration, batch: 1, capacity: $0.count) }
        let firstOnly = base.forwardStep(rows: prompts.map { BatchStepRow(tokens: $0, adapter: first, adapterScale: 0.7) },
                                         caches: &single, backend: CPUBackend()).floats()
        XCTAssertNotNil(closeness(perRow[0], Array(firstOnly[0..<v]), tolerance: 1e-3))
    }

    /// A DoRA adapter cannot be summed with others: the engine refuses the request instead of running it.
    func testDoRAIsNotCombined() throws {
        let base = try ServeFixtures.served(ServeFixtures.tinyChatFolder()).chat.model
        let lora = try UnmergedAdapter(directory: ServeFixtures.loraAdapter, base: base.weights)
        let dora = try UnmergedAdapter(directory: ServeFixtures.doraAdapter, base: base.weights)
        let engine = InferenceEngine(model: base, configuration: EngineConfiguration(), backend: CPUBackend())
        let request = EngineRequest(prompt: [1, 2], options: GenerationOptions(maxNewTokens: 2),
                                    adapters: [ScaledAdapter(lora), ScaledAdapter(dora)])
        XCTAssertThrowsError(try engine.submit(request)) { XCTAssertEqual($0 as? EngineError, .doraCombined) }
    }

    func closeness(_ a: [Float], _ e: [Float], tolerance: Float) -> String? {
        var worst: Float = 0
        for i in a.indices { worst = max(worst, abs(a[i] - e[i]) / max(1, abs(e[i]))) }
        return worst > tolerance ? "error \(worst)" : nil
    }

    /// Log-probabilities: the greedy token is the best alternative and its log-probability is that alternative's.
    func testLogprobsOfGreedyTokens() async throws {
        let base = try ServeFixtures.served(ServeFixtures.tinyChatFolder()).chat.model
        let engine = InferenceEngine(model: base, configuration: EngineConfiguration(), backend: CPUBackend())
        engine.start()
        let stream = try engine.submit(EngineRequest(prompt: [3, 4, 5], options: GenerationOptions(maxNewTokens: 5), topLogprobs: 3))
        var seen = 0
        for await event in stream {
            guard case .token(let t) = event else { continue }
            seen += 1
            XCTAssertEqual(t.top.count, 3)
            XCTAssertEqual(t.top.first?.id, t.id)
            XCTAssertEqual(t.top.first?.logprob, t.logprob)
            XCTAssertTrue(t.top.map(\.logprob) == t.top.map(\.logprob).sorted(by: >))
            XCTAssertLessThan(t.top.map { exp(Double($0.logprob)) }.reduce(0, +), 1.0001)
        }
        XCTAssertEqual(seen, 5)
        await engine.shutdown(grace: .seconds(5))
    }

    /// A full queue refuses; an empty prompt is refused; shutdown cancels what waits.
    func testQueueLimitAndShutdown() async throws {
        let base = try ServeFixtures.served(ServeFixtures.tinyChatFolder()).chat.model
        let engine = InferenceEngine(model: base, configuration: EngineConfiguration(maxBatch: 1, maxQueue: 2), backend: CPUBackend())
        let request = EngineRequest(prompt: [1, 2], options: GenerationOptions(maxNewTokens: 3))
        let first = try engine.submit(request)
        _ = try engine.submit(request)
        XCTAssertThrowsError(try engine.submit(request)) { XCTAssertEqual($0 as? EngineError, .queueFull(limit: 2)) }
        XCTAssertThrowsError(try engine.submit(EngineRequest(prompt: [], options: GenerationOptions()))) {
            XCTAssertEqual($0 as? EngineError, .emptyPrompt)
        }
        await engine.shutdown(grace: .milliseconds(10))   // never started: what waits is cancelled
        let outcome = await Self.collect(first)
        XCTAssertEqual(outcome.finish, .cancelled)
        XCTAssertThrowsError(try engine.submit(request)) { XCTAssertEqual($0 as? EngineError, .shuttingDown) }
    }

    /// A consumer that stops listening frees its slot: with one slot, the next request runs at once instead of after
    /// the first one's 3,000 tokens; shutdown with a short grace cancels a running request.
    func testDroppedStreamFreesItsSlot() async throws {
        let model = try ServeFixtures.served(ServeFixtures.slowChatFolder()).chat.model
        let engine = InferenceEngine(model: model, configuration: EngineConfiguration(maxBatch: 1), backend: CPUBackend())
        engine.start()
        let long = EngineRequest(prompt: [1, 2, 3], options: GenerationOptions(maxNewTokens: 3000))
        do {
            let stream = try engine.submit(long)
            for await event in stream { if case .token = event { break } }
        }
        let second = await Self.collect(try engine.submit(EngineRequest(prompt: [4, 5], options: GenerationOptions(maxNewTokens: 4))))
        XCTAssertEqual(second.tokens.count, 4)
        XCTAssertEqual(engine.snapshot.cancelled, 1)

        let running = try engine.submit(long)
        var iterator = running.makeAsyncIterator()
        _ = await iterator.next()
        await engine.shutdown(grace: .milliseconds(50))
        var last: EngineEvent?
        for _ in 0..<3001 {
            guard let event = await iterator.next() else { break }
            last = event
        }
        guard case .finished(let reason) = last else { return XCTFail("no finish event") }
        XCTAssertEqual(reason, .cancelled)
    }
}
