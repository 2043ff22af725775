// The result of scoring a predictions file: Codable for `--json`, and a plain-text table for the terminal.

import Foundation

/// The metrics `tailor eval score` can compute.
public enum EvalMetric: String, CaseIterable, Codable, Sendable {
    /// Classification accuracy (with the full classification report).
    case accuracy
    /// Classification F1: macro, micro and weighted, plus per-class precision/recall/F1.
    case f1
    /// Extractive QA: SQuAD v1.1 exact match and token F1 (× 100), max over references.
    case em
    /// ROUGE-1/2/L/Lsum F-measure, precision and recall, mean over examples (rouge-score).
    case rouge
    /// Corpus BLEU (sacrebleu defaults).
    case bleu
    /// Corpus chrF (sacrebleu defaults).
    case chrf
    /// Structured output: JSON parse rates, schema validity, field accuracy.
    case json
}

/// One named number in a report.
public struct MetricScore: Codable, Equatable, Sendable {
    /// Machine-friendly name, e.g. "rouge1_f", "bleu", "macro_f1".
    public var name: String
    public var value: Double
    /// "fraction" (0...1), "percent" (0...100), "count", "ratio" or "nats".
    public var unit: String

    public init(name: String, value: Double, unit: String) {
        self.name = name
        self.value = value
        self.unit = unit
    }
}

/// Scores of one metric over a predictions file.
public struct MetricReport: Codable, Equatable, Sendable {
    public var metric: EvalMetric
    public var predictionsPath: String
    public var referencesPath: String
    public var schemaPath: String?
    /// Number of examples scored.
    public var count: Int
    /// The numbers, in display order.
    public var scores: [MetricScore]
    /// Per-class rows for accuracy and f1.
    public var perClass: [ClassScores]?
    /// Examples that failed (JSON metric), at most 20.
    public var failures: [String]?
    /// Remarks such as an option that changed the computation.
    public var notes: [String]

    /// The value of a named score, or nil.
    public func value(_ name: String) -> Double? { scores.first { $0.name == name }?.value }

    /// A plain-text rendering: a header, a name/value table, then per-class rows, failures and notes.
    public func renderTable() -> String {
        var lines = ["metric: \(metric.rawValue)    examples: \(count)",
                     "predictions: \(predictionsPath)", "references:  \(referencesPath)"]
        if let schemaPath { lines.append("schema:      \(schemaPath)") }
        lines.append("")
        let width = max(24, (scores.map(\.name.count).max() ?? 0) + 2)
        lines.append(pad("name", width) + pad("value", 14) + "unit")
        lines.append(String(repeating: "-", count: width + 14 + 8))
        for s in scores { lines.append(pad(s.name, width) + pad(Self.format(s), 14) + s.unit) }
        if let perClass, !perClass.isEmpty {
            let lw = max(10, (perClass.map(\.label.count).max() ?? 0) + 2)
            lines.append("")
            lines.append(pad("label", lw) + pad("precision", 12) + pad("recall", 12) + pad("f1", 12) + "support")
            lines.append(String(repeating: "-", count: lw + 36 + 7))
            for c in perClass {
                lines.append(pad(c.label, lw) + pad(Self.fixed(c.precision), 12) + pad(Self.fixed(c.recall), 12)
                             + pad(Self.fixed(c.f1), 12) + String(c.support))
            }
        }
        if let failures, !failures.isEmpty {
            lines.append("")
            lines.append("failures (first \(failures.count)):")
            lines.append(contentsOf: failures.map { "  " + $0 })
        }
        if !notes.isEmpty {
            lines.append("")
            lines.append(contentsOf: notes.map { "note: " + $0 })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    static func format(_ s: MetricScore) -> String {
        s.unit == "count" ? String(Int(s.value)) : fixed(s.value)
    }

    static func fixed(_ x: Double) -> String {
        x.isNaN ? "nan" : String(format: "%.4f", x)
    }
}
