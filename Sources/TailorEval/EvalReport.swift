// The evaluation report: one or two runs (base and tuned), their deltas, the forgetting verdict; text and JSON.
import Foundation
import TailorMetrics

/// One metric of the tuned run against the base run.
public struct MetricDelta: Sendable, Equatable, Codable {
    /// The metric's name, as in ``MetricScore``.
    public var name: String
    /// The metric's unit ("fraction", "percent", "nats", …).
    public var unit: String
    /// Value of the base run.
    public var base: Double
    /// Value of the tuned run.
    public var tuned: Double
    /// tuned − base, in the metric's unit.
    public var delta: Double
    /// Whether the change is an improvement (lower is better for losses and perplexity).
    public var improved: Bool
}

/// Everything `tailor eval` prints and saves.
public struct EvalReport: Sendable, Equatable, Codable {
    public var task: EvalTask
    /// Path of the data file.
    public var data: String
    /// Path of the model (the tuned one when compared).
    public var model: String
    /// Path of the adapter, when one was applied.
    public var adapter: String?
    /// The tuned run first, then the base run when compared.
    public var runs: [EvalRun]
    public var deltas: [MetricDelta]
    /// Multiple choice with a comparison: whether the tuned model lost general knowledge.
    public var forgetting: ForgettingCheck?

    /// Builds the report; `base` adds deltas (and the forgetting check for multiple choice).
    public init(task: EvalTask, data: String, model: String, adapter: String?, tuned: EvalRun, base: EvalRun? = nil,
                forgettingThreshold: Double = 5) {
        self.task = task
        self.data = data
        self.model = model
        self.adapter = adapter
        runs = [tuned] + (base.map { [$0] } ?? [])
        deltas = []
        forgetting = nil
        guard let base else { return }
        for score in tuned.scores where score.unit != "count" {
            guard let b = base.value(score.name) else { continue }
            let lowerIsBetter = ["mean_nll", "perplexity", "answer_loss"].contains(score.name)
            let delta = score.value - b
            deltas.append(MetricDelta(name: score.name, unit: score.unit, base: b, tuned: score.value, delta: delta,
                                      improved: lowerIsBetter ? delta < 0 : delta > 0))
        }
        if let t = tuned.multipleChoice, let b = base.multipleChoice {
            forgetting = ForgettingCheck(base: b, tuned: t, threshold: forgettingThreshold)
        }
    }

    /// The metric table (one column per run, then Δ), the forgetting verdict, and a few wrong examples.
    public func renderTable(examples: Int = 5) -> String {
        var lines = ["task: \(task.rawValue)    data: \(data)    examples: \(runs.first?.count ?? 0)",
                     "model: \(model)" + (adapter.map { "    adapter: \($0)" } ?? ""), ""]
        let header = ["metric"] + runs.map(\.label) + (deltas.isEmpty ? [] : ["Δ"]) + ["unit"]
        var rows = [header]
        for score in runs[0].scores {
            var row = [score.name]
            for run in runs { row.append(run.value(score.name).map { Self.format($0, unit: score.unit) } ?? "-") }
            if !deltas.isEmpty {
                row.append(deltas.first { $0.name == score.name }.map { Self.format($0.delta, unit: $0.unit, signed: true) } ?? "")
            }
            rows.append(row + [score.unit])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for (i, row) in rows.enumerated() {
            lines.append(row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 || c == row.count - 1 ? cell + pad : pad + cell
            }.joined(separator: "  "))
            if i == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if let forgetting { lines += ["", forgetting.verdict] }
        let shown = runs[0].examples.prefix(examples)
        if !shown.isEmpty {
            lines += ["", task == .loss ? "highest-loss texts (\(runs[0].label)):" : "wrong answers (\(runs[0].label), first \(shown.count)):"]
            for e in shown {
                lines.append("  line \(e.line): \(Self.clip(e.prompt))")
                if task != .loss {
                    lines.append("    expected: \(Self.clip(e.references.first ?? ""))")
                    let scored = e.score.flatMap { s in
                        Self.exampleScore(task).map { "\($0.name) \(String(format: "%.3f", s))\($0.unit.hasPrefix("nats") ? " " + $0.unit : "")" }
                    }
                    let reason = e.note == Self.exampleNoteIsLabel(task) ? nil : e.note
                    let detail = [scored, reason].compactMap { $0 }.joined(separator: "; ")
                    lines.append("    got:      \(Self.clip(e.prediction))" + (detail.isEmpty ? "" : "  (\(detail))"))
                } else if let s = e.score {
                    lines.append(String(format: "    mean NLL %.4f", s))
                }
            }
        }
        let notes = Set(runs.flatMap(\.notes)).sorted()
        if !notes.isEmpty { lines += [""] + notes.map { "note: " + $0 } }
        return lines.joined(separator: "\n")
    }

    /// Pretty, key-sorted JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes report.json and report.html into `directory` (created when missing); returns their URLs.
    @discardableResult
    public func write(to directory: URL) throws -> (json: URL, html: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = directory.appendingPathComponent("report.json"), html = directory.appendingPathComponent("report.html")
        try jsonData().write(to: json, options: .atomic)
        try Data(renderHTML().utf8).write(to: html, options: .atomic)
        return (json, html)
    }

    /// Fractions print as percentages with one decimal; other units with 4 decimals.
    static func format(_ value: Double, unit: String, signed: Bool = false) -> String {
        if value.isNaN { return "nan" }
        switch unit {
        case "fraction": return String(format: signed ? "%+.1f pt" : "%.1f%%", value * 100)
        case "percent": return String(format: signed ? "%+.2f" : "%.2f", value)
        case "count": return String(Int(value))
        default: return String(format: signed ? "%+.4f" : "%.4f", value)
        }
    }

    static func clip(_ text: String, _ limit: Int = 100) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "⏎")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}
