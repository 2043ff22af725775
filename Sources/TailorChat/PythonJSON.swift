// `tojson` as transformers defines it: json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...).
import Foundation
import TailorText

extension Interpreter {
    func toJSON(_ value: Value, _ a: Arguments) throws -> String {
        var indent: String?
        if let i = a.value(1, "indent"), !i.isNone {
            if case let .string(s) = i { indent = s } else {
                let width = max(0, i.integer ?? 0)
                try chargeString(width, "tojson indent")
                indent = String(repeating: " ", count: width)
            }
        }
        let ensureASCII = a.value(0, "ensure_ascii")?.truthy ?? false
        // Python's defaults: (", ", ": ") without indent, (",", ": ") with one.
        var itemSeparator = indent == nil ? ", " : ","
        var keySeparator = ": "
        if let seps = a.value(2, "separators")?.sequence, seps.count == 2 {
            itemSeparator = seps[0].str
            keySeparator = seps[1].str
        }
        let sortKeys = a.value(3, "sort_keys")?.truthy ?? false
        var out = ""
        try writeJSON(value, into: &out, indent: indent, level: 0, itemSeparator: itemSeparator, keySeparator: keySeparator,
                      sortKeys: sortKeys, ensureASCII: ensureASCII)
        return out
    }

    /// A newline and `level` indents, after checking the output would stay within `maxOutputBytes`.
    private func newline(_ out: inout String, _ indent: String, _ level: Int) throws {
        let (width, overflow) = indent.utf8.count.multipliedReportingOverflow(by: level)
        try chargeString(overflow ? Int.max : out.utf8.count + 1 + width, "tojson output")
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private func writeJSON(_ value: Value, into out: inout String, indent: String?, level: Int, itemSeparator: String,
                           keySeparator: String, sortKeys: Bool, ensureASCII: Bool) throws
    {
        if level > 256 { throw ChatTemplateError.limitExceeded("tojson: value nested deeper than 256 levels") }
        try checkSize(out.utf8.count, "tojson output")
        switch value.unmarked {
        case .none: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            out += JSONText.pythonNumber(d)
        case let .string(s): out += JSONText.quoted(s, ensuringASCII: ensureASCII)
        case let .array(items), let .tuple(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                if let indent { try newline(&out, indent, level + 1) }
                try writeJSON(item, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                              keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            if let indent { try newline(&out, indent, level) }
            out += "]"
        case let .object(d):
            if d.count == 0 { out += "{}"; return }
            // json.dumps turns non-string keys into strings: 1 -> "1", True -> "true", None -> "null".
            var pairs: [(String, Value)] = d.pairs.map { key, v in
                switch key {
                case let .bool(b): return (b ? "true" : "false", v)
                case .none: return ("null", v)
                default: return (key.str, v)
                }
            }
            if sortKeys { pairs.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }   // code-point order, as Python
            out += "{"
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                if let indent { try newline(&out, indent, level + 1) }
                out += JSONText.quoted(k, ensuringASCII: ensureASCII) + keySeparator
                try writeJSON(v, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                              keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            if let indent { try newline(&out, indent, level) }
            out += "}"
        case .undefined, .namespace, .callable, .generator, .markup:
            throw ChatTemplateError.runtime("Object of type \(value.typeName) is not JSON serializable")
        }
    }
}
