// The report as a terminal table (text bars, bracketed or ANSI-coloured trained spans) and as a standalone HTML
// page (inline SVG histogram, trained spans in colour).
import Foundation

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
        out.append("Tokens: \(total) total, \(trainedTokens) trained (\(Self.fixed(share, 1))%), \(maskedTokens) masked")
        out.append("Length: min \(lengthMin), mean \(Self.fixed(lengthMean, 1)), median \(lengthMedian), p95 \(lengthP95), max \(lengthMax)")
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

    static func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let v = (x * scale).rounded() / scale
        var s = String(v)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
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

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A standalone HTML page (no external resources).
    public func renderHTML() -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Tailor data report</title>
        <style>
        body{font:14px/1.5 -apple-system,system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
        table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}
        pre{white-space:pre-wrap;background:#f6f6f6;padding:8px;border-radius:4px}
        .t{background:#c8f0c8;color:#064006}.legend .t{padding:0 4px}
        </style></head><body>
        <h1>Tailor data report</h1>

        """
        h += "<p>Source <code>\(Self.escape(source))</code> (\(container), format <b>\(format)</b>\(template.map { ", template \(Self.escape($0))" } ?? ""))</p>\n"
        h += "<p>Rows read \(rowsRead), kept \(rowsKept), dropped \(rowsDropped); train \(trainSamples) samples in \(trainRows) rows\(packed ? " (packed)" : ""), validation \(validationSamples) samples in \(validationRows) rows.</p>\n"
        h += "<h2>Cleaning</h2><table><tr><th>rule</th><th>action</th><th>count</th></tr>\n"
        for rule in rules where rule.enabled || rule.count > 0 {
            h += "<tr><td>\(Self.escape(rule.rule))</td><td>\(rule.action)</td><td class=n>\(rule.count)</td></tr>\n"
        }
        h += "<tr><td>no-trained-tokens</td><td>dropped</td><td class=n>\(noTrainedTokens)</td></tr>\n"
        h += "<tr><td>truncated (max \(maxLength))</td><td>modified</td><td class=n>\(truncated)</td></tr></table>\n"
        let total = trainedTokens + maskedTokens
        h += "<h2>Tokens</h2><p>\(total) total, \(trainedTokens) trained, \(maskedTokens) masked. Length min \(lengthMin), mean \(Self.fixed(lengthMean, 1)), median \(lengthMedian), p95 \(lengthP95), max \(lengthMax).</p>\n"
        h += histogramSVG() + "\n"
        h += "<h2>Examples</h2><p class=legend><span class=t>trained</span> tokens count in the loss; the rest are masked (label -100).</p>\n"
        for example in examples {
            h += "<h3>Line \(example.line): \(example.tokens) tokens, \(example.trainedTokens) trained</h3><pre>"
            h += example.spans.map { $0.trained ? "<span class=t>\(Self.escape($0.text))</span>" : Self.escape($0.text) }.joined()
            h += "</pre>\n"
        }
        h += "</body></html>\n"
        return h
    }

    /// The length histogram as an inline SVG bar chart.
    func histogramSVG() -> String {
        let width = 640, height = 200, left = 40, bottom = 30
        let peak = max(1, lengthHistogram.map(\.count).max() ?? 1)
        let n = max(1, lengthHistogram.count)
        let barWidth = Double(width - left - 10) / Double(n)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"token length histogram\">\n"
        svg += "<text x=\"\(left)\" y=\"12\" font-size=\"11\">rows per token length (max \(peak))</text>\n"
        for (i, bin) in lengthHistogram.enumerated() {
            let h = Double(height - bottom - 20) * Double(bin.count) / Double(peak)
            let x = Double(left) + Double(i) * barWidth
            svg += "<rect x=\"\(Self.fixed(x, 1))\" y=\"\(Self.fixed(Double(height - bottom) - h, 1))\" width=\"\(Self.fixed(max(1, barWidth - 2), 1))\" height=\"\(Self.fixed(h, 1))\" fill=\"#4a9\"><title>\(bin.lower)–\(bin.upper - 1): \(bin.count)</title></rect>\n"
            if i % max(1, n / 8) == 0 {
                svg += "<text x=\"\(Self.fixed(x, 1))\" y=\"\(height - bottom + 14)\" font-size=\"10\">\(bin.lower)</text>\n"
            }
        }
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>\n</svg>"
        return svg
    }
}
