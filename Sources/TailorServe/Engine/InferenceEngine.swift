// The scheduler of `tailor serve`: a bounded queue and a running batch that requests join and leave between steps.
// Each step runs every running request once: one token for a decoding request, a chunk of the prompt for a new one
// (at most `prefillChunk` prompt tokens per step in all, so running requests keep streaming while a long prompt is
// read). Rows keep their own KV cache and adapter, so nothing is re-batched when traffic mixes adapters.
import Foundation
import Synchronization
import TailorFormats
import TailorModels
import TailorTensor

/// Limits of the scheduler.
public struct EngineConfiguration: Sendable, Equatable {
    /// Requests decoded together (slots of the running batch).
    public var maxBatch: Int
    /// Requests waiting for a slot before new ones are refused.
    public var maxQueue: Int
    /// Prompt tokens read per step, over all new requests.
    public var prefillChunk: Int

    public init(maxBatch: Int = 16, maxQueue: Int = 256, prefillChunk: Int = 256) {
        self.maxBatch = max(1, maxBatch)
        self.maxQueue = max(0, maxQueue)
        self.prefillChunk = max(1, prefillChunk)
    }
}

/// What the scheduler is doing, for /metrics and /health.
public struct EngineSnapshot: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    public var steps: Int
    /// Requests ended early because their client went away (or at shutdown).
    public var cancelled: Int
}

/// Runs requests with continuous batching on a thread of its own.
public final class InferenceEngine: Sendable {
    public let model: LlamaModel
    public let configuration: EngineConfiguration
    let backend: any Backend
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    struct State {
        var queue: [PendingRequest] = []
        var accepting = true
        var stopRequested = false
        var stopped = false
        var snapshot = EngineSnapshot(queued: 0, running: 0, steps: 0, cancelled: 0)
        var started = false
    }

    public init(model: LlamaModel, configuration: EngineConfiguration, backend: any Backend) {
        self.model = model
        self.configuration = configuration
        self.backend = backend
    }

    /// Starts the scheduling thread.
    public func start() {
        let first = state.withLock { s in defer { s.started = true }; return !s.started }
        guard first else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "tailor-engine"
        thread.start()
    }

    /// Queues `request`; its events arrive on the returned stream, which ends after `.finished`. Ending the stream
    /// early (the client went away) frees the request's slot at the next step.
    public func submit(_ request: EngineRequest) throws -> AsyncStream<EngineEvent> {
        guard !request.prompt.isEmpty else { throw EngineError.emptyPrompt }
        guard request.adapters.count <= 1 || !request.adapters.contains(where: { $0.adapter.configuration.useDoRA }) else {
            throw EngineError.doraCombined
        }
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self, bufferingPolicy: .unbounded)
        let pending = PendingRequest(request: request, continuation: continuation)
        continuation.onTermination = { _ in pending.cancel() }
        try state.withLock { s in
            guard s.accepting else { throw EngineError.shuttingDown }
            guard s.queue.count < configuration.maxQueue else { throw EngineError.queueFull(limit: configuration.maxQueue) }
            s.queue.append(pending)
            s.snapshot.queued = s.queue.count
        }
        wake.signal()
        return stream
    }

    public var snapshot: EngineSnapshot { state.withLock { $0.snapshot } }

    /// Stops accepting requests, lets queued and running ones finish for at most `grace`, cancels what is left and
    /// stops the thread.
    public func shutdown(grace: Duration) async {
        state.withLock { $0.accepting = false }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            let idle = state.withLock { $0.snapshot.queued == 0 && $0.snapshot.running == 0 }
            if idle { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let started = state.withLock { s in s.stopRequested = true; return s.started }
        wake.signal()
        guard started else {
            let waiting = state.withLock { s in defer { s.queue = []; s.snapshot.queued = 0 }; return s.queue }
            for pending in waiting { pending.finish(.cancelled) }
            return
        }
        // The thread stops after its current step.
        for _ in 0..<3000 where !state.withLock({ $0.stopped }) { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// A request in the running batch.
    struct Slot {
        let pending: PendingRequest
        var cache: KVCache?
        var sampler: TokenSampler
        var prefilled = 0
        var produced = 0
        var last: Int32 = 0

        init(_ pending: PendingRequest, model: LlamaModel) {
            let r = pending.request
            self.pending = pending
            cache = model.emptyCache(batch: 1, capacity: r.prompt.count + r.options.maxNewTokens)
            sampler = TokenSampler(options: r.options)
        }
    }

    private func loop() {
        var slots: [Slot] = []
        while true {
            let (admitted, stop) = state.withLock { s in
                let n = min(s.queue.count, configuration.maxBatch - slots.count)
                let taken = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                s.snapshot.queued = s.queue.count
                return (taken, s.stopRequested)
            }
            slots += admitted.map { Slot($0, model: model) }
            if stop {
                let waiting = state.withLock { s in defer { s.queue = [] }; return s.queue }
                for pending in slots.map(\.pending) + waiting { pending.finish(.cancelled) }
                state.withLock { s in
                    s.stopped = true
                    s.snapshot.cancelled += slots.count + waiting.count
                    s.snapshot.running = 0
                    s.snapshot.queued = 0
                }
                return
            }
            let before = slots.count
            slots.removeAll { slot in
                guard slot.pending.isCancelled else { return false }
                slot.pending.finish(.cancelled)
                return true
            }
            state.withLock { $0.snapshot.running = slots.count; $0.snapshot.cancelled += before - slots.count }
            guard !slots.isEmpty else {
                wake.wait()
                continue
            }
            step(&slots)
            state.withLock { $0.snapshot.steps += 1; $0.snapshot.running = slots.count }
        }
    }

    /// One forward over the running batch, then one sampled token for every row whose prompt is fully read.
    private func step(_ slots: inout [Slot]) {
        var budget = configuration.prefillChunk
        var chosen: [Int] = [], rows: [BatchStepRow] = [], caches: [KVCache] = []
        for i in slots.indices {
            let r = slots[i].pending.request
            let tokens: [Int32]
            if slots[i].prefilled < r.prompt.count {
                guard budget > 0 else { continue }
                let n = min(budget, r.prompt.count - slots[i].prefilled)
                tokens = Array(r.prompt[slots[i].prefilled..<(slots[i].prefilled + n)])
                budget -= n
            } else {
                tokens = [slots[i].last]
            }
            guard let cache = slots[i].cache.take() else { continue }   // moved out: appending must not copy it
            chosen.append(i)
            rows.append(BatchStepRow(tokens: tokens, adapters: r.adapters))
            caches.append(cache)
        }
        guard !rows.isEmpty else { return }
        let logits = model.forwardStep(rows: rows, caches: &caches, backend: backend)
        let v = model.configuration.vocabSize
        var finished: [Int] = []
        logits.withUnsafeFloats { l in
            for (row, i) in chosen.enumerated() {
                slots[i].cache = caches[row]
                let r = slots[i].pending.request
                let wasPrefill = slots[i].prefilled < r.prompt.count
                if wasPrefill {
                    slots[i].prefilled += rows[row].tokens.count
                    if slots[i].prefilled < r.prompt.count { continue }
                }
                let scores = UnsafeBufferPointer(rebasing: l[(row * v)..<((row + 1) * v)])
                let id = slots[i].sampler.pick(from: scores)
                let isStop = r.options.stopTokens.contains(id)
                var token = GeneratedToken(id: id, isStop: isStop, logprob: nil, top: [])
                if let top = r.topLogprobs { (token.logprob, token.top) = Self.logprobs(scores, chosen: id, top: top) }
                slots[i].produced += 1
                slots[i].last = id
                slots[i].pending.continuation.yield(.token(token))
                if isStop || slots[i].produced >= r.options.maxNewTokens {
                    slots[i].pending.finish(isStop ? .stop : .length)
                    finished.append(i)
                }
            }
        }
        for i in finished.reversed() { slots.remove(at: i) }
    }

    /// log softmax of `scores` at `chosen`, and the `top` best tokens with theirs.
    static func logprobs(_ scores: UnsafeBufferPointer<Float>, chosen: Int32, top: Int) -> (Float, [(id: Int32, logprob: Float)]) {
        var maxScore = -Float.infinity
        for s in scores { maxScore = max(maxScore, s) }
        var sum = 0.0
        for s in scores { sum += Double(Foundation.exp(s - maxScore)) }
        let logZ = maxScore + Float(Foundation.log(sum))
        var best: [(id: Int32, logprob: Float)] = []
        if top > 0 {
            for (i, s) in scores.enumerated() where best.count < top || s - logZ > best[best.count - 1].logprob {
                best.append((Int32(i), s - logZ))
                best.sort { $0.logprob > $1.logprob }
                if best.count > top { best.removeLast() }
            }
        }
        return (scores[Int(chosen)] - logZ, best)
    }
}
