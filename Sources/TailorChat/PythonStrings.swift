// Python str semantics the interpreter needs: strip, split, replace, format, and datetime.strftime.
import Foundation
import TailorText

func isPythonSpace(_ u: Unicode.Scalar) -> Bool {
    u.properties.isWhitespace || (0x1C...0x1F).contains(u.value)
}

/// Python `str.strip/lstrip/rstrip` (whitespace, or any of `chars`).
func pythonStrip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    let strip: (Unicode.Scalar) -> Bool = { u in set.map { $0.contains(u) } ?? isPythonSpace(u) }
    var scalars = Substring(s).unicodeScalars[...]
    if leading { while let f = scalars.first, strip(f) { scalars.removeFirst() } }
    if trailing { while let l = scalars.last, strip(l) { scalars.removeLast() } }
    return String(String.UnicodeScalarView(scalars))
}

/// Python `str.split(sep, maxsplit)`: no separator splits on whitespace runs and drops empty pieces.
func pythonSplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
    if let sep, !sep.isEmpty { return pythonSplit(s, separator: sep, maxsplit: maxsplit) }
    var parts: [String] = []
    var scalars = Array(s.unicodeScalars)[...]
    while true {
        while let f = scalars.first, isPythonSpace(f) { scalars.removeFirst() }
        if scalars.isEmpty { break }
        if maxsplit >= 0 && parts.count == maxsplit {
            var tail = scalars
            while let l = tail.last, isPythonSpace(l) { tail.removeLast() }
            parts.append(String(String.UnicodeScalarView(tail)))
            break
        }
        var word = String.UnicodeScalarView()
        while let f = scalars.first, !isPythonSpace(f) { word.append(f); scalars.removeFirst() }
        parts.append(String(word))
    }
    return parts
}

func pythonRSplit(_ s: String, sep: String?, maxsplit: Int) -> [String] {
    guard maxsplit >= 0 else { return pythonSplit(s, sep: sep, maxsplit: -1) }
    if let sep, !sep.isEmpty { return pythonRSplit(s, separator: sep, maxsplit: maxsplit) }
    let all = pythonSplit(s, sep: nil, maxsplit: -1)
    if all.count <= maxsplit + 1 { return all }
    // Whitespace rsplit keeps the head's inner spacing; rebuild it from the original text.
    let tailWords = Array(all.suffix(maxsplit))
    var head = pythonStrip(s, chars: nil, leading: false, trailing: true)
    for w in tailWords.reversed() {
        if head.hasSuffix(w) { head.removeLast(w.count) }
        head = pythonStrip(head, chars: nil, leading: false, trailing: true)
    }
    return [pythonStrip(head, chars: nil, leading: true, trailing: false)] + tailWords
}

/// Python `str.replace(old, new, count)`; an empty `old` inserts between every character.
func pythonReplace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    if old.isEmpty {
        var out = ""
        var n = 0
        for u in s.unicodeScalars {
            if count < 0 || n < count { out += new; n += 1 }
            out.unicodeScalars.append(u)
        }
        if count < 0 || n < count { out += new }
        return out
    }
    let bytes = Array(s.utf8), needle = Array(old.utf8)
    var out: [UInt8] = []
    var from = 0
    for start in utf8Matches(of: needle, in: bytes, limit: count < 0 ? Int.max : count) {
        out += bytes[from..<start]
        out += new.utf8
        from = start + needle.count
    }
    out += bytes[from...]
    return String(decoding: out, as: UTF8.self)
}

/// `str.format` with `{}`, `{0}` and `{name}` fields (no format specs), `{{`/`}}` escapes.
func pythonFormat(_ s: String, _ a: Arguments) throws -> String {
    var out = ""
    var auto = 0
    var chars = Array(s)[...]
    while let c = chars.first {
        chars.removeFirst()
        if c == "{" {
            if chars.first == "{" { chars.removeFirst(); out.append("{"); continue }
            var field = ""
            while let d = chars.first, d != "}" { field.append(d); chars.removeFirst() }
            guard chars.first == "}" else { throw ChatTemplateError.runtime("single '{' encountered in format string") }
            chars.removeFirst()
            let key = field.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            let value: Value?
            if key.isEmpty { value = auto < a.positional.count ? a.positional[auto] : nil; auto += 1 }
            else if let i = Int(key) { value = i < a.positional.count ? a.positional[i] : nil }
            else { value = a.keyword.first { $0.0 == key }?.1 }
            guard let value else { throw ChatTemplateError.runtime("format field '{\(field)}' has no argument") }
            out += value.str
        } else if c == "}" {
            if chars.first == "}" { chars.removeFirst() }
            out.append("}")
        } else {
            out.append(c)
        }
    }
    return out
}

/// Python `datetime.strftime` for the common directives (C locale).
func pythonStrftime(_ format: String, _ date: Date, _ timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December"]
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
    let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0, weekday = (c.weekday ?? 1) - 1
    func pad(_ v: Int, _ w: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    var out = ""
    var it = format.makeIterator()
    while let ch = it.next() {
        guard ch == "%" else { out.append(ch); continue }
        guard let d = it.next() else { out.append("%"); break }
        switch d {
        case "Y": out += String(year)
        case "y": out += pad(year % 100)
        case "m": out += pad(month)
        case "d": out += pad(day)
        case "e": out += (day < 10 ? " " : "") + String(day)
        case "H": out += pad(hour)
        case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12)
        case "M": out += pad(minute)
        case "S": out += pad(second)
        case "p": out += hour < 12 ? "AM" : "PM"
        case "B": out += months[month - 1]
        case "b", "h": out += String(months[month - 1].prefix(3))
        case "A": out += days[weekday]
        case "a": out += String(days[weekday].prefix(3))
        case "j": out += pad(calendar.ordinality(of: .day, in: .year, for: date) ?? 1, 3)
        case "%": out += "%"
        default: out += "%" + String(d)
        }
    }
    return out
}

/// Python `repr(str)`: single quotes unless the text holds a single quote and no double quote.
func pythonStringRepr(_ s: String) -> String {
    let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
    var out = String(quote)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(scalar) == quote { out += "\\" + String(quote) }
            else if scalar.value < 0x20 || scalar.value == 0x7F { out += String(format: "\\x%02x", scalar.value) }
            else { out.unicodeScalars.append(scalar) }
        }
    }
    out.append(quote)
    return out
}


/// Python `format % args` for %s, %r, %d/%i, %f (with optional precision) and %%.
func pythonPercentFormat(_ format: String, _ args: [Value]) throws -> String {
    var out = ""
    var next = 0
    var chars = Array(format)[...]
    func take() throws -> Value {
        guard next < args.count else { throw ChatTemplateError.runtime("not enough arguments for format string") }
        defer { next += 1 }
        return args[next]
    }
    while let c = chars.first {
        chars.removeFirst()
        guard c == "%" else { out.append(c); continue }
        var precision: Int?
        if chars.first == "." {
            chars.removeFirst()
            var digits = ""
            while let d = chars.first, d.isNumber { digits.append(d); chars.removeFirst() }
            precision = Int(digits) ?? 0
        }
        guard let spec = chars.first else { throw ChatTemplateError.runtime("incomplete format") }
        chars.removeFirst()
        switch spec {
        case "%": out += "%"
        case "s": out += try take().str
        case "r": out += try take().repr
        case "d", "i":
            let v = try take()
            if case let .int(i) = v.unmarked { out += String(i); continue }
            guard let n = v.number else { throw ChatTemplateError.runtime("%\(spec) format: a number is required, not \(v.typeName)") }
            let truncated = n.rounded(.towardZero)
            // Python prints any integer; beyond Int's range this prints the float's digits instead of trapping.
            out += abs(truncated) < 9.2e18 ? String(Int(truncated)) : (n.isFinite ? String(format: "%.0f", truncated) : "\(n)")
        case "f":
            let v = try take()
            guard let n = v.number else { throw ChatTemplateError.runtime("%f format: a number is required, not \(v.typeName)") }
            out += String(format: "%.\(min(precision ?? 6, 100))f", n)
        default:
            throw ChatTemplateError.runtime("unsupported format character '\(spec)'")
        }
    }
    if next < args.count { throw ChatTemplateError.runtime("not all arguments converted during string formatting") }
    return out
}
