// Token-weighted negative log-likelihood and perplexity from per-example sums.

import Foundation

/// Corpus NLL and perplexity.
public struct LanguageModelingReport: Codable, Equatable, Sendable {
    /// Σ NLL / Σ tokens (nats per token).
    public var meanNLL: Double
    /// exp(meanNLL).
    public var perplexity: Double
    /// Σ tokens.
    public var tokenCount: Int
    /// Number of examples.
    public var exampleCount: Int
}

/// Language-modelling metrics.
public enum LanguageModelingMetrics {
    /// Token-weighted mean NLL and perplexity: each example contributes its summed NLL (nats) and its token count,
    /// so long examples weigh more than short ones (the mean over tokens, not over examples).
    /// - Throws: ``MetricsError/emptyInput(what:)`` when there are no tokens,
    ///   ``MetricsError/invalidField(path:line:field:reason:)`` for a negative count or a non-finite NLL.
    public static func compute(_ examples: [(sumNLL: Double, tokenCount: Int)]) throws -> LanguageModelingReport {
        var nll = 0.0
        var tokens = 0
        for (i, e) in examples.enumerated() {
            guard e.tokenCount >= 0, e.sumNLL.isFinite else {
                throw MetricsError.invalidField(path: "examples", line: i + 1, field: "sumNLL/tokenCount",
                                                reason: "needs a finite NLL and a token count >= 0")
            }
            nll += e.sumNLL
            tokens += e.tokenCount
        }
        guard tokens > 0 else { throw MetricsError.emptyInput(what: "language-modelling token count") }
        let mean = nll / Double(tokens)
        return LanguageModelingReport(meanNLL: mean, perplexity: exp(mean), tokenCount: tokens,
                                      exampleCount: examples.count)
    }
}
