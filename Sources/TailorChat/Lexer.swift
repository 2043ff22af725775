// Lexer: splits template source into text and tags (jinja2 rules for -, +, trim_blocks, lstrip_blocks, raw) and
// tokenizes the expressions inside tags.

/// One token inside a `{{ }}` or `{% %}` tag. `offset` is the UTF-8 byte offset in the normalised source.
struct Token {
    enum Kind: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case float(Double)
        case op(String)
        case end
    }
    let kind: Kind
    let offset: Int

    var name: String? { if case let .name(n) = kind { return n } else { return nil } }
    func isOp(_ s: String) -> Bool { kind == .op(s) }
    func isName(_ s: String) -> Bool { kind == .name(s) }
}

/// Template source split into literal text and tags.
enum Segment {
    case text(String)
    /// `{{ ... }}`: tokens end with `.end`.
    case output([Token], offset: Int)
    /// `{% ... %}`: tokens end with `.end`.
    case statement([Token], offset: Int)
}

/// Maps byte offsets of the normalised source to 1-based line and column (columns count Unicode scalars).
struct SourceMap: Sendable {
    let bytes: [UInt8]
    private let lineStarts: [Int]

    init(bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    func location(_ offset: Int) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        let column = String(decoding: bytes[start..<clamped], as: UTF8.self).unicodeScalars.count + 1
        return (lo + 1, column)
    }

    func syntaxError(_ offset: Int, _ message: String) -> ChatTemplateError {
        let (line, column) = location(offset)
        return .syntax(line: line, column: column, message: message)
    }
}

/// jinja2 normalises newlines to "\n" and drops one trailing newline (keep_trailing_newline=False).
func normaliseSource(_ source: String) -> String {
    var s = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    if s.hasSuffix("\n") { s.removeLast() }
    return s
}

struct Lexer {
    let map: SourceMap
    private var bytes: [UInt8] { map.bytes }

    init(map: SourceMap) { self.map = map }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    /// Splits the source into segments with trim_blocks=True and lstrip_blocks=True, as transformers configures jinja2.
    func segments() throws -> [Segment] {
        var out: [Segment] = []
        var pos = 0
        var stripNext = false   // previous tag ended with "-"
        var trimNewline = false // previous block/comment tag ended plainly: trim_blocks eats one "\n"
        let n = bytes.count
        while pos <= n {
            var textStart = pos
            if stripNext { while textStart < n, Lexer.isSpace(bytes[textStart]) { textStart += 1 } }
            else if trimNewline, textStart < n, bytes[textStart] == 0x0A { textStart += 1 }
            stripNext = false
            trimNewline = false
            // Find the next tag opener.
            var tag = textStart
            var kind: UInt8 = 0
            while tag + 1 < n {
                if bytes[tag] == UInt8(ascii: "{") {
                    let c = bytes[tag + 1]
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") { kind = c; break }
                }
                tag += 1
            }
            if kind == 0 {
                if textStart < n { out.append(.text(String(decoding: bytes[textStart..<n], as: UTF8.self))) }
                break
            }
            var textEnd = tag
            let sign: UInt8? = tag + 2 < n ? bytes[tag + 2] : nil
            if sign == UInt8(ascii: "-") {
                while textEnd > textStart, Lexer.isSpace(bytes[textEnd - 1]) { textEnd -= 1 }
            } else if sign != UInt8(ascii: "+"), kind != UInt8(ascii: "{") {
                // lstrip_blocks: drop spaces/tabs between the start of the line and a block or comment tag.
                var l = textEnd
                while l > textStart, bytes[l - 1] == 0x20 || bytes[l - 1] == 0x09 { l -= 1 }
                let lineStart = (l > textStart && bytes[l - 1] == 0x0A) || (l == textStart && (l == 0 || bytes[l - 1] == 0x0A))
                if lineStart { textEnd = l }
            }
            if textEnd > textStart { out.append(.text(String(decoding: bytes[textStart..<textEnd], as: UTF8.self))) }
            var bodyStart = tag + 2
            if sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bodyStart += 1 }

            switch kind {
            case UInt8(ascii: "#"):
                guard let close = find("#}", from: bodyStart) else { throw map.syntaxError(tag, "unterminated comment") }
                let closeSign: UInt8? = close > bodyStart ? bytes[close - 1] : nil
                stripNext = closeSign == UInt8(ascii: "-")
                trimNewline = !stripNext && closeSign != UInt8(ascii: "+")
                pos = close + 2
            case UInt8(ascii: "{"):
                let (tokens, endPos, closeSign) = try tokenize(from: bodyStart, closer: UInt8(ascii: "}"), tagOffset: tag)
                out.append(.output(tokens, offset: tag))
                stripNext = closeSign == UInt8(ascii: "-")
                pos = endPos
            default:
                let (tokens, endPos, closeSign) = try tokenize(from: bodyStart, closer: UInt8(ascii: "%"), tagOffset: tag)
                let strip = closeSign == UInt8(ascii: "-")
                if tokens.count == 2, tokens[0].isName("raw") {
                    // {% raw %} ... {% endraw %}: the body is literal text.
                    var bodyStart = endPos
                    if strip { while bodyStart < n, Lexer.isSpace(bytes[bodyStart]) { bodyStart += 1 } }
                    let (text, after, stripAfter) = try rawBody(from: bodyStart, rawTag: tag)
                    if !text.isEmpty { out.append(.text(text)) }
                    stripNext = stripAfter
                    trimNewline = !stripAfter
                    pos = after
                } else {
                    out.append(.statement(tokens, offset: tag))
                    stripNext = strip
                    trimNewline = closeSign == nil
                    pos = endPos
                }
            }
            if pos >= n { break }
        }
        return out
    }

    private func find(_ needle: String, from: Int) -> Int? {
        let nb = Array(needle.utf8)
        var i = from
        while i + nb.count <= bytes.count {
            if bytes[i] == nb[0], Array(bytes[i..<i + nb.count]) == nb { return i }
            i += 1
        }
        return nil
    }

    /// Finds `{% endraw %}` and returns the literal text before it.
    private func rawBody(from start: Int, rawTag: Int) throws -> (String, Int, Bool) {
        var search = start
        while let open = find("{%", from: search) {
            var p = open + 2
            if p < bytes.count, bytes[p] == UInt8(ascii: "-") || bytes[p] == UInt8(ascii: "+") { p += 1 }
            while p < bytes.count, Lexer.isSpace(bytes[p]) { p += 1 }
            let word = Array("endraw".utf8)
            if p + word.count <= bytes.count, Array(bytes[p..<p + word.count]) == word {
                var q = p + word.count
                while q < bytes.count, Lexer.isSpace(bytes[q]) { q += 1 }
                var strip = false
                if q < bytes.count, bytes[q] == UInt8(ascii: "-") { strip = true; q += 1 }
                if q + 1 < bytes.count, bytes[q] == UInt8(ascii: "%"), bytes[q + 1] == UInt8(ascii: "}") {
                    var end = open
                    if bytes[open + 2] == UInt8(ascii: "-") { while end > start, Lexer.isSpace(bytes[end - 1]) { end -= 1 } }
                    return (String(decoding: bytes[start..<end], as: UTF8.self), q + 2, strip)
                }
            }
            search = open + 2
        }
        throw map.syntaxError(rawTag, "missing {% endraw %} for this {% raw %}")
    }

    /// Tokenizes a tag body up to its closer ("%}" or "}}", optionally preceded by "-" or "+").
    /// Returns the tokens, the position after the closer, and the closer's sign ("-" strips, "+" keeps the newline).
    private func tokenize(from start: Int, closer: UInt8, tagOffset: Int) throws -> ([Token], Int, UInt8?) {
        var tokens: [Token] = []
        var p = start
        var depth = 0
        let n = bytes.count
        while true {
            while p < n, Lexer.isSpace(bytes[p]) { p += 1 }
            guard p < n else {
                throw map.syntaxError(tagOffset, closer == UInt8(ascii: "%") ? "unterminated '{%' tag (missing '%}')" : "unterminated '{{' (missing '}}')")
            }
            // Closer, only outside brackets (jinja2 keeps a balancing stack for "}}" inside dict literals).
            if depth == 0 {
                if bytes[p] == closer, p + 1 < n, bytes[p + 1] == UInt8(ascii: "}") {
                    tokens.append(Token(kind: .end, offset: p))
                    return (tokens, p + 2, nil)
                }
                if (bytes[p] == UInt8(ascii: "-") || bytes[p] == UInt8(ascii: "+")), p + 2 < n, bytes[p + 1] == closer,
                   bytes[p + 2] == UInt8(ascii: "}")
                {
                    tokens.append(Token(kind: .end, offset: p))
                    return (tokens, p + 3, bytes[p])
                }
            }
            let c = bytes[p]
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                let (s, next) = try lexString(at: p)
                tokens.append(Token(kind: .string(s), offset: p))
                p = next
            } else if isDigit(c) {
                let (tok, next) = try lexNumber(at: p)
                tokens.append(tok)
                p = next
            } else if isNameStart(c) {
                var q = p + 1
                while q < n, isNameStart(bytes[q]) || isDigit(bytes[q]) { q += 1 }
                tokens.append(Token(kind: .name(String(decoding: bytes[p..<q], as: UTF8.self)), offset: p))
                p = q
            } else {
                let two = p + 1 < n ? String(decoding: bytes[p...p + 1], as: UTF8.self) : ""
                if ["**", "//", "==", "!=", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .op(two), offset: p))
                    p += 2
                    continue
                }
                let one = String(decoding: [c], as: UTF8.self)
                guard "+-*/%~<>=()[]{},.:|!".contains(one) else {
                    throw map.syntaxError(p, "unexpected character '\(String(decoding: bytes[p..<min(n, p + 4)], as: UTF8.self).prefix(1))'")
                }
                if "([{".contains(one) { depth += 1 }
                if ")]}".contains(one) { depth = max(0, depth - 1) }
                tokens.append(Token(kind: .op(one), offset: p))
                p += 1
            }
        }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
    }

    private func lexNumber(at start: Int) throws -> (Token, Int) {
        var p = start
        let n = bytes.count
        var isFloat = false
        while p < n, isDigit(bytes[p]) || bytes[p] == UInt8(ascii: "_") { p += 1 }
        if p + 1 < n, bytes[p] == UInt8(ascii: "."), isDigit(bytes[p + 1]) {
            isFloat = true
            p += 1
            while p < n, isDigit(bytes[p]) || bytes[p] == UInt8(ascii: "_") { p += 1 }
        }
        if p < n, bytes[p] == UInt8(ascii: "e") || bytes[p] == UInt8(ascii: "E") {
            var q = p + 1
            if q < n, bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-") { q += 1 }
            if q < n, isDigit(bytes[q]) {
                isFloat = true
                p = q
                while p < n, isDigit(bytes[p]) { p += 1 }
            }
        }
        let text = String(decoding: bytes[start..<p], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat, let d = Double(text) { return (Token(kind: .float(d), offset: start), p) }
        if let i = Int(text) { return (Token(kind: .int(i), offset: start), p) }
        throw map.syntaxError(start, "invalid number '\(text)'")
    }

    /// A string literal with Python's unicode-escape rules (unknown escapes keep their backslash).
    private func lexString(at start: Int) throws -> (String, Int) {
        let quote = bytes[start]
        var p = start + 1
        var raw: [UInt8] = []
        let n = bytes.count
        while p < n, bytes[p] != quote {
            if bytes[p] == UInt8(ascii: "\\"), p + 1 < n { raw.append(bytes[p]); raw.append(bytes[p + 1]); p += 2; continue }
            raw.append(bytes[p])
            p += 1
        }
        guard p < n else { throw map.syntaxError(start, "unterminated string literal") }
        return (unescapePython(String(decoding: raw, as: UTF8.self)), p + 1)
    }
}

/// Python's "unicode-escape" decoding of a string literal body.
func unescapePython(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var out = String.UnicodeScalarView()
    let scalars = Array(s.unicodeScalars)
    var i = 0
    func hex(_ count: Int) -> Unicode.Scalar? {
        guard i + 1 + count <= scalars.count else { return nil }
        let digits = String(String.UnicodeScalarView(scalars[(i + 1)..<(i + 1 + count)]))
        guard let v = UInt32(digits, radix: 16), let u = Unicode.Scalar(v) else { return nil }
        return u
    }
    while i < scalars.count {
        let c = scalars[i]
        guard c == "\\", i + 1 < scalars.count else { out.append(c); i += 1; continue }
        let e = scalars[i + 1]
        i += 1
        switch e {
        case "n": out.append("\n")
        case "t": out.append("\t")
        case "r": out.append("\r")
        case "\\": out.append("\\")
        case "'": out.append("'")
        case "\"": out.append("\"")
        case "a": out.append("\u{07}")
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "v": out.append("\u{0B}")
        case "\n": break
        case "x": if let u = hex(2) { out.append(u); i += 2 } else { out.append("\\"); out.append(e) }
        case "u": if let u = hex(4) { out.append(u); i += 4 } else { out.append("\\"); out.append(e) }
        case "U": if let u = hex(8) { out.append(u); i += 8 } else { out.append("\\"); out.append(e) }
        case "0"..."7":
            var v: UInt32 = 0
            var k = 0
            while k < 3, i + k < scalars.count, ("0"..."7").contains(scalars[i + k]) {
                v = v * 8 + (scalars[i + k].value - 48)
                k += 1
            }
            out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            i += k - 1
        default:
            out.append("\\")
            out.append(e)
        }
        i += 1
    }
    return String(out)
}
