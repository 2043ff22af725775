// The one JSON Lines reader: splits a file into its records with their 1-based line numbers, so that every error
// can name the file and line. Blank lines are skipped; a CR before LF and a UTF-8 BOM on the first line are dropped.

/// One non-blank line of a JSON Lines file.
public struct JSONLine: Sendable {
    /// 1-based line number in the file.
    public var number: Int
    /// The line's bytes without its line ending.
    public var bytes: ArraySlice<UInt8>

    /// The line parsed as one JSON value.
    public func value(options: JSONReadOptions = .python) throws(JSONSyntaxError) -> JSONValue {
        try JSONValue.parse(Array(bytes), options: options)
    }
}

/// A JSON Lines line that is not JSON, or not the JSON a caller wants: the file and line are part of the message.
public struct JSONLinesError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

public enum JSONLines {
    /// The non-blank lines of `bytes` in order.
    public static func lines(_ bytes: [UInt8]) -> [JSONLine] {
        var lines: [JSONLine] = []
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var number = 1
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append(JSONLine(number: number, bytes: line)) }
            start = end + 1
            number += 1
        }
        return lines
    }

    /// Every non-blank line of `bytes` parsed as a JSON object, with its line number; the first line that is not
    /// one is an error naming `file` and the line.
    public static func objects(_ bytes: [UInt8], file: String, options: JSONReadOptions = .python) throws(JSONLinesError)
        -> [(line: Int, object: JSONObject)] {
        var rows: [(line: Int, object: JSONObject)] = []
        for line in lines(bytes) {
            let value: JSONValue
            do throws(JSONSyntaxError) { value = try line.value(options: options) } catch {
                throw JSONLinesError(file: file, line: line.number, reason: "not valid JSON: \(error.reason) at column \(error.column)")
            }
            guard let object = value.objectValue else {
                throw JSONLinesError(file: file, line: line.number, reason: "expected a JSON object")
            }
            rows.append((line.number, object))
        }
        return rows
    }
}
