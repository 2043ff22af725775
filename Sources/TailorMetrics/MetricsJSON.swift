// A JSON value as Python's json module and the jsonschema package see it: numbers compare by value
// (1 == 1.0), booleans are never numbers, objects keep their first-seen key order.
import TailorText

/// A parsed JSON value.
public indirect enum MetricsJSON: Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// Every JSON number, stored as a Double (integers beyond 2^53 lose precision).
    case number(Double)
    case string(String)
    case array([MetricsJSON])
    case object(MetricsJSONObject)

    /// The JSON Schema type names this value satisfies, "integer" included for whole numbers (1.0 counts, as in
    /// jsonschema's Draft 6+ type checker).
    public func isType(_ name: String) -> Bool {
        switch (name, self) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
             ("number", .number):
            return true
        case let ("integer", .number(x)):
            return x.isFinite && x.rounded(.towardZero) == x
        default:
            return false
        }
    }

    /// The member of an object, or nil.
    public subscript(key: String) -> MetricsJSON? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    /// The string payload, or nil.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The number payload, or nil (booleans are not numbers).
    public var numberValue: Double? {
        if case let .number(x) = self { return x }
        return nil
    }

    /// The array payload, or nil.
    public var arrayValue: [MetricsJSON]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The object payload, or nil.
    public var objectValue: MetricsJSONObject? {
        if case let .object(o) = self { return o }
        return nil
    }

    /// Compact JSON text (keys in stored order); used in messages and reports.
    public var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(x):
            if x.isFinite && x.rounded(.towardZero) == x && abs(x) < 1e15 { return String(Int64(x)) }
            return x.isFinite ? "\(x)" : (x.isNaN ? "NaN" : (x > 0 ? "Infinity" : "-Infinity"))
        case let .string(s): return MetricsJSON.quote(s)
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o):
            return "{" + o.keys.map { MetricsJSON.quote($0) + ": " + (o[$0]?.description ?? "null") }
                .joined(separator: ", ") + "}"
        }
    }

    static func quote(_ s: String) -> String { JSONText.quoted(s) }
}

extension MetricsJSON: Equatable {
    /// JSON equality as jsonschema's `equal`: numbers by value, booleans distinct from numbers, objects by key set.
    public static func == (lhs: MetricsJSON, rhs: MetricsJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && a.keys.allSatisfy { k in b[k].map { $0 == a[k] } ?? false }
        default: return false
        }
    }
}

/// A JSON object: members in first-seen key order; a repeated key keeps its first position and its last value,
/// as a Python dict built by json.loads does.
public struct MetricsJSONObject: Sendable {
    /// Keys in order.
    public private(set) var keys: [String] = []
    private var storage: [String: MetricsJSON] = [:]

    public init() {}

    /// Number of members.
    public var count: Int { keys.count }

    /// The value for a key, or nil.
    public subscript(key: String) -> MetricsJSON? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Members in order.
    public var members: [(key: String, value: MetricsJSON)] {
        keys.compactMap { k in storage[k].map { (k, $0) } }
    }
}
