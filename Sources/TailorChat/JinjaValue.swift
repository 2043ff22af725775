// JinjaValue: the JSON-like data a chat template reads (messages, tools, extra context).
import Foundation

/// A value passed into a chat template: the JSON data model plus Jinja's `undefined`.
///
/// Objects keep their insertion order, because templates that iterate a mapping or call `tojson` print keys in
/// that order (Python dicts do the same).
public indirect enum JinjaValue: Sendable, Equatable, CustomStringConvertible {
    /// Python `None` / JSON `null`.
    case none
    /// Jinja's undefined value: prints as "", is falsy, and fails when its attributes are read.
    case undefined
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    /// Key/value pairs in insertion order (keys are unique).
    case object([(String, JinjaValue)])

    public static func == (lhs: JinjaValue, rhs: JinjaValue) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none), (.undefined, .undefined): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value stored under `key` when this is an object.
    public subscript(key: String) -> JinjaValue? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// The string payload, when this is a string.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .undefined: return "undefined"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return "\"\(s)\""
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o): return "{" + o.map { "\"\($0.0)\": \($0.1.description)" }.joined(separator: ", ") + "}"
        }
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public typealias Key = String
    public typealias Value = JinjaValue

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue {
    /// Decodes JSON text, keeping object key order as written.
    ///
    /// Throws `ChatTemplateError.invalidInput` with the byte offset when the JSON is malformed.
    public init(json data: Data) throws {
        var parser = OrderedJSONParser(bytes: [UInt8](data))
        self = try parser.parseDocument()
    }

    /// Converts a Foundation JSON object (`JSONSerialization` output, or plain Swift arrays/dictionaries).
    ///
    /// `[String: Any]` has no order, so its keys are sorted; decode with `init(json:)` to keep the file's order.
    public init(any value: Any?) throws {
        guard let value else { self = .none; return }
        switch value {
        case is NSNull: self = .none
        case let v as JinjaValue: self = v
        case let b as Bool where type(of: value) == Bool.self: self = .bool(b)
        case let n as NSNumber:
            // NSNumber hides its kind; objCType "c" is how both Darwin and corelibs Foundation box a Bool.
            let kind = String(cString: n.objCType)
            if kind == "c" || kind == "B" { self = .bool(n.boolValue) }
            else if kind == "d" || kind == "f" { self = .double(n.doubleValue) }
            else { self = .int(n.intValue) }
        case let i as Int: self = .int(i)
        case let d as Double: self = .double(d)
        case let s as String: self = .string(s)
        case let a as [Any?]: self = .array(try a.map { try JinjaValue(any: $0) })
        case let a as [Any]: self = .array(try a.map { try JinjaValue(any: $0) })
        case let d as [String: Any?]:
            self = .object(try d.keys.sorted().map { ($0, try JinjaValue(any: d[$0] ?? nil)) })
        case let d as [String: Any]:
            self = .object(try d.keys.sorted().map { ($0, try JinjaValue(any: d[$0])) })
        default:
            throw ChatTemplateError.invalidInput("cannot convert a value of type \(type(of: value)) to JinjaValue")
        }
    }
}

/// A small JSON parser that keeps object key order (JSONSerialization does not).
struct OrderedJSONParser {
    let bytes: [UInt8]
    var pos = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JinjaValue {
        let v = try parseValue()
        skipSpace()
        guard pos == bytes.count else { throw fail("trailing characters after the JSON value") }
        return v
    }

    private func fail(_ message: String) -> ChatTemplateError {
        .invalidInput("JSON at byte offset \(pos): \(message)")
    }

    private mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    private mutating func parseValue() throws -> JinjaValue {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .none
        default: return try parseNumber()
        }
    }

    private mutating func expectWord(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("expected \(word)") }
        pos += w.count
    }

    private mutating func parseObject() throws -> JinjaValue {
        depth += 1
        defer { depth -= 1 }
        guard depth < 512 else { throw fail("nesting deeper than 512") }
        pos += 1
        var pairs: [(String, JinjaValue)] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            let value = try parseValue()
            if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
            skipSpace()
            guard pos < bytes.count else { throw fail("unterminated object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func parseArray() throws -> JinjaValue {
        depth += 1
        defer { depth -= 1 }
        guard depth < 512 else { throw fail("nesting deeper than 512") }
        pos += 1
        var items: [JinjaValue] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            items.append(try parseValue())
            skipSpace()
            guard pos < bytes.count else { throw fail("unterminated array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func parseString() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    // A surrogate pair encodes one scalar above U+FFFF.
                    if (0xD800..<0xDC00).contains(code), pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                       bytes[pos + 1] == UInt8(ascii: "u")
                    {
                        pos += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: out.append(e)
                }
                continue
            }
            out.append(c)
            pos += 1
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw fail("bad \\u escape") }
        pos += 4
        return v
    }

    private mutating func parseNumber() throws -> JinjaValue {
        let start = pos
        var isFloat = false
        while pos < bytes.count {
            let c = bytes[pos]
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { pos += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isFloat = true; pos += 1; continue }
            break
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if !isFloat, let i = Int(text) { return .int(i) }
        if let d = Double(text), !text.isEmpty { return .double(d) }
        throw fail("invalid number '\(text)'")
    }
}

extension JinjaValue: Codable {
    private struct CodingName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: CodingName.self) {
            // Decoders do not promise key order; sorting makes the result deterministic.
            let keys = keyed.allKeys.sorted { $0.stringValue < $1.stringValue }
            self = .object(try keys.map { ($0.stringValue, try keyed.decode(JinjaValue.self, forKey: $0)) })
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [JinjaValue] = []
            while !list.isAtEnd { items.append(try list.decode(JinjaValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .none }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let i = try? single.decode(Int.self) { self = .int(i) }
        else if let d = try? single.decode(Double.self) { self = .double(d) }
        else { self = .string(try single.decode(String.self)) }
    }

    /// Encodes as JSON data; `undefined` encodes as null.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .object(pairs):
            var keyed = encoder.container(keyedBy: CodingName.self)
            for (k, v) in pairs { try keyed.encode(v, forKey: CodingName(stringValue: k)) }
        case let .array(items):
            var list = encoder.unkeyedContainer()
            for item in items { try list.encode(item) }
        default:
            var single = encoder.singleValueContainer()
            switch self {
            case .none, .undefined: try single.encodeNil()
            case let .bool(b): try single.encode(b)
            case let .int(i): try single.encode(i)
            case let .double(d): try single.encode(d)
            case let .string(s): try single.encode(s)
            default: break
            }
        }
    }
}
