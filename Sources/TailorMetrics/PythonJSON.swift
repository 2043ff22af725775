// A JSON reader that accepts exactly what Python's `json.loads` accepts (NaN, Infinity, -Infinity included;
// control characters inside strings, trailing commas, single quotes and a leading BOM rejected), so that the
// structured-output parse rate matches the reference script. Works on UTF-8 bytes.

/// Parses JSON text into a ``MetricsJSON``.
public enum PythonJSON {
    /// Parses a complete document; whitespace (space, tab, CR, LF) may surround the value, nothing else.
    /// - Throws: ``MetricsError/jsonSyntax(line:column:offset:reason:)`` with the 1-based line and column.
    public static func parse(_ text: String) throws -> MetricsJSON {
        var reader = Reader(bytes: Array(text.utf8))
        if reader.bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw reader.error("unexpected UTF-8 BOM")
        }
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        if reader.pos != reader.bytes.count { throw reader.error("extra data after the JSON value") }
        return value
    }

    /// True when ``parse(_:)`` succeeds.
    public static func isValid(_ text: String) -> Bool {
        (try? parse(text)) != nil
    }
}

private struct Reader {
    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ reason: String) -> MetricsError {
        var line = 1
        var column = 1
        for b in bytes[0..<min(pos, bytes.count)] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return .jsonSyntax(line: line, column: column, offset: pos, reason: reason)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard bytes.count - pos >= w.count, Array(bytes[pos..<pos + w.count]) == w else { return false }
        pos += w.count
        return true
    }

    mutating func value(depth: Int) throws -> MetricsJSON {
        guard depth < 900 else { throw error("nesting deeper than 900 levels") }
        guard let c = peek() else { throw error("expecting value") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "n"): if literal("null") { return .null }
        case UInt8(ascii: "t"): if literal("true") { return .bool(true) }
        case UInt8(ascii: "f"): if literal("false") { return .bool(false) }
        case UInt8(ascii: "N"): if literal("NaN") { return .number(.nan) }
        case UInt8(ascii: "I"): if literal("Infinity") { return .number(.infinity) }
        case UInt8(ascii: "-"):
            if literal("-Infinity") { return .number(-.infinity) }
            if let n = number() { return n }
        default:
            if let n = number() { return n }
        }
        throw error("expecting value")
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, the number pattern of Python's scanner; a partial match
    /// (such as "1." or "01") stops early and the leftover makes the document fail as "extra data".
    mutating func number() -> MetricsJSON? {
        let start = pos
        var p = pos
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if p < bytes.count && bytes[p] == UInt8(ascii: "-") { p += 1 }
        guard isDigit(p) else { return nil }
        if bytes[p] == UInt8(ascii: "0") { p += 1 } else { while isDigit(p) { p += 1 } }
        if p < bytes.count && bytes[p] == UInt8(ascii: "."), isDigit(p + 1) {
            p += 1
            while isDigit(p) { p += 1 }
        }
        if p < bytes.count && (bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E")) {
            var q = p + 1
            if q < bytes.count && (bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-")) { q += 1 }
            if isDigit(q) {
                while isDigit(q) { q += 1 }
                p = q
            }
        }
        pos = p
        let text = String(decoding: bytes[start..<p], as: UTF8.self)
        return Double(text).map(MetricsJSON.number)
    }

    mutating func string() throws -> String {
        pos += 1  // opening quote
        var out = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush(_ run: inout [UInt8], _ out: inout String.UnicodeScalarView) {
            if !run.isEmpty { out.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars); run = [] }
        }
        while true {
            guard let c = peek() else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw error("invalid control character in string") }
            if c != UInt8(ascii: "\\") { run.append(c); pos += 1; continue }
            flush(&run, &out)
            pos += 1
            guard let e = peek() else { throw error("unterminated escape") }
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append("\"")
            case UInt8(ascii: "\\"): out.append("\\")
            case UInt8(ascii: "/"): out.append("/")
            case UInt8(ascii: "b"): out.append("\u{08}")
            case UInt8(ascii: "f"): out.append("\u{0C}")
            case UInt8(ascii: "n"): out.append("\n")
            case UInt8(ascii: "r"): out.append("\r")
            case UInt8(ascii: "t"): out.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                // A high surrogate followed by an escaped low surrogate forms one code point; a lone surrogate is
                // accepted (as Python does) and stored as U+FFFD because Swift strings cannot hold it.
                if code >= 0xD800 && code < 0xDC00, bytes.count - pos >= 6,
                   bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    let low = try hex4()
                    if low >= 0xDC00 && low < 0xE000 {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        pos = save
                    }
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                pos -= 1
                throw error("invalid \\escape")
            }
        }
        flush(&run, &out)
        return String(out)
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.count - pos >= 4 else { throw error("invalid \\uXXXX escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid \\uXXXX escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    mutating func array(depth: Int) throws -> MetricsJSON {
        pos += 1
        var items: [MetricsJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard let c = peek() else { throw error("expecting ',' delimiter") }
            pos += 1
            if c == UInt8(ascii: "]") { return .array(items) }
            if c != UInt8(ascii: ",") { pos -= 1; throw error("expecting ',' delimiter") }
        }
    }

    mutating func object(depth: Int) throws -> MetricsJSON {
        pos += 1
        var obj = MetricsJSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(obj) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error("expecting property name enclosed in double quotes")
            }
            let key = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expecting ':' delimiter") }
            pos += 1
            skipWhitespace()
            obj[key] = try value(depth: depth + 1)
            skipWhitespace()
            guard let c = peek() else { throw error("expecting ',' delimiter") }
            pos += 1
            if c == UInt8(ascii: "}") { return .object(obj) }
            if c != UInt8(ascii: ",") { pos -= 1; throw error("expecting ',' delimiter") }
        }
    }
}
