// Shared helpers for the TailorFormats tests: fixture paths, temporary folders, error assertions.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

enum FixtureError: Error { case missing(String) }

enum Fixtures {
    static func url(_ relative: String) throws -> URL {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError.missing("Fixtures folder missing from the test bundle")
        }
        return root.appendingPathComponent(relative)
    }

    static func data(_ relative: String) throws -> Data { try Data(contentsOf: try url(relative)) }

    /// Parses a fixture JSON file with Foundation (independent of Tailor's own JSON code).
    static func json(_ relative: String) throws -> Any { try JSONSerialization.jsonObject(with: try data(relative)) }
}

/// A fresh temporary folder removed when the test case ends.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String, _ data: Data) throws -> URL {
        let target = url.appendingPathComponent(name)
        try data.write(to: target)
        return target
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Asserts that `body` throws a `FormatError` whose description contains every string in `fragments`.
@discardableResult
func assertFormatError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                          file: StaticString = #filePath, line: UInt = #line) -> FormatError? {
    do {
        _ = try body()
        XCTFail("expected a FormatError containing \(fragments)", file: file, line: line)
        return nil
    } catch let error as FormatError {
        for fragment in fragments where !error.description.contains(fragment) {
            XCTFail("error '\(error.description)' does not mention '\(fragment)'", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a FormatError, got \(error)", file: file, line: line)
        return nil
    }
}

extension Data {
    /// Little-endian bytes of an integer.
    static func le<T: FixedWidthInteger>(_ value: T) -> Data { Swift.withUnsafeBytes(of: value.littleEndian) { Data($0) } }
}

/// Builds a safetensors file from a header JSON string and a data buffer.
func safetensorsBytes(header: String, data: Data, declaredLength: UInt64? = nil) -> Data {
    let json = Data(header.utf8)
    return Data.le(declaredLength ?? UInt64(json.count)) + json + data
}

/// Maximum absolute difference between two float arrays (infinity on length mismatch).
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}
