// GGUF metadata values (spec §4.1): the thirteen value types, arrays nested to any depth.

/// One GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// Elements share one value type; arrays may nest (gguf-py never writes empty arrays).
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value as an `Int` for any integer type that fits (not for bools or floats).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a `Double` for floats and integers. f32 values come back as the shortest decimal that
    /// rounds to them (an f32 1e-5 gives 1e-05, not 9.999999747378752e-06), matching the config.json value.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v.description) ?? Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [GGUFValue]? { if case .array(let items) = self { items } else { nil } }
    /// An array of strings (token texts, merges), or nil.
    public var stringArray: [String]? {
        guard let items = arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }
    /// An array of integers (token types, ids), or nil.
    public var intArray: [Int]? {
        guard let items = arrayValue else { return nil }
        let out = items.compactMap(\.intValue)
        return out.count == items.count ? out : nil
    }
    /// An array of numbers as `Float` (token scores), or nil.
    public var floatArray: [Float]? {
        guard let items = arrayValue else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .float32(let v): out.append(v)
            case .float64(let v): out.append(Float(v))
            default:
                guard let i = item.intValue else { return nil }
                out.append(Float(i))
            }
        }
        return out
    }

    /// The GGUF type name: UINT8 … FLOAT64, ARRAY[STRING] for arrays.
    public var typeName: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array(let items): items.first.map { "ARRAY[\($0.typeName)]" } ?? "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }
}

extension GGUFValue {
    /// Reads a value of GGUF type `type` at the reader's position. `depth` bounds array nesting so that a hostile
    /// file cannot exhaust the stack.
    static func read(type: UInt32, from reader: inout ByteReader, key: String, depth: Int = 0) throws(FormatError) -> GGUFValue {
        let at = reader.offset
        switch type {
        case 0: return .uint8(try reader.read(UInt8.self, "value of \(key)"))
        case 1: return .int8(try reader.read(Int8.self, "value of \(key)"))
        case 2: return .uint16(try reader.read(UInt16.self, "value of \(key)"))
        case 3: return .int16(try reader.read(Int16.self, "value of \(key)"))
        case 4: return .uint32(try reader.read(UInt32.self, "value of \(key)"))
        case 5: return .int32(try reader.read(Int32.self, "value of \(key)"))
        case 6: return .float32(Float(bitPattern: try reader.read(UInt32.self, "value of \(key)")))
        case 7:
            let byte = try reader.read(UInt8.self, "value of \(key)")
            guard byte <= 1 else { throw FormatError.corrupt(path: reader.path, offset: at, reason: "bool \(key) is \(byte), not 0 or 1") }
            return .bool(byte == 1)
        case 8: return .string(try readString(from: &reader, what: "string \(key)"))
        case 9:
            guard depth < 8 else { throw FormatError.corrupt(path: reader.path, offset: at, reason: "arrays in \(key) nest deeper than 8") }
            let elementType = try reader.read(UInt32.self, "array type of \(key)")
            guard elementType <= 12 else {
                throw FormatError.corrupt(path: reader.path, offset: at, reason: "array \(key) has unknown element type \(elementType)")
            }
            let count = try reader.read(UInt64.self, "array length of \(key)")
            // Every element takes at least `minimum` bytes: a count beyond the remaining bytes is a lie, not an
            // allocation. Capacity is reserved only up to a bound; larger arrays grow as their bytes are read.
            let minimum: UInt64 = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8][Int(elementType)]
            guard count <= UInt64(reader.remaining) / minimum else {
                throw FormatError.truncated(path: reader.path, offset: reader.offset, needed: Int(clamping: count),
                                            available: reader.remaining, what: "array \(key) of \(count) elements")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(min(Int(count), 1 << 16))
            for _ in 0..<Int(count) {
                items.append(try read(type: elementType, from: &reader, key: key, depth: depth + 1))
            }
            return .array(items)
        case 10: return .uint64(try reader.read(UInt64.self, "value of \(key)"))
        case 11: return .int64(try reader.read(Int64.self, "value of \(key)"))
        case 12: return .float64(Double(bitPattern: try reader.read(UInt64.self, "value of \(key)")))
        default:
            throw FormatError.corrupt(path: reader.path, offset: at, reason: "metadata \(key) has unknown value type \(type)")
        }
    }

    /// A GGUF string: u64 byte length + UTF-8 bytes (invalid sequences become U+FFFD rather than failing).
    static func readString(from reader: inout ByteReader, what: String) throws(FormatError) -> String {
        let length = try reader.read(UInt64.self, "length of \(what)")
        guard length <= UInt64(reader.remaining) else {
            throw FormatError.truncated(path: reader.path, offset: reader.offset, needed: Int(clamping: length),
                                        available: reader.remaining, what: what)
        }
        return String(decoding: try reader.readBytes(Int(length), what), as: UTF8.self)
    }
}
