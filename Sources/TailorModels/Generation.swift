// Token generation with the KV cache: greedy, or sampling with temperature, top-k and top-p.
import Foundation
import TailorTensor

/// How to pick the next tokens.
public struct GenerationOptions: Sendable, Equatable {
    /// Most tokens to produce after the prompt.
    public var maxNewTokens: Int
    /// 0 means greedy (argmax); otherwise logits are divided by it before sampling.
    public var temperature: Float
    /// Keep only the k most likely tokens (0 = all).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches p (1 = all).
    public var topP: Float
    /// Seed of the sampler's random stream.
    public var seed: UInt64
    /// Generation stops after producing one of these (EOS, end of turn).
    public var stopTokens: Set<Int32>

    public init(maxNewTokens: Int = 128, temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0,
                stopTokens: Set<Int32> = []) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.stopTokens = stopTokens
    }
}

extension LlamaModel {
    /// Continues `prompt` one token at a time, calling `onToken` with each new token (return false to stop).
    /// Returns the new tokens (including a final stop token when one was produced).
    public func generate(prompt: [Int32], options: GenerationOptions, backend: any Backend,
                         onToken: (Int32) -> Bool = { _ in true }) -> [Int32] {
        guard !prompt.isEmpty, options.maxNewTokens > 0 else { return [] }
        // Callers check `configuration.checkSequence` first; the cache never grows past the context regardless.
        let budget = min(options.maxNewTokens, max(1, configuration.contextLength - prompt.count))
        var cache: KVCache? = emptyCache(batch: 1, capacity: prompt.count + budget)
        var sampler = TokenSampler(options: options)
        var logits = lastPositionLogits(tokens: prompt, batch: 1, cache: &cache, backend: backend)
        var produced: [Int32] = []
        while produced.count < budget {
            let next = logits.withUnsafeFloats { sampler.pick(from: $0) }
            produced.append(next)
            if !onToken(next) || options.stopTokens.contains(next) || produced.count == budget { break }
            logits = forward(tokens: [next], batch: 1, cache: &cache, backend: backend)
        }
        return produced
    }
}

/// Picks a token from one row of logits according to `GenerationOptions`.
public struct TokenSampler: Sendable {
    let options: GenerationOptions
    var rng: SplitMix64
    /// How far below the best token (in scaled logits) the first sort reaches; see `CandidateOrder`.
    var window = CandidateOrder.defaultWindow

    public init(options: GenerationOptions) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
    }

    /// Greedy picks the first maximum (as torch.argmax does); sampling draws from the filtered softmax: the logits
    /// divided by the temperature, the `topK` largest kept, then the smallest most-likely set whose probability
    /// reaches `topP`, walked from the most likely token down (ties by id). A NaN logit counts as −∞.
    public mutating func pick(from logits: UnsafeBufferPointer<Float>) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var order = CandidateOrder(logits: logits, temperature: options.temperature, window: window)
        guard order.maxLogit.isFinite else { return Int32(order.scaled.firstIndex(of: order.maxLogit) ?? 0) }
        let limit = options.topK > 0 && options.topK < logits.count ? options.topK : logits.count
        // The normalising sum runs over the kept tokens; without top-k that is every token, in any order.
        var total = 0.0
        if limit == logits.count {
            for logit in order.scaled { total += order.weight(logit) }
        } else {
            order.sort(atLeast: limit)
            for i in 0..<limit { total += order.weight(at: i) }
        }
        var count = limit, kept = 1.0
        if options.topP < 1 {
            var cumulative = 0.0, keep = 0
            while keep < limit {
                order.sort(atLeast: keep + 1)
                cumulative += order.weight(at: keep) / total
                keep += 1
                if cumulative >= Double(options.topP) { break }
            }
            (count, kept) = (keep, cumulative)
        }
        var draw = Double(rng.next() >> 11) / Double(1 << 53)
        for i in 0..<count {
            order.sort(atLeast: i + 1)
            draw -= order.weight(at: i) / total / kept
            if draw < 0 { return Int32(order.sorted[i]) }
        }
        order.sort(atLeast: count)
        return Int32(order.sorted[count - 1])
    }
}

/// The tokens from the most likely down (scaled logit descending, ties by id), sorted only as far as a sampler
/// walks: first the tokens within a window of the best one (nearly always where a draw ends), the rest only when
/// a walk goes past them. A full sort of a 50,000-token vocabulary per token was a tenth of a sampled decode step.
struct CandidateOrder {
    /// Logits divided by the temperature, NaN as −∞.
    let scaled: [Float]
    let maxLogit: Float
    /// Token ids in order; its first `sorted.count` entries are final.
    private(set) var sorted: [Int]
    private var rest: [Int]
    /// Tokens more than this below the best (in scaled logits, a factor e⁻²⁰ in probability) are sorted on demand.
    static let defaultWindow: Float = 20

    init(logits: UnsafeBufferPointer<Float>, temperature: Float, window: Float) {
        var scaled = [Float](repeating: -.infinity, count: logits.count), best = -Float.infinity
        for i in 0..<logits.count where !logits[i].isNaN {
            scaled[i] = logits[i] / temperature
            best = max(best, scaled[i])
        }
        var near: [Int] = [], rest: [Int] = []
        rest.reserveCapacity(scaled.count)
        for i in 0..<scaled.count { if scaled[i] >= best - window { near.append(i) } else { rest.append(i) } }
        self.scaled = scaled
        maxLogit = best
        sorted = near.sorted { Self.precedes($0, $1, scaled) }
        self.rest = rest
    }

    static func precedes(_ a: Int, _ b: Int, _ scaled: [Float]) -> Bool {
        scaled[a] > scaled[b] || (scaled[a] == scaled[b] && a < b)
    }

    /// Makes at least `count` leading entries final (all of them once the near tokens run out).
    mutating func sort(atLeast count: Int) {
        guard count > sorted.count, !rest.isEmpty else { return }
        let scaled = self.scaled
        sorted += rest.sorted { Self.precedes($0, $1, scaled) }
        rest = []
    }

    /// exp(logit − max), the unnormalised probability.
    func weight(_ logit: Float) -> Double { Foundation.exp(Double(logit - maxLogit)) }
    func weight(at i: Int) -> Double { weight(scaled[sorted[i]]) }
}
