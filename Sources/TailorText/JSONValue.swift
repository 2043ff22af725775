// The one JSON value model of Tailor: objects keep their members in file order (duplicates included, keys compared
// byte for byte, never by Unicode canonical equivalence), integers are told apart from floats.

/// One member of a JSON object, in file order.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object: its members in file order, duplicates kept.
public struct JSONObject: Sendable, Equatable {
    public var members: [JSONMember]

    public init(_ members: [JSONMember] = []) { self.members = members }

    /// The last member named `key`, compared byte for byte ("é" and "e\u{301}" are different keys), as serde_json
    /// and Python's `json` keep the last duplicate.
    public subscript(key: String) -> JSONValue? {
        for member in members.reversed() where member.key.utf8.elementsEqual(key.utf8) { return member.value }
        return nil
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
}

/// A parsed JSON value.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An object from members in order.
    public static func object(_ members: [JSONMember]) -> JSONValue { .object(JSONObject(members)) }

    /// The last member named `key` of an object; nil for other values.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    public var isNull: Bool { if case .null = self { true } else { false } }
    /// Integers, and floats with an integral value below 2⁵³·1000 (so `4096.0` reads as 4096).
    public var intValue: Int? {
        switch self {
        case .int(let v): v
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: Int(d)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let d): d
        default: nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// An object's members in order; nil for other values.
    public var members: [JSONMember]? { objectValue?.members }
}
