// DataError: everything the data pipeline can reject, each naming the file, line, field or offset involved.
import Foundation

/// Errors from reading, cleaning, encoding and storing training data.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The input file does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// The input file holds no records.
    case emptyFile(path: String)
    /// A record is not valid JSON (or not a JSON object). `line` is 1-based; for a JSON array it is the line the
    /// element starts on.
    case malformedRecord(path: String, line: Int, message: String)
    /// A record lacks a field its format needs.
    case missingField(path: String, line: Int, field: String, format: String)
    /// A field is present but has the wrong type or value.
    case invalidField(path: String, line: Int, field: String, message: String)
    /// No known format matches the record's keys.
    case unknownFormat(path: String, line: Int, keys: [String])
    /// The CSV text cannot be parsed (unterminated quote, row with the wrong number of cells, no header).
    case unreadableCSV(path: String, line: Int, message: String)
    /// A chat template failed to render a conversation, or none is available.
    case template(path: String, line: Int, message: String)
    /// An option value is out of range.
    case invalidOption(String)
    /// A prepared dataset file is missing.
    case datasetNotFound(path: String)
    /// A prepared dataset file does not start with the Tailor dataset magic.
    case badMagic(path: String)
    /// A prepared dataset file has a version this reader does not know.
    case unsupportedVersion(path: String, version: UInt32)
    /// A prepared dataset's payload does not match the checksum in its header.
    case checksumMismatch(path: String, expected: UInt32, actual: UInt32)
    /// A prepared dataset's header, offsets or sizes point outside the file or are inconsistent.
    case corruptDataset(path: String, offset: Int, message: String)
    /// Writing an output file failed.
    case writeFailed(path: String, message: String)
    /// Bytes that are not UTF-8, refused with `strictUTF8` (--strict).
    case invalidUTF8(path: String, line: Int, lines: Int)
    /// Cleaning and encoding kept no training row: a dataset would train on nothing.
    case noRowsKept(path: String, rowsRead: Int)
    /// A preference pair that cannot be trained on (see `PreferencePair.problem`).
    case badPreferencePair(path: String, line: Int, message: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file (hint: --data takes a .jsonl, .json or .csv file)"
        case let .emptyFile(path):
            return "\(path): the file holds no records"
        case let .invalidUTF8(path, line, lines):
            return "\(path):\(line): bytes that are not UTF-8 (\(lines) line\(lines == 1 ? "" : "s") in all); without --strict they are read as U+FFFD and counted in the report"
        case let .noRowsKept(path, rowsRead):
            return "\(path): none of the \(rowsRead) rows was kept for training (cleaning or masking dropped every row); nothing was written"
        case let .badPreferencePair(path, line, message):
            return "\(path):\(line): \(message) (hint: --skip-bad skips and counts such pairs)"
        case let .malformedRecord(path, line, message):
            return "\(path):\(line): malformed record: \(message) (hint: `tailor prepare --skip-malformed` skips and counts such lines)"
        case let .missingField(path, line, field, format):
            return "\(path):\(line): missing field '\(field)' required by the \(format) format (hint: map field names with --field NAME=COLUMN or choose another --format)"
        case let .invalidField(path, line, field, message):
            return "\(path):\(line): field '\(field)': \(message)"
        case let .unknownFormat(path, line, keys):
            return "\(path):\(line): cannot tell the format from the keys [\(keys.joined(separator: ", "))] (hint: expected messages, conversations, instruction/output, prompt/completion or text; pass --format and field mappings)"
        case let .unreadableCSV(path, line, message):
            return "\(path):\(line): unreadable CSV: \(message)"
        case let .template(path, line, message):
            return "\(path):\(line): chat template: \(message)"
        case let .invalidOption(message):
            return "invalid option: \(message)"
        case let .datasetNotFound(path):
            return "\(path): no such prepared dataset (hint: run `tailor prepare` first)"
        case let .badMagic(path):
            return "\(path): not a Tailor dataset (bad magic; expected a .tdata file written by `tailor prepare`)"
        case let .unsupportedVersion(path, version):
            return "\(path): dataset format version \(version) is not supported (this reader knows version \(PreparedDataset.version))"
        case let .checksumMismatch(path, expected, actual):
            return "\(path): payload checksum mismatch (header 0x\(String(expected, radix: 16)), computed 0x\(String(actual, radix: 16))); the file is corrupt or truncated"
        case let .corruptDataset(path, offset, message):
            return "\(path): corrupt dataset at byte \(offset): \(message)"
        case let .writeFailed(path, message):
            return "\(path): cannot write: \(message)"
        }
    }
}
