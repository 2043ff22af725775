// Shared fixtures for TailorData tests: the SmolLM2 tokenizer and template, temporary files.
import Foundation
import TailorChat
import TailorTokenizers
import XCTest
@testable import TailorData

enum Fixture {
    static var url: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw XCTSkip("Fixtures folder missing from the test bundle")
            }
            return url
        }
    }

    static let smolTokenizer: Result<Tokenizer, Error> = Result {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { throw DataError.fileNotFound(path: "Fixtures") }
        return try Tokenizer(directory: url.appendingPathComponent("smollm2"))
    }

    static func tokenizer() throws -> Tokenizer { try smolTokenizer.get() }

    static func template() throws -> ChatTemplate {
        try ChatTemplate(source: try String(contentsOf: try url.appendingPathComponent("smollm2/chat_template.jinja"), encoding: .utf8))
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: try url.appendingPathComponent(name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DataError.malformedRecord(path: name, line: 1, message: "not an object")
        }
        return object
    }
}

/// A fresh temporary folder, removed by the caller's `addTeardownBlock`.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailordata-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

func readRecords(_ text: String, csv: Bool = false, skip: Bool = false) throws -> SourceRecords {
    try DataReader.read(data: Data(text.utf8), path: "t.jsonl", csv: csv, skipMalformed: skip)
}

func assertThrows(_ expected: DataError, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
    do {
        try body()
        XCTFail("expected \(expected)", file: file, line: line)
    } catch let error as DataError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}
