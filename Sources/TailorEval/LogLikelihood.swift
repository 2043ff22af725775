// Log-likelihood of a continuation given a context, as lm-evaluation-harness computes it for loglikelihood requests:
// the model reads context + continuation[..<last], and each continuation token is scored by the log-softmax of the
// logits one position earlier. Requests run in right-padded batches (padding is masked by segment -1).
import Foundation
import TailorModels
import TailorTensor

/// A context and the continuation whose probability is wanted, as token ids.
public struct ContinuationRequest: Sendable, Equatable {
    /// Conditioning tokens (at least one).
    public var context: [Int32]
    /// Scored tokens (at least one).
    public var continuation: [Int32]

    public init(context: [Int32], continuation: [Int32]) {
        self.context = context
        self.continuation = continuation
    }
}

/// The score of one request.
public struct ContinuationScore: Sendable, Equatable, Codable {
    /// Σ log p(continuation token | everything before it), natural log.
    public var logLikelihood: Double
    /// Whether every continuation token is the argmax (lm-evaluation-harness's `is_greedy`).
    public var isGreedy: Bool
    /// Number of continuation tokens.
    public var tokenCount: Int
}

/// Scores continuations with a decoder.
public enum LogLikelihood {
    /// Scores `requests`, batching up to `maxBatchTokens` padded tokens per forward pass.
    /// - Throws: ``EvalError/invalidRequest(_:)`` for an empty context or continuation, or a token id outside the
    ///   vocabulary.
    public static func score(_ requests: [ContinuationRequest], model: LlamaModel, backend: any Backend,
                             maxBatchTokens: Int = 2048) throws -> [ContinuationScore] {
        let vocab = model.configuration.vocabSize
        for (i, r) in requests.enumerated() {
            guard !r.context.isEmpty, !r.continuation.isEmpty else {
                throw EvalError.invalidRequest("request \(i): context and continuation must both have tokens (context \(r.context.count), continuation \(r.continuation.count))")
            }
            if let bad = (r.context + r.continuation).first(where: { $0 < 0 || Int($0) >= vocab }) {
                throw EvalError.invalidRequest("request \(i): token \(bad) is outside the vocabulary (0..<\(vocab))")
            }
            let context = model.configuration.contextLength
            guard r.context.count + r.continuation.count <= context else {
                throw EvalError.invalidRequest("request \(i): \(r.context.count + r.continuation.count) tokens, more than the model's context of \(context)")
            }
        }
        // Longest first so that each batch pads little (lm-evaluation-harness sorts the same way).
        let order = requests.indices.sorted { inputLength(requests[$0]) > inputLength(requests[$1]) }
        var scores = [ContinuationScore?](repeating: nil, count: requests.count)
        var start = 0
        while start < order.count {
            let width = inputLength(requests[order[start]])
            let rows = max(1, min(order.count - start, maxBatchTokens / max(width, 1)))
            let batch = Array(order[start..<(start + rows)])
            let batchScores = scoreBatch(batch.map { requests[$0] }, width: width, model: model, backend: backend)
            for (index, score) in zip(batch, batchScores) { scores[index] = score }
            start += rows
        }
        return scores.compactMap { $0 }
    }

    /// Tokens the model reads for a request: context + continuation without its last token.
    static func inputLength(_ r: ContinuationRequest) -> Int { r.context.count + r.continuation.count - 1 }

    /// One right-padded forward pass: rows `[B, width]`, padding has segment -1 and token 0.
    static func scoreBatch(_ requests: [ContinuationRequest], width: Int, model: LlamaModel,
                           backend: any Backend) -> [ContinuationScore] {
        let b = requests.count, v = model.configuration.vocabSize
        var tokens = [Int32](repeating: 0, count: b * width)
        var segments = [Int32](repeating: -1, count: b * width)
        for (row, r) in requests.enumerated() {
            let input = r.context + r.continuation.dropLast()
            for (t, id) in input.enumerated() {
                tokens[row * width + t] = id
                segments[row * width + t] = 0
            }
        }
        let logits = model.forward(tokens: tokens, batch: b, segments: b > 1 ? segments : nil, backend: backend) // (B·width, V)
        return logits.withUnsafeFloats { l in
            requests.enumerated().map { row, r in
                var total = 0.0, greedy = true
                for (k, target) in r.continuation.enumerated() {
                    // Continuation token k is predicted at input position context.count - 1 + k.
                    let base = (row * width + r.context.count - 1 + k) * v
                    let logits = UnsafeBufferPointer(rebasing: l[base..<(base + v)])
                    total += logProbability(of: Int(target), logits: logits)
                    var best = 0
                    for j in 1..<v where logits[j] > logits[best] { best = j }
                    if best != Int(target) { greedy = false }
                }
                return ContinuationScore(logLikelihood: total, isGreedy: greedy, tokenCount: r.continuation.count)
            }
        }
    }

    /// log softmax(logits)[target], accumulated in f64: logits[target] − max − log Σ exp(logits − max).
    static func logProbability(of target: Int, logits: UnsafeBufferPointer<Float>) -> Double {
        var maxValue = -Float.infinity
        for x in logits { maxValue = max(maxValue, x) }
        var sum = 0.0
        for x in logits { sum += Foundation.exp(Double(x - maxValue)) }
        return Double(logits[target] - maxValue) - Foundation.log(sum)
    }
}
