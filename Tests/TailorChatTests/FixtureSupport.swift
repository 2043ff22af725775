// Loads the JSON fixtures written by tools/reference/chat_templates.py and chat_jinja_cases.py.
import Foundation
import XCTest
@testable import TailorChat

enum Fixtures {
    static func url(_ relative: String) throws -> URL {
        guard let base = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("Fixtures folder missing from the test bundle")
        }
        return base.appendingPathComponent(relative)
    }

    static func json(_ name: String) throws -> JinjaValue {
        try JinjaValue(json: Data(contentsOf: url(name)))
    }

    static func text(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: url(relative)), as: UTF8.self)
    }
}

extension JinjaValue {
    var arrayValue: [JinjaValue] { if case let .array(a) = self { return a } else { return [] } }
    var objectPairs: [(String, JinjaValue)] { if case let .object(o) = self { return o } else { return [] } }
    var boolValue: Bool { if case let .bool(b) = self { return b } else { return false } }
    var intValue: Int? { if case let .int(i) = self { return i } else { return nil } }
    /// nil for JSON null.
    var optionalString: String? { stringValue }
}
