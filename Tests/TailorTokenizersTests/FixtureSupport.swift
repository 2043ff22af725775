// Loads the fixtures written by tools/reference/tokenizers_fixtures.py (tokenizers 0.23.3).
import Foundation
import TailorText
import XCTest
@testable import TailorTokenizers

enum Fixtures {
    static func url(_ path: String) throws -> URL {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("Fixtures folder missing from the test bundle")
        }
        return root.appendingPathComponent(path)
    }

    /// Parsed with the library's JSON reader (Foundation merges canonically equivalent keys; TailorText compares bytes).
    static func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse([UInt8](Data(contentsOf: url(path))), options: .tokenizer)
    }

    static func object(_ path: String) throws -> JSONObject {
        guard let object = try json(path).objectValue else { throw FixtureError.shape(path) }
        return object
    }

    static func corpus() throws -> [String] {
        guard let list = try json("corpus.json").arrayValue else { throw FixtureError.shape("corpus.json") }
        return list.compactMap { $0.stringValue }
    }

    static func ints(_ value: JSONValue?) -> [Int]? {
        value?.arrayValue?.compactMap { if case .int(let i) = $0 { return i } else { return nil } }
    }

    static func intLists(_ value: JSONValue?) -> [[Int]]? {
        value?.arrayValue?.compactMap { ints($0) }
    }

    static func strings(_ value: JSONValue?) -> [String?]? {
        value?.arrayValue?.map { $0.stringValue }
    }
}

enum FixtureError: Error {
    case shape(String)
}

/// Shows a string with its invisible characters, for mismatch reports.
func visible(_ text: String) -> String {
    text.unicodeScalars.map { scalar -> String in
        scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0)
            || scalar.properties.isWhitespace && scalar != " "
            ? String(format: "\\u{%X}", scalar.value) : String(scalar)
    }.joined()
}
