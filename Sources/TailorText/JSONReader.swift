// The one JSON reader: the grammar of Python's json scanner (which is RFC 8259's), with the few leniencies that
// real files need chosen per caller through `JSONReadOptions`. Works on UTF-8 bytes; nesting is bounded.

/// How forgiving a read is.
public struct JSONReadOptions: Sendable {
    /// Skip a leading UTF-8 byte order mark (else it is a syntax error).
    public var allowsByteOrderMark: Bool
    /// Accept `NaN`, `Infinity` and `-Infinity`, as Python's `json.loads` does.
    public var allowsNonFiniteNumbers: Bool
    /// Keep raw control characters inside strings (else they are an error, as in Python's strict mode).
    public var allowsControlCharacters: Bool
    /// Replace lone surrogate escapes and invalid UTF-8 by U+FFFD (else they are an error). Python accepts lone
    /// surrogates, which a Swift string cannot hold.
    public var repairsUnicode: Bool
    /// Deepest nesting accepted.
    public var maxDepth: Int

    public init(allowsByteOrderMark: Bool = false, allowsNonFiniteNumbers: Bool = false,
                allowsControlCharacters: Bool = false, repairsUnicode: Bool = false, maxDepth: Int = 256) {
        self.allowsByteOrderMark = allowsByteOrderMark
        self.allowsNonFiniteNumbers = allowsNonFiniteNumbers
        self.allowsControlCharacters = allowsControlCharacters
        self.repairsUnicode = repairsUnicode
        self.maxDepth = maxDepth
    }

    /// RFC 8259 and nothing else: model configs, safetensors headers, index files.
    public static let strict = JSONReadOptions()
    /// What Hugging Face tokenizer files need: a BOM, `NaN`, control characters and lone surrogates.
    public static let tokenizer = JSONReadOptions(allowsByteOrderMark: true, allowsNonFiniteNumbers: true,
                                                  allowsControlCharacters: true, repairsUnicode: true, maxDepth: 512)
    /// Exactly what Python's `json.loads` accepts (for parse rates that must match a Python reference).
    public static let python = JSONReadOptions(allowsNonFiniteNumbers: true, repairsUnicode: true, maxDepth: 900)
}

/// A JSON syntax error: where (byte offset, 1-based line and column) and why.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "\(reason) at line \(line), column \(column) (byte \(offset))" }
}

extension JSONValue {
    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: JSONReadOptions = .strict) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONByteReader(bytes: bytes, options: options)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            guard options.allowsByteOrderMark else { throw reader.fail("unexpected UTF-8 BOM") }
            reader.index = 3
        }
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        if reader.index != bytes.count { throw reader.fail("extra data after the JSON value") }
        return value
    }

    /// Parses one JSON value filling all of `bytes`.
    public static func parse(_ bytes: [UInt8], options: JSONReadOptions = .strict) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = bytes.withUnsafeBytes { raw in
            do throws(JSONSyntaxError) { return .success(try parse(raw, options: options)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON value filling all of `text`.
    public static func parse(_ text: String, options: JSONReadOptions = .strict) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }
}

private struct JSONByteReader {
    let bytes: UnsafeRawBufferPointer
    let options: JSONReadOptions
    var index = 0

    init(bytes: UnsafeRawBufferPointer, options: JSONReadOptions) {
        self.bytes = bytes
        self.options = options
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        let offset = min(offset ?? index, bytes.count)
        var line = 1, column = 1
        for b in bytes[0..<offset] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return JSONSyntaxError(offset: offset, line: line, column: column, reason: reason)
    }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for i in 0..<count where bytes[index + i] != word.utf8Start[i] { return false }
        index += count
        return true
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < options.maxDepth else { throw fail("nesting deeper than \(options.maxDepth) levels") }
        guard let c = peek() else { throw fail("expecting value") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "n"): if literal("null") { return .null }
        case UInt8(ascii: "t"): if literal("true") { return .bool(true) }
        case UInt8(ascii: "f"): if literal("false") { return .bool(false) }
        case UInt8(ascii: "N") where options.allowsNonFiniteNumbers: if literal("NaN") { return .double(.nan) }
        case UInt8(ascii: "I") where options.allowsNonFiniteNumbers: if literal("Infinity") { return .double(.infinity) }
        case UInt8(ascii: "-"):
            if options.allowsNonFiniteNumbers, literal("-Infinity") { return .double(-.infinity) }
            if let n = try number() { return n }
        default:
            if let n = try number() { return n }
        }
        throw fail("expecting value")
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expecting property name enclosed in double quotes") }
            let key = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expecting ':' delimiter") }
            index += 1
            skipWhitespace()
            members.append(JSONMember(key: key, value: try value(depth: depth + 1)))
            skipWhitespace()
            guard let c = peek() else { throw fail("expecting ',' delimiter") }
            if c == UInt8(ascii: "}") { index += 1; return .object(JSONObject(members)) }
            guard c == UInt8(ascii: ",") else { throw fail("expecting ',' delimiter") }
            index += 1
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard let c = peek() else { throw fail("expecting ',' delimiter") }
            if c == UInt8(ascii: "]") { index += 1; return .array(items) }
            guard c == UInt8(ascii: ",") else { throw fail("expecting ',' delimiter") }
            index += 1
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, the number pattern of Python's scanner; a partial match
    /// (such as "1." or "01") stops early and the leftover fails the document. nil when no number starts here.
    mutating func number() throws(JSONSyntaxError) -> JSONValue? {
        let start = index
        var p = index
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if p < bytes.count && bytes[p] == UInt8(ascii: "-") { p += 1 }
        guard isDigit(p) else { return nil }
        if bytes[p] == UInt8(ascii: "0") { p += 1 } else { while isDigit(p) { p += 1 } }
        var integral = true
        if p < bytes.count && bytes[p] == UInt8(ascii: "."), isDigit(p + 1) {
            integral = false
            p += 1
            while isDigit(p) { p += 1 }
        }
        if p < bytes.count && (bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E")) {
            var q = p + 1
            if q < bytes.count && (bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-")) { q += 1 }
            if isDigit(q) {
                integral = false
                while isDigit(q) { q += 1 }
                p = q
            }
        }
        index = p
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<p]), as: UTF8.self)
        if integral, let v = Int(text) { return .int(v) }
        guard let d = Double(text), d.isFinite || options.allowsNonFiniteNumbers else {
            throw fail("number out of range '\(text)'", at: start)
        }
        return .double(d)
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw fail("invalid \\uXXXX escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\uXXXX escape")
            }
            v = v << 4 | digit
            index += 1
        }
        return v
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        let opening = index
        index += 1
        let start = index
        // Fast path: a run without escapes or control characters is taken as it is.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"),
              bytes[index] >= 0x20 || options.allowsControlCharacters {
            index += 1
        }
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard let c = peek() else { throw fail("unterminated string starting at byte \(opening)", at: opening) }
            if c == UInt8(ascii: "\"") { index += 1; break }
            if c < 0x20 && !options.allowsControlCharacters { throw fail("invalid control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); index += 1; continue }
            index += 1
            guard let e = peek() else { throw fail("unterminated string starting at byte \(opening)", at: opening) }
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                // A high surrogate followed by an escaped low surrogate is one code point.
                if (0xD800..<0xDC00).contains(code), bytes.count - index >= 6,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                guard let scalar = Unicode.Scalar(code) ?? (options.repairsUnicode ? "\u{FFFD}" : nil) else {
                    throw fail("unpaired surrogate in \\u escape")
                }
                out.append(contentsOf: String(scalar).utf8)
            default:
                index -= 1
                throw fail("invalid \\escape")
            }
        }
        if options.repairsUnicode { return String(decoding: out, as: UTF8.self) }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8", at: opening) }
        return s
    }
}
