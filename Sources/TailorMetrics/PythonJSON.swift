// Python's `json.loads` for the metrics: TailorText's reader with Python's leniencies (NaN, Infinity, -Infinity,
// lone surrogates; a BOM, control characters in strings and trailing commas rejected), so that the
// structured-output parse rate matches the reference script. Objects become dicts as Python builds them.
import TailorText

/// Parses JSON text into a ``MetricsJSON``.
public enum PythonJSON {
    /// Parses a complete document; whitespace (space, tab, CR, LF) may surround the value, nothing else.
    /// - Throws: ``MetricsError/jsonSyntax(line:column:offset:reason:)`` with the 1-based line and column.
    public static func parse(_ text: String) throws -> MetricsJSON {
        do throws(JSONSyntaxError) {
            return MetricsJSON(try JSONValue.parse(text, options: .python))
        } catch {
            throw MetricsError.jsonSyntax(line: error.line, column: error.column, offset: error.offset, reason: error.reason)
        }
    }

    /// True when ``parse(_:)`` succeeds.
    public static func isValid(_ text: String) -> Bool {
        (try? parse(text)) != nil
    }
}

extension MetricsJSON {
    /// The value as Python's `json.loads` returns it: every number a float-comparable value, and a repeated key
    /// keeping its first position and its last value.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(MetricsJSON.init))
        case .object(let object):
            var dict = MetricsJSONObject()
            for member in object.members { dict[member.key] = MetricsJSON(member.value) }
            self = .object(dict)
        }
    }
}
