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
        var cache: KVCache? = KVCache(configuration: configuration, batch: 1, capacity: prompt.count + budget)
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

    public init(options: GenerationOptions) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
    }

    /// Greedy picks the first maximum (as torch.argmax does); sampling draws from the filtered softmax.
    public mutating func pick(from logits: UnsafeBufferPointer<Float>) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var candidates = (0..<logits.count).map { (id: $0, logit: logits[$0] / options.temperature) }
        candidates.sort { $0.logit > $1.logit }
        if options.topK > 0 && options.topK < candidates.count { candidates.removeLast(candidates.count - options.topK) }
        let maxLogit = candidates[0].logit
        var probabilities = candidates.map { Double(Foundation.exp($0.logit - maxLogit)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if options.topP < 1 {
            var cumulative = 0.0, keep = 0
            while keep < probabilities.count { cumulative += probabilities[keep]; keep += 1; if cumulative >= Double(options.topP) { break } }
            probabilities.removeLast(probabilities.count - keep)
            let kept = probabilities.reduce(0, +)
            probabilities = probabilities.map { $0 / kept }
        }
        var draw = Double(rng.next() >> 11) / Double(1 << 53)
        for (i, p) in probabilities.enumerated() {
            draw -= p
            if draw < 0 { return Int32(candidates[i].id) }
        }
        return Int32(candidates[probabilities.count - 1].id)
    }
}
