// Tables in the report style: a header row, text cells left-aligned, number cells right-aligned.
import TailorText

/// A table cell: escaped text, a right-aligned number, or markup the caller built.
public enum ReportCell: Sendable, ExpressibleByStringLiteral {
    case text(String)
    case number(String)
    /// A number coloured as better (`up`) or worse (`down`).
    case change(String, better: Bool?)
    case html(String)

    public init(stringLiteral value: String) { self = .text(value) }

    var markup: String {
        switch self {
        case .text(let s): return "<td>\(HTMLText.escaped(s))</td>"
        case .number(let s): return "<td class=\"n\">\(HTMLText.escaped(s))</td>"
        case .change(let s, let better):
            let tone = better.map { $0 ? " up" : " down" } ?? ""
            return "<td class=\"n\(tone)\">\(HTMLText.escaped(s))</td>"
        case .html(let s): return "<td>\(s)</td>"
        }
    }

    var isNumber: Bool {
        switch self { case .number, .change: return true; default: return false }
    }
}

/// An HTML table; a column whose first row is a number gets a right-aligned header.
public struct ReportTable: Sendable {
    public var header: [String]
    public var rows: [[ReportCell]] = []

    public init(_ header: [String]) { self.header = header }

    public mutating func add(_ cells: [ReportCell]) { rows.append(cells) }

    public func render() -> String {
        var html = "<table><tr>"
        for (c, name) in header.enumerated() {
            let numeric = rows.first.map { c < $0.count && $0[c].isNumber } ?? false
            html += numeric ? "<th class=\"n\">\(HTMLText.escaped(name))</th>" : "<th>\(HTMLText.escaped(name))</th>"
        }
        html += "</tr>\n"
        for row in rows { html += "<tr>" + row.map(\.markup).joined() + "</tr>\n" }
        return html + "</table>"
    }
}
