// A standalone HTML page for an evaluation report: the metric table, an inline SVG bar chart (base vs tuned when
// compared) and the wrong answers. No scripts, no external files.
import Foundation
import TailorMetrics

extension EvalReport {
    /// The whole page.
    public func renderHTML() -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>tailor eval: \(Self.escape(task.rawValue))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
        td:first-child,th:first-child{text-align:left}.up{color:#1a7f37}.down{color:#c62828}
        .flag{background:#ffebee;border:1px solid #c62828;padding:.5em}.ok{background:#e8f5e9;border:1px solid #1a7f37;padding:.5em}
        pre{white-space:pre-wrap;margin:0}.ex td{text-align:left;vertical-align:top}
        </style></head><body>
        <h1>tailor eval — \(Self.escape(task.rawValue))</h1>
        <p>model <code>\(Self.escape(model))</code>\(adapter.map { ", adapter <code>\(Self.escape($0))</code>" } ?? ""),
        data <code>\(Self.escape(data))</code>, \(runs.first?.count ?? 0) examples.</p>

        """
        html += metricTable() + barChart()
        if let forgetting {
            html += "<p class=\"\(forgetting.flagged ? "flag" : "ok")\">\(Self.escape(forgetting.verdict))</p>\n"
        }
        html += examplesTable()
        let notes = Set(runs.flatMap(\.notes)).sorted()
        if !notes.isEmpty { html += "<ul>" + notes.map { "<li>\(Self.escape($0))</li>" }.joined() + "</ul>\n" }
        return html + "</body></html>\n"
    }

    func metricTable() -> String {
        var rows = "<table><tr><th>metric</th>" + runs.map { "<th>\(Self.escape($0.label))</th>" }.joined()
            + (deltas.isEmpty ? "" : "<th>Δ</th>") + "<th>unit</th></tr>\n"
        for score in runs[0].scores {
            rows += "<tr><td>\(Self.escape(score.name))</td>"
            for run in runs { rows += "<td>\(run.value(score.name).map { Self.format($0, unit: score.unit) } ?? "-")</td>" }
            if !deltas.isEmpty {
                if let d = deltas.first(where: { $0.name == score.name }) {
                    rows += "<td class=\"\(d.improved ? "up" : (d.delta == 0 ? "" : "down"))\">\(Self.format(d.delta, unit: d.unit, signed: true))</td>"
                } else {
                    rows += "<td></td>"
                }
            }
            rows += "<td>\(Self.escape(score.unit))</td></tr>\n"
        }
        return rows + "</table>\n"
    }

    /// Horizontal bars for the metrics on a bounded scale (fractions and percents), one bar per run.
    func barChart() -> String {
        let charted = runs[0].scores.filter { $0.unit == "fraction" || $0.unit == "percent" }
        guard !charted.isEmpty else { return "" }
        let colors = ["#1565c0", "#9e9e9e"]
        let barHeight = 14, gap = 6, labelWidth = 160, plotWidth = 400
        let groupHeight = runs.count * barHeight + gap * 2
        let height = charted.count * groupHeight + 30
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + plotWidth + 80)\" height=\"\(height)\" role=\"img\" aria-label=\"metrics chart\">\n"
        for (g, score) in charted.enumerated() {
            let top = g * groupHeight + gap
            svg += "<text x=\"0\" y=\"\(top + barHeight)\" font-size=\"12\">\(Self.escape(score.name))</text>\n"
            for (r, run) in runs.enumerated() {
                let value = run.value(score.name) ?? 0
                let share = max(0, min(1, score.unit == "percent" ? value / 100 : value))
                let y = top + r * barHeight
                let width = Int((share * Double(plotWidth)).rounded())
                svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(width)\" height=\"\(barHeight - 2)\" fill=\"\(colors[r % 2])\"><title>\(Self.escape(run.label)): \(Self.format(value, unit: score.unit))</title></rect>"
                svg += "<text x=\"\(labelWidth + width + 4)\" y=\"\(y + barHeight - 3)\" font-size=\"11\">\(Self.format(value, unit: score.unit))</text>\n"
            }
        }
        let legendY = charted.count * groupHeight + 20
        for (r, run) in runs.enumerated() {
            svg += "<rect x=\"\(labelWidth + r * 90)\" y=\"\(legendY - 10)\" width=\"10\" height=\"10\" fill=\"\(colors[r % 2])\"/>"
            svg += "<text x=\"\(labelWidth + r * 90 + 14)\" y=\"\(legendY)\" font-size=\"12\">\(Self.escape(run.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    func examplesTable() -> String {
        var html = ""
        for run in runs where !run.examples.isEmpty {
            html += "<h2>\(task == .loss ? "Highest-loss texts" : "Wrong answers") — \(Self.escape(run.label)) (first \(run.examples.count))</h2>\n"
            html += "<table class=\"ex\"><tr><th>line</th><th>prompt</th><th>expected</th><th>got</th><th>note</th></tr>\n"
            for e in run.examples {
                let note = [e.score.map { String(format: "%.4f", $0) }, e.note].compactMap { $0 }.joined(separator: " ")
                html += "<tr><td>\(e.line)</td><td><pre>\(Self.escape(e.prompt))</pre></td>"
                    + "<td><pre>\(Self.escape(e.references.joined(separator: " | ")))</pre></td>"
                    + "<td><pre>\(Self.escape(e.prediction))</pre></td><td>\(Self.escape(note))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
