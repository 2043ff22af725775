// Loads the reference fixtures written by tools/reference/metrics_fixtures.py and compares numbers.

import Foundation
import TailorMetrics
import XCTest

enum Fixture {
    static func url(_ name: String) throws -> URL {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent(name)
    }

    static func load(_ name: String) throws -> MetricsJSON {
        let data = try Data(contentsOf: url(name))
        return try PythonJSON.parse(String(decoding: data, as: UTF8.self))
    }
}

extension MetricsJSON {
    var strings: [String] { (arrayValue ?? []).compactMap(\.stringValue) }
    var doubles: [Double] { (arrayValue ?? []).map { $0.numberValue ?? .nan } }
    var ints: [Int] { (arrayValue ?? []).map { Int($0.numberValue ?? -1) } }
    /// A number, with JSON null read as NaN (the fixtures write sklearn's NaN as null).
    var double: Double { numberValue ?? .nan }
}

/// Relative comparison at `rel` (absolute below 1e-12 so that exact zeros compare); NaN equals NaN.
func assertClose(_ a: Double, _ b: Double, rel: Double = 1e-9, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    if a.isNaN && b.isNaN { return }
    let ok = abs(a - b) <= max(rel * max(abs(a), abs(b)), 1e-12)
    XCTAssertTrue(ok, "\(a) != \(b) \(message())", file: file, line: line)
}

/// Counts comparisons so that each test can report how many numbers it checked.
final class Tally: @unchecked Sendable {
    var checked = 0
    var failed = 0
    func close(_ a: Double, _ b: Double, rel: Double = 1e-9, _ message: @autoclosure () -> String = "",
               file: StaticString = #filePath, line: UInt = #line) {
        checked += 1
        let ok = (a.isNaN && b.isNaN) || abs(a - b) <= max(rel * max(abs(a), abs(b)), 1e-12)
        if !ok {
            failed += 1
            if failed <= 20 { XCTFail("\(a) != \(b) \(message())", file: file, line: line) }
        }
    }
    func equal<T: Equatable>(_ a: T, _ b: T, _ message: @autoclosure () -> String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
        checked += 1
        if a != b {
            failed += 1
            if failed <= 20 { XCTFail("\(a) != \(b) \(message())", file: file, line: line) }
        }
    }
}
