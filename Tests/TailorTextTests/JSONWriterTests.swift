// The one JSON writer against Python's json.dumps and serde_json's to_string (expected texts produced by them).
import TailorText
import XCTest

final class JSONWriterTests: XCTestCase {
    let value = JSONValue.object([
        JSONMember(key: "z", value: .array([.int(1), .double(0.1), .double(1e-5), .double(1e16), .double(.nan)])),
        JSONMember(key: "é", value: .string("a\"\\\n\u{1}\u{7F}😀")),
        JSONMember(key: "a", value: .object([])),
    ])

    func testPythonDumpsDefaults() {
        // json.dumps(v) with v's insertion order.
        XCTAssertEqual(value.text(.python()),
                       #"{"z": [1, 0.1, 1e-05, 1e+16, NaN], "\u00e9": "a\"\\\n\u0001\u007f\ud83d\ude00", "a": {}}"#)
    }

    func testPythonPrettySortedKeys() {
        // json.dumps(v, indent=2, sort_keys=True)
        XCTAssertEqual(value.text(.pythonPretty), """
        {
          "a": {},
          "z": [
            1,
            0.1,
            1e-05,
            1e+16,
            NaN
          ],
          "\\u00e9": "a\\"\\\\\\n\\u0001\\u007f\\ud83d\\ude00"
        }
        """)
    }

    func testSerdeCompactKeepsUTF8() {
        XCTAssertEqual(JSONValue.object([JSONMember(key: "é", value: .array([.int(1), .string("\u{8}\u{C}")]))]).text(.serdeCompact),
                       "{\"é\":[1,\"\\b\\f\"]}")
    }

    func testOutputBoundStopsEarly() {
        let big = JSONValue.array(Array(repeating: .string("xxxxxxxx"), count: 1000))
        XCTAssertThrowsError(try big.serialized(.python(indent: "    "), maxBytes: 100)) { error in
            XCTAssertEqual(error as? JSONOutputTooLarge, JSONOutputTooLarge(maxBytes: 100))
        }
        XCTAssertEqual(try JSONValue.int(7).serialized(.serdeCompact, maxBytes: 1), Array("7".utf8))
    }

    func testRoundTripThroughTheReader() throws {
        let text = value.text(.python())
        XCTAssertEqual(try JSONValue.parse(text, options: .python).text(.python()), text)
    }

    func testPythonFloatRepr() {
        let cases: [(Double, String)] = [(0.1, "0.1"), (1e-4, "0.0001"), (1e-5, "1e-05"), (123456789012345678, "1.2345678901234568e+17"),
                                         (1e16, "1e+16"), (9999999999999998, "9999999999999998.0"), (-0.0, "-0.0"),
                                         (.infinity, "inf"), (-.infinity, "-inf"), (2.5e-7, "2.5e-07")]
        for (d, expected) in cases { XCTAssertEqual(pythonFloatRepr(d), expected, "\(d)") }
        XCTAssertEqual(JSONText.pythonNumber(.infinity), "Infinity")
    }
}
