// JinjaValue: the JSON-like data a chat template reads (messages, tools, extra context).
import Foundation
import TailorText

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
    /// Throws `ChatTemplateError.invalidInput` with the line, column and byte offset when the JSON is malformed.
    /// Python's `json.loads` rules apply (`NaN` and `Infinity` are accepted); a repeated key keeps its first
    /// position and its last value, as in a Python dict.
    public init(json data: Data) throws {
        do throws(JSONSyntaxError) {
            self = JinjaValue(try JSONValue.parse([UInt8](data), options: JinjaValue.jsonOptions))
        } catch {
            throw ChatTemplateError.invalidInput("JSON at line \(error.line), column \(error.column) (byte offset \(error.offset)): \(error.reason)")
        }
    }

    /// Python's `json.loads`, nested no deeper than the interpreter accepts.
    public static let jsonOptions: JSONReadOptions = {
        var options = JSONReadOptions.python
        options.maxDepth = 512
        return options
    }()

    /// A parsed JSON value as a template sees it: objects as Python dicts.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(JinjaValue.init))
        case .object(let object):
            var pairs: [(String, JinjaValue)] = []
            var position: [String: Int] = [:]
            for member in object.members {
                let value = JinjaValue(member.value)
                if let i = position[member.key] { pairs[i].1 = value } else {
                    position[member.key] = pairs.count
                    pairs.append((member.key, value))
                }
            }
            self = .object(pairs)
        }
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
