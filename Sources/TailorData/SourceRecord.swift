// Reading raw records from JSONL, a JSON array or CSV, each with the line it came from.
import Foundation
import TailorText
import TailorChat

/// One record of an input file: a JSON object (CSV rows become objects of strings) and its 1-based line.
public struct SourceRecord: Sendable, Equatable {
    public var line: Int
    public var value: JinjaValue

    public init(line: Int, value: JinjaValue) {
        self.line = line
        self.value = value
    }
}

/// The container a data file uses.
public enum DataContainer: String, Sendable, Codable {
    case jsonl, jsonArray = "json", csv
}

/// Records read from a file, plus the malformed lines that were skipped when skipping was asked for.
public struct SourceRecords: Sendable {
    public var container: DataContainer
    public var records: [SourceRecord]
    /// (line, message) of each skipped malformed record.
    public var skipped: [(line: Int, message: String)]
    /// 1-based lines holding bytes that are not UTF-8 (read as U+FFFD, as Python's errors="replace" would).
    public var invalidUTF8Lines: [Int] = []
}

/// Reads JSONL, JSON arrays and CSV (with a header row) into JSON-object records.
public enum DataReader {
    /// Reads `url`. The container is chosen by content: a file whose first non-space byte is `[` is a JSON array,
    /// `{` is JSONL, and anything else (or a `.csv` extension) is CSV.
    ///
    /// A record that is not a JSON object throws `DataError.malformedRecord` naming the file and line, unless
    /// `skipMalformed` is true, in which case it is left out and listed in `skipped`.
    public static func read(_ url: URL, skipMalformed: Bool = false) throws -> SourceRecords {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        return try read(data: data, path: path, csv: url.pathExtension.lowercased() == "csv", skipMalformed: skipMalformed)
    }

    /// Reads records from bytes; `path` only names the source in errors.
    public static func read(data: Data, path: String, csv: Bool = false, skipMalformed: Bool = false) throws -> SourceRecords {
        // A UTF-8 byte order mark (Windows editors write one) precedes the content; line numbers are unaffected.
        let bytes = data.starts(with: [0xEF, 0xBB, 0xBF]) ? [UInt8](data.dropFirst(3)) : [UInt8](data)
        let first = bytes.first { !isSpace($0) }
        guard let first else { throw DataError.emptyFile(path: path) }
        var result: SourceRecords
        if csv || (first != UInt8(ascii: "[") && first != UInt8(ascii: "{")) {
            result = SourceRecords(container: .csv, records: try CSVReader.records(bytes, path: path), skipped: [])
        } else if first == UInt8(ascii: "[") {
            result = try readArray(bytes, path: path, skipMalformed: skipMalformed)
        } else {
            result = try readLines(bytes, path: path, skipMalformed: skipMalformed)
        }
        if result.records.isEmpty && result.skipped.isEmpty { throw DataError.emptyFile(path: path) }
        result.invalidUTF8Lines = invalidUTF8Lines(bytes)
        return result
    }

    /// 1-based numbers of the lines that are not valid UTF-8.
    static func invalidUTF8Lines(_ bytes: [UInt8]) -> [Int] {
        // ASCII-only files, the common case, need no per-line check.
        guard bytes.contains(where: { $0 >= 0x80 }) else { return [] }
        var lines: [Int] = []
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
            where line.contains(where: { $0 >= 0x80 }) && String(validating: line, as: UTF8.self) == nil {
            lines.append(index + 1)
        }
        return lines
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    private static func parseObject(_ slice: ArraySlice<UInt8>, path: String, line: Int) throws -> JinjaValue {
        let json: JSONValue
        do throws(JSONSyntaxError) { json = try JSONValue.parse(Array(slice), options: JinjaValue.jsonOptions) } catch {
            throw DataError.malformedRecord(path: path, line: line + error.line - 1, message: "not valid JSON: \(error.reason) at column \(error.column)")
        }
        let value = JinjaValue(json)
        guard case .object = value else {
            throw DataError.malformedRecord(path: path, line: line, message: "expected a JSON object, got \(kind(value))")
        }
        return value
    }

    static func kind(_ value: JinjaValue) -> String {
        switch value {
        case .none, .undefined: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private static func readLines(_ bytes: [UInt8], path: String, skipMalformed: Bool) throws -> SourceRecords {
        var records: [SourceRecord] = []
        var skipped: [(line: Int, message: String)] = []
        for line in JSONLines.lines(bytes) {
            do {
                records.append(SourceRecord(line: line.number, value: try parseObject(line.bytes, path: path, line: line.number)))
            } catch let DataError.malformedRecord(_, _, message) where skipMalformed {
                skipped.append((line.number, message))
            }
        }
        return SourceRecords(container: .jsonl, records: records, skipped: skipped)
    }

    /// Splits a top-level JSON array into its elements by scanning depth and strings, so that each element can be
    /// parsed (and reported) on its own with the line it starts on.
    private static func readArray(_ bytes: [UInt8], path: String, skipMalformed: Bool) throws -> SourceRecords {
        var records: [SourceRecord] = []
        var skipped: [(line: Int, message: String)] = []
        var line = 1, depth = 0, inString = false, escaped = false
        var elementStart: Int? = nil, elementLine = 1
        var closed = false
        func finish(_ end: Int) throws {
            guard let s = elementStart else { return }
            let slice = bytes[s..<end]
            elementStart = nil
            guard slice.contains(where: { !isSpace($0) }) else { return }
            do {
                records.append(SourceRecord(line: elementLine, value: try parseObject(slice, path: path, line: elementLine)))
            } catch let DataError.malformedRecord(_, _, message) where skipMalformed {
                skipped.append((elementLine, message))
            }
        }
        for (i, b) in bytes.enumerated() {
            if b == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 && b == UInt8(ascii: "[") { elementStart = i + 1; elementLine = line; continue }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { try finish(i); closed = true }
            case UInt8(ascii: ","):
                if depth == 1 { try finish(i); elementStart = i + 1; elementLine = line; continue }
            default: break
            }
            if depth == 1, let s = elementStart, s == i, isSpace(b) { elementStart = i + 1; if b == 0x0A { elementLine = line } }
            if closed { break }
        }
        guard closed else {
            throw DataError.malformedRecord(path: path, line: line, message: "the JSON array is not closed with ']'")
        }
        return SourceRecords(container: .jsonArray, records: records, skipped: skipped)
    }
}
