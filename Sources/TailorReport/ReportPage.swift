// A standalone HTML page in Tailor's one report style: no scripts, no network, every chart an inline SVG.
import Foundation
import TailorText

/// A report page built section by section. `render()` gives the whole document.
public struct ReportPage: Sendable {
    public var title: String
    var body = ""

    public init(title: String) { self.title = title }

    /// A section heading.
    public mutating func heading(_ text: String) { body += "<h2>\(HTMLText.escaped(text))</h2>\n" }

    /// A paragraph of plain text.
    public mutating func paragraph(_ text: String) { body += "<p>\(HTMLText.escaped(text))</p>\n" }

    /// "name value" pairs on one line, values in bold: the facts at the top of a report.
    public mutating func facts(_ pairs: [(String, String)]) {
        body += "<p class=\"facts\">" + pairs.map {
            "<span>\(HTMLText.escaped($0.0)) <b>\(HTMLText.escaped($0.1))</b></span>"
        }.joined(separator: " ") + "</p>\n"
    }

    /// Key–value pairs in a table `columns` pairs wide, filled column by column (long configurations).
    public mutating func keyValues(_ pairs: [(String, String)], columns: Int = 3) {
        let columns = max(1, columns), rows = (pairs.count + columns - 1) / columns
        var html = "<table class=\"kv\">"
        for r in 0..<rows {
            html += "<tr>"
            for c in 0..<columns {
                let i = c * rows + r
                html += i < pairs.count
                    ? "<th>\(HTMLText.escaped(pairs[i].0))</th><td>\(HTMLText.escaped(pairs[i].1))</td>" : "<th></th><td></td>"
            }
            html += "</tr>"
        }
        body += html + "</table>\n"
    }

    /// Markup the caller built and escaped (a chart, a table, a highlighted example).
    public mutating func html(_ markup: String) { body += markup + "\n" }

    /// Charts side by side, wrapping on narrow windows.
    public mutating func charts(_ svgs: [String]) {
        let shown = svgs.filter { !$0.isEmpty }
        guard !shown.isEmpty else { return }
        body += "<div class=\"charts\">\n" + shown.joined(separator: "\n") + "\n</div>\n"
    }

    /// The whole document.
    public func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTMLText.escaped(title))</title>
        <style>\(Self.style)</style></head><body>
        <header><span class="brand">Tailor</span><h1>\(HTMLText.escaped(title))</h1></header>
        \(body)<footer>Written by Tailor. Charts are inline SVG; the page needs no network or scripts.</footer>
        </body></html>

        """
    }

    /// The one style sheet of every report.
    static let style = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1120px;color:#1f2328;background:#fff}
    header{display:flex;align-items:baseline;gap:.8em;border-bottom:2px solid #1f6feb;margin-bottom:1em}
    .brand{font-weight:700;color:#1f6feb;letter-spacing:.05em}h1{font-size:1.5em;margin:.3em 0}
    h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{font-size:1em;margin:1em 0 .3em}
    .facts span{display:inline-block;margin:0 1.4em .3em 0;color:#57606a}.facts b{color:#1f2328;font-weight:600}
    table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.3em .8em;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}
    th{background:#f6f8fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
    table.kv th{background:none;font-weight:400;color:#57606a}table.kv td{padding-right:2.5em}
    td.up{color:#1a7f37}td.down{color:#cf222e}
    pre{white-space:pre-wrap;margin:0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
    pre.box{background:#f6f8fa;padding:.6em;border-radius:4px}
    .charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #d0d7de;border-radius:4px;background:#fff}
    .t{background:#c8f0c8;color:#064006}.note{padding:.5em .8em;border-radius:4px}
    .warn{background:#fff8c5;border:1px solid #d4a72c}.bad{background:#ffebe9;border:1px solid #cf222e}.good{background:#dafbe1;border:1px solid #1a7f37}
    footer{margin-top:2em;color:#8c959f;font-size:12px}
    """
}
