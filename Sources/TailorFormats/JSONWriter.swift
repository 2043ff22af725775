// Printing JSON in the exact styles of the writers we must match: serde_json's compact form (safetensors headers)
// and Python's json.dumps(indent=2, sort_keys=True) with ensure_ascii (config.json, index files).

extension JSONValue {
    /// Compact serde_json style: no whitespace, non-ASCII raw UTF-8, members in their stored order.
    func compactBytes() -> [UInt8] {
        var out: [UInt8] = []
        writeCompact(into: &out)
        return out
    }

    /// Python `json.dumps(value, indent=2, sort_keys=True)` (ensure_ascii on) followed by a newline.
    func pythonPrettyBytes() -> [UInt8] {
        var out: [UInt8] = []
        writePretty(into: &out, indent: 0)
        out.append(0x0A)
        return out
    }

    private func writeCompact(into out: inout [UInt8]) {
        switch self {
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.writeCompact(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, asciiOnly: false, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.writeCompact(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            writeScalar(asciiOnly: false, into: &out)
        }
    }

    private func writePretty(into out: inout [UInt8], indent: Int) {
        func pad(_ level: Int) { out.append(contentsOf: [UInt8](repeating: 0x20, count: 2 * level)) }
        switch self {
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: Array("[]".utf8)); return }
            out.append(contentsOf: Array("[\n".utf8))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(contentsOf: Array(",\n".utf8)) }
                pad(indent + 1)
                item.writePretty(into: &out, indent: indent + 1)
            }
            out.append(0x0A)
            pad(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out.append(contentsOf: Array("{}".utf8)); return }
            // Python sorts keys by code point, which is UTF-8 byte order.
            let sorted = members.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            out.append(contentsOf: Array("{\n".utf8))
            for (i, member) in sorted.enumerated() {
                if i > 0 { out.append(contentsOf: Array(",\n".utf8)) }
                pad(indent + 1)
                JSONValue.writeString(member.key, asciiOnly: true, into: &out)
                out.append(contentsOf: Array(": ".utf8))
                member.value.writePretty(into: &out, indent: indent + 1)
            }
            out.append(0x0A)
            pad(indent)
            out.append(UInt8(ascii: "}"))
        default:
            writeScalar(asciiOnly: true, into: &out)
        }
    }

    private func writeScalar(asciiOnly: Bool, into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .int(let v): out.append(contentsOf: Array(String(v).utf8))
        case .double(let d): out.append(contentsOf: Array(JSONValue.pythonRepr(d).utf8))
        case .string(let s): JSONValue.writeString(s, asciiOnly: asciiOnly, into: &out)
        case .array, .object: break
        }
    }

    /// Python's `repr(float)`: shortest round-trip digits; Swift's description uses the same rules
    /// (exponent form below 1e-4 and from 1e16), spelled `1e-05` / `1e+16` in both.
    static func pythonRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return d.description
    }

    /// Escapes `"`, `\` and control characters (short forms for \b \f \n \r \t, else \u00XX); with `asciiOnly`,
    /// also DEL and every non-ASCII scalar as \uXXXX (UTF-16 surrogate pairs above the BMP), as Python does.
    static func writeString(_ s: String, asciiOnly: Bool, into out: inout [UInt8]) {
        func hex(_ v: UInt32) {
            let digits = Array("0123456789abcdef".utf8)
            out.append(contentsOf: Array("\\u".utf8))
            for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        }
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: Array("\\\"".utf8))
            case 0x5C: out.append(contentsOf: Array("\\\\".utf8))
            case 0x08: out.append(contentsOf: Array("\\b".utf8))
            case 0x0C: out.append(contentsOf: Array("\\f".utf8))
            case 0x0A: out.append(contentsOf: Array("\\n".utf8))
            case 0x0D: out.append(contentsOf: Array("\\r".utf8))
            case 0x09: out.append(contentsOf: Array("\\t".utf8))
            case 0x00..<0x20: hex(scalar.value)
            case 0x7F where asciiOnly: hex(scalar.value)
            case 0x80... where asciiOnly:
                if scalar.value >= 0x10000 {
                    let v = scalar.value - 0x10000
                    hex(0xD800 + (v >> 10))
                    hex(0xDC00 + (v & 0x3FF))
                } else {
                    hex(scalar.value)
                }
            default: out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
