// The report as a terminal table (text bars, bracketed or ANSI-coloured trained spans) and as a standalone HTML
// page in the shared report style (length histogram, trained spans in colour).
import Foundation
import TailorText
import TailorReport

extension PrepareReport {
    /// A plain-text report. With `ansi`, trained text is shown in green; otherwise it is wrapped in [[ ]].
    public func renderText(ansi: Bool = false) -> String {
        var out: [String] = []
        out.append("Data: \(source) (\(container), format \(format)\(template.map { ", template \($0)" } ?? ""))")
        out.append("Rows read \(rowsRead), kept \(rowsKept), dropped \(rowsDropped)\(malformedSkipped > 0 ? ", malformed skipped \(malformedSkipped)" : "")")
        out.append("")
        var table: [[String]] = [["rule", "action", "count"]]
        for rule in rules where rule.enabled || rule.count > 0 { table.append([rule.rule, rule.action, String(rule.count)]) }
        table.append(["no-trained-tokens", "dropped", String(noTrainedTokens)])
        table.append(["truncated (max \(maxLength))", "modified", String(truncated)])
        out.append(Self.table(table))
        out.append("")
        out.append("Train: \(trainSamples) samples in \(trainRows) rows\(packed ? " (packed)" : "");  validation: \(validationSamples) samples in \(validationRows) rows")
        let total = trainedTokens + maskedTokens
        let share = total > 0 ? Double(trainedTokens) / Double(total) * 100 : 0
        out.append("Tokens: \(ReportFormat.integer(total)) total, \(ReportFormat.integer(trainedTokens)) trained (\(ReportFormat.decimal(share, 1))%), \(ReportFormat.integer(maskedTokens)) masked")
        out.append("Length: min \(lengthMin), mean \(ReportFormat.decimal(lengthMean, 1)), median \(lengthMedian), p95 \(lengthP95), max \(lengthMax)")
        out.append("")
        let peak = lengthHistogram.map(\.count).max() ?? 0
        let labelWidth = lengthHistogram.map { "\($0.lower)-\($0.upper - 1)".count }.max() ?? 0
        for bin in lengthHistogram {
            let label = "\(bin.lower)-\(bin.upper - 1)"
            let bar = String(repeating: "█", count: peak > 0 ? Int((Double(bin.count) / Double(peak) * 40).rounded(.up)) : 0)
            out.append(String(repeating: " ", count: labelWidth - label.count) + label + " │" + bar + " " + String(bin.count))
        }
        for (n, example) in examples.enumerated() {
            out.append("")
            out.append("Example \(n + 1) (line \(example.line), \(example.tokens) tokens, \(example.trainedTokens) trained)\(ansi ? "" : "; trained text in [[ ]]"):")
            out.append(example.spans.map { span in
                guard span.trained else { return span.text }
                return ansi ? "\u{1B}[1;32m" + span.text + "\u{1B}[0m" : "[[" + span.text + "]]"
            }.joined().trimmingCharacters(in: .newlines))
        }
        if let sampleFile { out.append(""); out.append("Spot-check sample: \(sampleCount) rows in \(sampleFile)") }
        return out.joined(separator: "\n")
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.enumerated().map { r, row in
            let line = row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == row.count - 1 ? pad + cell : cell + pad
            }.joined(separator: "  ")
            return r == 0 ? line + "\n" + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n")
    }

    /// A standalone HTML page in the shared report style (no scripts, no external resources).
    public func renderHTML() -> String {
        var page = ReportPage(title: "Data report")
        let total = trainedTokens + maskedTokens
        let int = ReportFormat.integer
        page.facts([("source", source), ("container", container), ("format", format)]
            + (template.map { [("template", $0)] } ?? []))
        page.facts([("rows read", int(rowsRead)), ("kept", int(rowsKept)), ("dropped", int(rowsDropped)),
                    ("train", "\(int(trainSamples)) samples in \(int(trainRows)) rows\(packed ? " (packed)" : "")"),
                    ("validation", "\(int(validationSamples)) samples in \(int(validationRows)) rows")])
        page.heading("Cleaning")
        var table = ReportTable(["rule", "action", "rows"])
        for rule in rules where rule.enabled || rule.count > 0 { table.add([.text(rule.rule), .text(rule.action), .number(int(rule.count))]) }
        table.add(["no-trained-tokens", "dropped", .number(int(noTrainedTokens))])
        table.add([.text("truncated (max \(int(maxLength)) tokens)"), "modified", .number(int(truncated))])
        page.html(table.render())
        page.heading("Tokens")
        let share = total > 0 ? Double(trainedTokens) / Double(total) * 100 : 0
        page.facts([("total", int(total)), ("trained", "\(int(trainedTokens)) (\(ReportFormat.decimal(share, 1))%)"),
                    ("masked", int(maskedTokens))])
        page.facts([("length min", int(lengthMin)), ("mean", ReportFormat.decimal(lengthMean, 1)), ("median", int(lengthMedian)),
                    ("p95", int(lengthP95)), ("max", int(lengthMax))])
        page.charts([histogramSVG()])
        page.heading("Examples")
        page.html("<p><span class=\"t\">trained</span> tokens count in the loss; the rest are masked (label -100).</p>")
        for example in examples {
            page.html("<h3>Line \(example.line): \(int(example.tokens)) tokens, \(int(example.trainedTokens)) trained</h3><pre class=\"box\">"
                + example.spans.map { $0.trained ? "<span class=\"t\">\(HTMLText.escaped($0.text))</span>" : HTMLText.escaped($0.text) }.joined()
                + "</pre>")
        }
        if let sampleFile { page.paragraph("Spot-check sample: \(sampleCount) rows in \(sampleFile)") }
        return page.render()
    }

    /// The length histogram: rows per token-length bin, with a counted y axis.
    func histogramSVG() -> String {
        var chart = BarChart(title: "Rows by length", xTitle: "tokens per row (bin start)", yTitle: "rows",
                             categories: lengthHistogram.map { ReportFormat.integer($0.lower) },
                             series: [("rows", lengthHistogram.map { Double($0.count) })],
                             valueLabels: lengthHistogram.count <= 16, format: { ReportFormat.integer(Int($0)) })
        chart.width = 1000
        return chart.svg()
    }
}
