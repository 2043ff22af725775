// Loads the JSON fixtures written by tools/reference/plan_reference.py.
import Foundation
import XCTest

enum Fixture {
    /// The `data` object of Fixtures/<name>.json.
    static func data(_ name: String) throws -> [String: Any] {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let bytes = try Data(contentsOf: folder.appendingPathComponent(name + ".json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        return try XCTUnwrap(root["data"] as? [String: Any])
    }
}
