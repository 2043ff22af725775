// A preference row's test of a generated reply, `"check": {"regex": PATTERN}`: does the model answer in the chosen
// style (`tailor eval --task preference` counts how often the greedy reply passes).
import Foundation
import TailorChat

/// How a row says a reply has the chosen style: `{"regex": PATTERN}`, passed when PATTERN (ICU syntax, as
/// NSRegularExpression) is found anywhere in the reply, like Python's `re.search`; anchor it with `^…$` to match the
/// whole reply.
public struct ReplyCheck: @unchecked Sendable {   // NSRegularExpression is immutable and thread-safe
    /// The row field that holds the check.
    public static let field = "check"
    /// Longest pattern accepted (a bound on what a row can make the matcher do).
    public static let maxPatternLength = 1024
    public let pattern: String
    let regex: NSRegularExpression

    /// The check of `record`, or nil when it has none; a malformed one throws naming the file and line.
    public init?(record: JinjaValue, path: String, line: Int) throws {
        guard let value = record[Self.field], value != .none else { return nil }
        guard case let .string(pattern)? = value["regex"] else {
            throw DataError.invalidField(path: path, line: line, field: Self.field, message: "expected {\"regex\": PATTERN}")
        }
        guard pattern.utf8.count <= Self.maxPatternLength else {
            throw DataError.invalidField(path: path, line: line, field: Self.field, message: "the regex is longer than \(Self.maxPatternLength) bytes")
        }
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw DataError.invalidField(path: path, line: line, field: Self.field, message: "not a regular expression: \(pattern)")
        }
        self.pattern = pattern
    }

    /// Whether the pattern is found in `reply`.
    public func matches(_ reply: String) -> Bool {
        regex.firstMatch(in: reply, range: NSRange(reply.startIndex..., in: reply)) != nil
    }
}
