// The evaluation report as a page in the shared report style: the metric table, a bar chart per unit (base vs
// tuned when compared) and the wrong answers with their per-example score. No scripts, no external files.
import Foundation
import TailorText
import TailorMetrics
import TailorReport

extension EvalReport {
    /// The whole page.
    public func renderHTML() -> String {
        var page = ReportPage(title: "Evaluation: \(task.rawValue)")
        page.facts([("model", model)] + (adapter.map { [("adapter", $0)] } ?? [])
            + [("data", data), ("examples", ReportFormat.integer(runs.first?.count ?? 0))])
        page.heading("Metrics")
        page.html(metricTable())
        page.charts(barCharts())
        if let forgetting {
            page.html("<p class=\"note \(forgetting.flagged ? "bad" : "good")\">\(HTMLText.escaped(forgetting.verdict))</p>")
        }
        page.html(examplesTable())
        let notes = Set(runs.flatMap(\.notes)).sorted()
        if !notes.isEmpty {
            page.heading("How it was measured")
            page.html("<ul>" + notes.map { "<li>\(HTMLText.escaped($0))</li>" }.joined() + "</ul>")
        }
        return page.render()
    }

    func metricTable() -> String {
        var table = ReportTable(["metric"] + runs.map(\.label) + (deltas.isEmpty ? [] : ["Δ"]) + ["unit"])
        for score in runs[0].scores {
            var row: [ReportCell] = [.text(score.name)]
            for run in runs { row.append(.number(run.value(score.name).map { Self.format($0, unit: score.unit) } ?? "–")) }
            if !deltas.isEmpty {
                if let d = deltas.first(where: { $0.name == score.name }) {
                    row.append(.change(Self.format(d.delta, unit: d.unit, signed: true), better: d.delta == 0 ? nil : d.improved))
                } else {
                    row.append(.text(""))
                }
            }
            row.append(.text(Self.displayUnit(score.unit)))
            table.add(row)
        }
        return table.render()
    }

    /// One chart for the percentage metrics (fractions shown as %), one for losses; counts are left out.
    func barCharts() -> [String] {
        let groups: [(title: String, axis: String, units: Set<String>, scale: Double)] = [
            ("Scores", "score (%)", ["fraction", "percent"], 0),
            ("Losses", "loss (nats/token)", ["nats"], 1),
        ]
        return groups.map { group in
            let charted = runs[0].scores.filter { group.units.contains($0.unit) }
            guard !charted.isEmpty else { return "" }
            return BarChart(
                title: group.title, xTitle: "metric", yTitle: group.axis, categories: charted.map(\.name),
                series: runs.map { run in
                    (run.label, charted.map { s in run.value(s.name).map { s.unit == "fraction" ? $0 * 100 : $0 } })
                },
                format: { group.scale == 0 ? ReportFormat.decimal($0, 1) : ReportFormat.decimal($0, 3) }).svg()
        }
    }

    func examplesTable() -> String {
        var html = ""
        let scoreLabel = Self.exampleScore(task).map { "\($0.name) (\($0.unit))" }
        for run in runs where !run.examples.isEmpty {
            html += "<h2>\(task == .loss ? "Highest-loss texts" : "Wrong answers") — \(HTMLText.escaped(run.label)) (first \(run.examples.count))</h2>\n"
            let hasReasons = run.examples.contains { $0.note != nil && $0.note != Self.exampleNoteIsLabel(task) }
            var header = ["line", "prompt"]
            if task != .loss { header += ["expected", "got"] }
            if let scoreLabel { header.append(scoreLabel) }
            if hasReasons { header.append("why") }
            var table = ReportTable(header)
            for e in run.examples {
                var row: [ReportCell] = [.number(String(e.line)), .html("<pre>\(HTMLText.escaped(e.prompt))</pre>")]
                if task != .loss {
                    row += [.html("<pre>\(HTMLText.escaped(e.references.joined(separator: " | ")))</pre>"),
                            .html("<pre>\(HTMLText.escaped(e.prediction))</pre>")]
                }
                if scoreLabel != nil { row.append(.number(e.score.map { ReportFormat.decimal($0, 3) } ?? "–")) }
                if hasReasons { row.append(.text(e.note ?? "")) }
                table.add(row)
            }
            html += table.render() + "\n"
        }
        return html
    }

    /// What the per-example score of a task is and its unit, for the examples' column and the terminal.
    static func exampleScore(_ task: EvalTask) -> (name: String, unit: String)? {
        switch task {
        case .qa: return ("token F1", "0–1")
        case .generation: return ("ROUGE-L F", "0–1")
        case .json: return ("field accuracy", "0–1")
        case .multipleChoice: return ("log-likelihood margin of the wrong choice", "nats")
        case .loss: return ("mean NLL", "nats/token")
        case .classification: return nil
        }
    }

    /// The note that merely restates the score's meaning (not a reason), per task.
    static func exampleNoteIsLabel(_ task: EvalTask) -> String? {
        switch task {
        case .multipleChoice: return "log-likelihood margin of the wrong choice"
        case .loss: return "mean NLL"
        default: return nil
        }
    }

    /// Units as a reader sees them next to the formatted values.
    static func displayUnit(_ unit: String) -> String {
        switch unit {
        case "fraction", "percent": return "%"
        case "nats": return "nats/token"
        case "ratio": return "×"
        case "count": return ""
        default: return unit
        }
    }
}
