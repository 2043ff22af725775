// Jinja filters (`x | name(args)`) with jinja2's semantics, and the HTML/word helpers they use.
import Foundation
import TailorText

extension Interpreter {
    func applyFilter(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)], offset: Int) throws -> Value {
        let a = Arguments(positional: args, keyword: kwargs)
        return try located(offset) { try checkedNesting(try filter(name, value, a, offset: offset)) }
    }

    private func filter(_ name: String, _ value: Value, _ a: Arguments, offset: Int) throws -> Value {
        if name == "safe" { return .markup(value.str) }
        if name == "escape" || name == "e" {
            if case .markup = value { return value }
            return .markup(HTMLText.escaped(value.str))
        }
        let value = value.unmarked
        switch name {
        case "trim":
            return .string(pythonStrip(value.str, chars: a.value(0, "chars").flatMap(nonNoneString), leading: true, trailing: true))
        case "length", "count":
            return .int(try length(value))
        case "tojson":
            return .string(try toJSON(value, a))
        case "upper":
            return .string(value.str.uppercased())
        case "lower":
            return .string(value.str.lowercased())
        case "title":
            return .string(jinjaTitle(value.str))
        case "capitalize":
            return .string(pythonCapitalize(value.str))
        case "default", "d":
            let fallback = a.value(0, "default_value") ?? .string("")
            let boolean = a.value(1, "boolean")?.truthy ?? false
            if value.isUndefined || (boolean && !value.truthy) { return fallback }
            return value
        case "join":
            var items = try iterate(value, offset: offset)
            if let attr = a.value(1, "attribute") { items = try items.map { try itemAttribute($0, attr) } }
            let sep = a.value(0, "d")?.str ?? ""
            let s = try joined(items, separator: sep)
            return .string(s)
        case "replace":
            guard let old = a.value(0, "old")?.str, let new = a.value(1, "new")?.str else {
                throw ChatTemplateError.runtime("replace() needs 'old' and 'new'")
            }
            let count = a.value(2, "count")?.integer ?? -1
            let s = try boundedReplace(value.str, old, new, count: count)
            return .string(s)
        case "items":
            switch value {
            case let .object(d): return .generator(d.pairs.map { .tuple([$0.0, $0.1]) })
            case let .namespace(ns): return .generator(ns.attributes.pairs.map { .tuple([$0.0, $0.1]) })
            case .undefined: return .generator([])
            default: throw ChatTemplateError.runtime("can only get item pairs from a mapping, not \(value.typeName)")
            }
        case "list":
            return .array(try iterate(value, offset: offset))
        case "first":
            return try iterate(value, offset: offset).first ?? .undefined("no first item, sequence was empty")
        case "last":
            if case .generator = value { throw ChatTemplateError.runtime("'generator' object is not reversible") }
            return try iterate(value, offset: offset).last ?? .undefined("no last item, sequence was empty")
        case "reverse":
            if case let .string(s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            // reversed() of a list is a lazy iterator; a generator is first turned into a list.
            if case let .generator(items) = value { return .array(items.reversed()) }
            return .generator(try iterate(value, offset: offset).reversed())
        case "select", "reject":
            // jinja2 skips falsy input (none, empty) instead of iterating it.
            guard value.truthy else { return .generator([]) }
            let keep = name == "select"
            return .generator(try iterate(value, offset: offset).filter { item in
                try selectTest(item, testName: a.positional.first, args: Array(a.positional.dropFirst())) == keep
            })
        case "selectattr", "rejectattr":
            guard value.truthy else { return .generator([]) }
            let keep = name == "selectattr"
            guard let attr = a.positional.first else { throw ChatTemplateError.runtime("\(name) needs an attribute name") }
            return .generator(try iterate(value, offset: offset).filter { item in
                try selectTest(try itemAttribute(item, attr), testName: a.positional.dropFirst().first,
                               args: Array(a.positional.dropFirst(2))) == keep
            })
        case "map":
            guard value.truthy else { return .generator([]) }
            let items = try iterate(value, offset: offset)
            if let attr = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = a.keyword.first(where: { $0.0 == "default" })?.1
                return .generator(try items.map { item in
                    let v = try itemAttribute(item, attr)
                    if v.isUndefined, let fallback { return fallback }
                    return v
                })
            }
            guard let filterName = a.positional.first?.str else { throw ChatTemplateError.runtime("map needs a filter name or attribute=") }
            let rest = Array(a.positional.dropFirst())
            return .generator(try items.map { try filter(filterName, $0, Arguments(positional: rest, keyword: a.keyword), offset: offset) })
        case "string":
            return .string(value.str)
        case "int":
            return toInt(value, fallback: a.value(0, "default") ?? .int(0), base: a.value(1, "base")?.integer ?? 10)
        case "float":
            return toFloat(value, fallback: a.value(0, "default") ?? .double(0))
        case "abs":
            switch value {
            case let .int(i):
                guard i != Int.min else { throw ChatTemplateError.limitExceeded("integer overflow in abs()") }
                return .int(abs(i))
            case let .double(d): return .double(abs(d))
            case let .bool(b): return .int(b ? 1 : 0)
            default: throw ChatTemplateError.runtime("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let precision = a.value(0, "precision")?.integer ?? 0
            let method = a.value(1, "method")?.str ?? "common"
            guard let x = value.number else { throw ChatTemplateError.runtime("round() needs a number, not \(value.typeName)") }
            if method == "common", precision >= 0, precision <= 20, x.isFinite {
                // Python's round() rounds the exact binary value (2.675 -> 2.67); printf does the same.
                return .double(Double(String(format: "%.\(precision)f", x)) ?? x)
            }
            let scale = Foundation.pow(10.0, Double(precision))
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down : .toNearestOrEven
            return .double((x * scale).rounded(rule) / scale)
        case "unique":
            let caseSensitive = a.value(0, "case_sensitive")?.truthy ?? false
            var seen: [Value] = []
            var out: [Value] = []
            for item in try iterate(value, offset: offset) {
                let key = caseSensitive ? item : foldCase(item)
                if !seen.contains(where: { pythonEquals($0, key) }) { seen.append(key); out.append(item) }
            }
            return .generator(out)
        case "sort":
            let reverse = a.value(0, "reverse")?.truthy ?? false
            let caseSensitive = a.value(1, "case_sensitive")?.truthy ?? false
            let attr = a.value(2, "attribute")
            var items = try iterate(value, offset: offset)
            var failure: Error?
            items.sort { x, y in
                do {
                    var p = attr != nil ? try itemAttribute(x, attr ?? .none) : x
                    var q = attr != nil ? try itemAttribute(y, attr ?? .none) : y
                    if !caseSensitive { p = foldCase(p); q = foldCase(q) }
                    let c = try pythonCompare(p, q)
                    return reverse ? c > 0 : c < 0
                } catch { failure = error; return false }
            }
            if let failure { throw failure }
            return .array(items)
        case "indent":
            let widthValue = a.value(0, "width") ?? .int(4)
            let indention: String
            if case let .string(s) = widthValue { indention = s } else {
                let width = max(0, widthValue.integer ?? 4)
                try chargeString(width, "indent width")
                indention = String(repeating: " ", count: width)
            }
            // Each line gets the indention once: bound the result before building it.
            let lineCount = value.str.utf8.reduce(1) { $1 == 0x0A || $1 == 0x0D ? $0 + 1 : $0 }
            let (added, overflow) = indention.utf8.count.multipliedReportingOverflow(by: lineCount)
            try chargeString(overflow ? Int.max : added.addingReportingOverflow(value.str.utf8.count).partialValue, "indented string")
            return .string(jinjaIndent(value.str, indention, first: a.value(1, "first")?.truthy ?? false,
                                       blank: a.value(2, "blank")?.truthy ?? false))
        case "forceescape":
            return .markup(HTMLText.escaped(value.str))
        case "wordcount":
            return .int(wordCount(value.str))
        case "sum":
            var total: Value = a.value(1, "start") ?? .int(0)
            for item in try iterate(value, offset: offset) {
                let v = try a.value(0, "attribute").map { try itemAttribute(item, $0) } ?? item
                total = try arithmetic("+", total, v)
            }
            return total
        case "min", "max":
            let items = try iterate(value, offset: offset)
            guard var best = items.first else { return .undefined("\(name) of an empty sequence") }
            for item in items.dropFirst() {
                let c = try pythonCompare(foldCase(item), foldCase(best))
                if name == "min" ? c < 0 : c > 0 { best = item }
            }
            return best
        case "attr":
            return try attribute(value, a.value(0, "name")?.str ?? "")
        case "batch":
            let size = max(1, a.value(0, "linecount")?.integer ?? 1)
            let items = try iterate(value, offset: offset)
            return .generator(stride(from: 0, to: items.count, by: size).map { .array(Array(items[$0..<min($0 + size, items.count)])) })
        case "dictsort":
            guard case let .object(d) = value else { throw ChatTemplateError.runtime("dictsort needs a mapping") }
            let caseSensitive = a.value(0, "case_sensitive")?.truthy ?? false
            var failure: Error?
            let pairs = d.pairs.sorted { x, y in
                do { return try pythonCompare(caseSensitive ? x.0 : foldCase(x.0), caseSensitive ? y.0 : foldCase(y.0)) < 0 }
                catch { failure = error; return false }
            }
            if let failure { throw failure }
            return .array(pairs.map { .tuple([$0.0, $0.1]) })
        case "format":
            // jinja2: "%s, %s!" | format(a, b) is Python's printf-style formatting.
            let s = try pythonPercentFormat(value.str, a.positional)
            try chargeString(s.utf8.count)
            return .string(s)
        case "center":
            let width = a.value(0, "width")?.integer ?? 80
            let s = value.str
            let length = s.unicodeScalars.count
            guard width > length else { return .string(s) }
            try chargeString(width - length + s.utf8.count, "centered string")
            let pad = width - length
            let left = pad / 2 + (pad % 2 == 1 && width % 2 == 1 ? 1 : 0)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        default:
            throw ChatTemplateError.runtime("no filter named '\(name)'")
        }
    }

    private func nonNoneString(_ v: Value) -> String? { v.isNone ? nil : v.str }

    func length(_ value: Value) throws -> Int {
        switch value {
        case let .string(s): return s.unicodeScalars.count
        case let .array(a), let .tuple(a): return a.count
        case let .object(d): return d.count
        case let .namespace(ns): return ns.attributes.count
        case .undefined: return 0
        default: throw ChatTemplateError.runtime("object of type '\(value.typeName)' has no len()")
        }
    }

    /// jinja2's attribute lookup for filters: dotted paths, integer parts index lists.
    func itemAttribute(_ item: Value, _ attr: Value) throws -> Value {
        if let i = attr.integer { return try subscriptValue(item, .int(i)) }
        var v = item
        for part in attr.str.split(separator: ".", omittingEmptySubsequences: false) {
            if v.isUndefined { return v }
            if let i = Int(part) { v = try subscriptValue(v, .int(i)); continue }
            switch v {
            case let .object(d): v = d[String(part)] ?? .undefined("'dict object' has no attribute '\(part)'")
            default: v = try attribute(v, String(part))
            }
        }
        return v
    }

    private func selectTest(_ value: Value, testName: Value?, args: [Value]) throws -> Bool {
        guard let testName else { return value.truthy }
        return try applyTest(testName.str, value, args)
    }

    private func foldCase(_ v: Value) -> Value {
        if case let .string(s) = v { return .string(s.lowercased()) }
        return v
    }

    private func toInt(_ v: Value, fallback: Value, base: Int) -> Value {
        switch v {
        case let .int(i): return .int(i)
        case let .bool(b): return .int(b ? 1 : 0)
        case let .double(d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : fallback
        case let .string(s):
            let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            if let i = Int(t, radix: base) { return .int(i) }
            if base == 10, let d = Double(t), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private func toFloat(_ v: Value, fallback: Value) -> Value {
        switch v {
        case let .int(i): return .double(Double(i))
        case let .bool(b): return .double(b ? 1 : 0)
        case let .double(d): return .double(d)
        case let .string(s): return Double(s.trimmingCharacters(in: .whitespaces)).map { .double($0) } ?? fallback
        default: return fallback
        }
    }
}

/// jinja2 `title`: capitalise the first letter after start, whitespace, '-', '(', '{', '[' or '<'.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for ch in s {
        if ch.isWhitespace || "-({[<".contains(ch) {
            out.append(ch)
            atWordStart = true
        } else if atWordStart {
            out += String(ch).uppercased()
            atWordStart = false
        } else {
            out += String(ch).lowercased()
        }
    }
    return out
}

/// Python `str.capitalize`: first character upper-cased, the rest lower-cased.
func pythonCapitalize(_ s: String) -> String {
    guard let first = s.first else { return s }
    return String(first).uppercased() + s.dropFirst().lowercased()
}

/// Python `str.title`: letters after a non-letter are upper-cased, other letters lower-cased.
func pythonTitle(_ s: String) -> String {
    var out = ""
    var previousIsLetter = false
    for ch in s {
        if ch.isLetter {
            out += previousIsLetter ? String(ch).lowercased() : String(ch).uppercased()
            previousIsLetter = true
        } else {
            out.append(ch)
            previousIsLetter = false
        }
    }
    return out
}

/// jinja2 `indent` (3.x): a trailing newline is dropped by the splitlines quirk; empty lines stay bare unless `blank`.
func jinjaIndent(_ s: String, _ indention: String, first: Bool, blank: Bool) -> String {
    let lines = pythonSplitLines(s + "\n")
    var rv: String
    if blank {
        rv = lines.joined(separator: "\n" + indention)
    } else {
        rv = lines.first ?? ""
        let rest = lines.dropFirst()
        if !rest.isEmpty { rv += "\n" + rest.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n") }
    }
    return first ? indention + rv : rv
}

/// Python `str.splitlines()` for \n, \r\n and \r.
func pythonSplitLines(_ s: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var previousCR = false
    for scalar in s.unicodeScalars {
        if previousCR {
            previousCR = false
            if scalar == "\n" { continue }
        }
        if scalar == "\n" || scalar == "\r" {
            lines.append(String(current))
            current = String.UnicodeScalarView()
            previousCR = scalar == "\r"
        } else {
            current.append(scalar)
        }
    }
    if !current.isEmpty { lines.append(String(current)) }
    return lines
}

func wordCount(_ s: String) -> Int {
    var count = 0
    var inWord = false
    for ch in s {
        let isWord = ch.isLetter || ch.isNumber || ch == "_"
        if isWord && !inWord { count += 1 }
        inWord = isWord
    }
    return count
}
