// The one JSON writer: every style Tailor must match byte for byte (serde_json's compact form, Python's
// json.dumps with any indent, separators, sort_keys and ensure_ascii), with an optional bound on the output size.

/// How `JSONValue.serialized` lays out its text.
public struct JSONWriteStyle: Sendable {
    /// One level of indentation; nil writes everything on one line.
    public var indent: String?
    public var itemSeparator: String
    public var keySeparator: String
    /// Members sorted by key in code-point (UTF-8 byte) order, as Python's `sort_keys`.
    public var sortsKeys: Bool
    /// Non-ASCII and DEL written as `\uXXXX` escapes (UTF-16 pairs above the BMP), as Python's `ensure_ascii`.
    public var ensuresASCII: Bool

    public init(indent: String? = nil, itemSeparator: String, keySeparator: String, sortsKeys: Bool = false,
                ensuresASCII: Bool = false) {
        self.indent = indent
        self.itemSeparator = itemSeparator
        self.keySeparator = keySeparator
        self.sortsKeys = sortsKeys
        self.ensuresASCII = ensuresASCII
    }

    /// serde_json's `to_string`: no whitespace, raw UTF-8, members in stored order (safetensors headers).
    public static let serdeCompact = JSONWriteStyle(itemSeparator: ",", keySeparator: ":")

    /// Python's `json.dumps` with its default separators: `(", ", ": ")` on one line, `(",", ": ")` with an indent.
    public static func python(indent: String? = nil, sortsKeys: Bool = false, ensuresASCII: Bool = true) -> JSONWriteStyle {
        JSONWriteStyle(indent: indent, itemSeparator: indent == nil ? ", " : ",", keySeparator: ": ",
                       sortsKeys: sortsKeys, ensuresASCII: ensuresASCII)
    }

    /// `json.dumps(value, indent=2, sort_keys=True)`: Hugging Face's config.json and index files.
    public static let pythonPretty = python(indent: "  ", sortsKeys: true)
}

/// The output would pass the byte bound given to `JSONValue.serialized(_:maxBytes:)`.
public struct JSONOutputTooLarge: Error, Sendable, Equatable {
    public var maxBytes: Int

    public init(maxBytes: Int) { self.maxBytes = maxBytes }
}

extension JSONValue {
    /// The value written in `style`.
    public func serialized(_ style: JSONWriteStyle) -> [UInt8] {
        var writer = JSONTextWriter(style: style, maxBytes: .max)
        do throws(JSONOutputTooLarge) { try writer.write(self, level: 0) } catch {}   // cannot pass Int.max bytes
        return writer.out
    }

    /// The value written in `style`, failing as soon as the text would pass `maxBytes` (for untrusted input).
    public func serialized(_ style: JSONWriteStyle, maxBytes: Int) throws(JSONOutputTooLarge) -> [UInt8] {
        var writer = JSONTextWriter(style: style, maxBytes: maxBytes)
        try writer.write(self, level: 0)
        return writer.out
    }

    /// The value written in `style`, as a string.
    public func text(_ style: JSONWriteStyle) -> String { String(decoding: serialized(style), as: UTF8.self) }
}

/// JSON string literals and Python float text, shared by every writer.
public enum JSONText {
    /// `s` as a JSON string literal: quote, backslash and control characters escaped (short forms for \b \f \n \r
    /// \t, else `\u00XX`); with `ensuringASCII`, DEL and every non-ASCII scalar too, as Python writes them.
    public static func quoted(_ s: String, ensuringASCII: Bool = false) -> String {
        var out: [UInt8] = []
        appendQuoted(s, ensuringASCII: ensuringASCII, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A float as Python's `json.dumps` writes it: `repr`, and `NaN`, `Infinity`, `-Infinity` for non-finite values.
    public static func pythonNumber(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return pythonFloatRepr(d)
    }

    /// Appends `s` as a JSON string literal to `out`.
    public static func appendQuoted(_ s: String, ensuringASCII: Bool, to out: inout [UInt8]) {
        func hex(_ v: UInt32) {
            let digits: StaticString = "0123456789abcdef"
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "u"))
            for shift in stride(from: 12, through: 0, by: -4) { out.append(digits.utf8Start[Int((v >> UInt32(shift)) & 0xF)]) }
        }
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(UInt8(ascii: "\\")); out.append(0x22)
            case 0x5C: out.append(UInt8(ascii: "\\")); out.append(0x5C)
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20: hex(scalar.value)
            case 0x7F where ensuringASCII: hex(scalar.value)
            case 0x80... where ensuringASCII:
                if scalar.value >= 0x10000 {
                    let v = scalar.value - 0x10000
                    hex(0xD800 + (v >> 10))
                    hex(0xDC00 + (v & 0x3FF))
                } else {
                    hex(scalar.value)
                }
            default: out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

private struct JSONTextWriter {
    let style: JSONWriteStyle
    let maxBytes: Int
    var out: [UInt8] = []

    init(style: JSONWriteStyle, maxBytes: Int) {
        self.style = style
        self.maxBytes = maxBytes
    }

    mutating func append(_ text: String) throws(JSONOutputTooLarge) {
        out.append(contentsOf: text.utf8)
        if out.count > maxBytes { throw JSONOutputTooLarge(maxBytes: maxBytes) }
    }

    /// A newline and `level` indents, checked against the bound before it is written.
    mutating func newline(_ level: Int) throws(JSONOutputTooLarge) {
        guard let indent = style.indent else { return }
        let (width, overflow) = indent.utf8.count.multipliedReportingOverflow(by: level)
        if overflow || out.count + 1 + width > maxBytes { throw JSONOutputTooLarge(maxBytes: maxBytes) }
        out.append(0x0A)
        for _ in 0..<level { out.append(contentsOf: indent.utf8) }
    }

    mutating func write(_ value: JSONValue, level: Int) throws(JSONOutputTooLarge) {
        switch value {
        case .null: try append("null")
        case .bool(let b): try append(b ? "true" : "false")
        case .int(let v): try append(String(v))
        case .double(let d): try append(JSONText.pythonNumber(d))
        case .string(let s):
            JSONText.appendQuoted(s, ensuringASCII: style.ensuresASCII, to: &out)
            if out.count > maxBytes { throw JSONOutputTooLarge(maxBytes: maxBytes) }
        case .array(let items):
            if items.isEmpty { try append("[]"); return }
            try append("[")
            for (i, item) in items.enumerated() {
                if i > 0 { try append(style.itemSeparator) }
                try newline(level + 1)
                try write(item, level: level + 1)
            }
            try newline(level)
            try append("]")
        case .object(let object):
            if object.isEmpty { try append("{}"); return }
            let members = style.sortsKeys
                ? object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : object.members
            try append("{")
            for (i, member) in members.enumerated() {
                if i > 0 { try append(style.itemSeparator) }
                try newline(level + 1)
                JSONText.appendQuoted(member.key, ensuringASCII: style.ensuresASCII, to: &out)
                try append(style.keySeparator)
                try write(member.value, level: level + 1)
            }
            try newline(level)
            try append("}")
        }
    }
}
