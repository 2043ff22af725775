// The self-check of every merge and export: the exported model, read back through Tailor's own readers, against
// base + adapter: max logit difference and top-1 agreement on a few random token sequences, perplexity on a short
// built-in English paragraph through the model's tokenizer.
// Legend: T tokens of one sequence, V vocab.
import Foundation
import TailorKernels
import TailorModels
import TailorTensor

/// What the self-check measured.
public struct ExportCheckReport: Sendable, Codable, Equatable {
    /// Pseudo-random token sequences compared position by position.
    public var sequences: Int
    /// Positions compared (every token of every sequence, the text's included).
    public var positions: Int
    /// max |logit_exported − logit_reference| over all positions and the vocabulary.
    public var maxLogitDifference: Float
    /// max |logit_reference|: the scale the difference is judged against.
    public var maxReferenceLogit: Float
    /// Fraction of positions whose arg-max token agrees.
    public var topOneAgreement: Double
    /// Tokens of the built-in English paragraph (nil when the model has no tokenizer; then no perplexity).
    public var textTokens: Int?
    /// Perplexity of the reference (base + adapter) and of the export on the paragraph's next tokens.
    public var referencePerplexity: Double?
    public var exportedPerplexity: Double?

    public var perplexityDelta: Double? {
        guard let r = referencePerplexity, let e = exportedPerplexity else { return nil }
        return e - r
    }

    /// One line for the CLI: "perplexity 12.31 → 12.33 (+0.2%)" on real text, agreement on random tokens.
    public var summary: String {
        var line = String(format: "check: top-1 agreement %.1f%% over %d positions, max |Δlogit| %.3g (logits up to %.3g)",
                          topOneAgreement * 100, positions, Double(maxLogitDifference), Double(maxReferenceLogit))
        if let r = referencePerplexity, let e = exportedPerplexity, let n = textTokens {
            line += String(format: "; perplexity %.2f → %.2f (%+.1f%%) on a built-in English paragraph (%d tokens)",
                           r, e, (e - r) / r * 100, n)
        } else {
            line += "; no tokenizer, so no perplexity on text"
        }
        return line
    }
}

/// Comparing two models on the same tokens.
public enum ExportCheck {
    /// A short plain English paragraph: the perplexity of an exported model on it reads like a language model's
    /// (tens), where random tokens give numbers in the millions that look like a broken model.
    public static let referenceText = """
        The library opens at nine in the morning and closes at six in the evening. On weekdays, students come to \
        read, borrow books and use the computers. Last year the town added a small garden behind the building, \
        where people can sit in the sun and talk quietly. Most visitors say it is the best place in town to spend \
        an afternoon.
        """

    /// `count` reproducible pseudo-random sequences of `length` ids below `vocabSize`, for top-1 agreement and the
    /// logit difference over the whole vocabulary.
    public static func probeSequences(vocabSize: Int, count: Int = 3, length: Int = 16, seed: UInt64 = 0x7A11_0E5) -> [[Int32]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<length).map { _ in Int32(rng.next() % UInt64(max(vocabSize, 1))) } }
    }

    /// Runs both models on every probe sequence and on `text` (the paragraph's tokens, when there is a tokenizer)
    /// and compares their logits; the perplexities are measured on `text` only.
    public static func compare(reference: LlamaModel, exported: LlamaModel, sequences: [[Int32]], text: [Int32]? = nil,
                               backend: any Backend = CPUBackend()) -> ExportCheckReport {
        var maxDiff: Float = 0, maxRef: Float = 0, agree = 0, positions = 0
        var nllRef = 0.0, nllExp = 0.0, predicted = 0
        let all = sequences.map { ($0, false) } + (text.map { [($0, true)] } ?? [])
        for (tokens, isText) in all where !tokens.isEmpty {
            let a = reference.forward(tokens: tokens, batch: 1, backend: backend).converted(to: .f32).floats()
            let b = exported.forward(tokens: tokens, batch: 1, backend: backend).converted(to: .f32).floats()
            let v = a.count / tokens.count
            for t in 0..<tokens.count {
                let ra = a[(t * v)..<((t + 1) * v)], rb = b[(t * v)..<((t + 1) * v)]
                for (x, y) in zip(ra, rb) {
                    maxDiff = max(maxDiff, abs(x - y).isNaN ? .infinity : abs(x - y))
                    maxRef = max(maxRef, abs(x))
                }
                if argmax(ra) == argmax(rb) { agree += 1 }
                positions += 1
                if isText, t + 1 < tokens.count {
                    let next = Int(tokens[t + 1])
                    nllRef += negativeLogLikelihood(ra, next)
                    nllExp += negativeLogLikelihood(rb, next)
                    predicted += 1
                }
            }
        }
        let n = Double(max(predicted, 1))
        let measured = predicted > 0
        return ExportCheckReport(sequences: sequences.count, positions: positions, maxLogitDifference: maxDiff, maxReferenceLogit: maxRef,
                                 topOneAgreement: positions == 0 ? 1 : Double(agree) / Double(positions),
                                 textTokens: measured ? text?.count : nil,
                                 referencePerplexity: measured ? exp(nllRef / n) : nil,
                                 exportedPerplexity: measured ? exp(nllExp / n) : nil)
    }

    static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }

    /// −log softmax(row)[target], in f64.
    static func negativeLogLikelihood(_ row: ArraySlice<Float>, _ target: Int) -> Double {
        let m = Double(row.max() ?? 0)
        let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
        return m + Foundation.log(sum) - Double(row[row.startIndex + target])
    }

    /// Tolerance on max |Δlogit| relative to max(1, max |reference logit|), beyond which the check fails: f32 only
    /// reorders sums; the others round every weight (f16: 11 significant bits, bf16: 8, Q8_0: ~1/254 of a 32-block's
    /// range; Q4_0: ~1/16, which can move logits by whole units, so it is reported but not enforced).
    public static func tolerance(_ precision: ExportPrecision) -> Float {
        switch precision {
        case .f32: 1e-4
        case .f16: 0.01
        case .bf16: 0.05
        case .q8_0: 0.1
        case .q4_0: .infinity
        }
    }

    /// Whether `report` is within the tolerance of `precision`.
    public static func passes(_ report: ExportCheckReport, precision: ExportPrecision) -> Bool {
        report.maxLogitDifference.isFinite && report.maxLogitDifference <= tolerance(precision) * max(1, report.maxReferenceLogit)
    }
}
