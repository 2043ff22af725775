// The one JSON reader: RFC 8259 by default, and each leniency only where its options ask for it. Expected values
// are Python's json.loads results (CPython 3.11) for the same text.
import TailorText
import XCTest

final class JSONReaderTests: XCTestCase {
    func testValuesKeepOrderDuplicatesAndIntegerKinds() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": [true, null, 2.5, -0, 1e2], "b": "x"}"#)
        XCTAssertEqual(v.members?.map(\.key), ["b", "a", "b"])
        XCTAssertEqual(v["b"], .string("x"), "the last duplicate wins, as in Python")
        XCTAssertEqual(v["a"], .array([.bool(true), .null, .double(2.5), .int(0), .double(100)]))
        XCTAssertEqual(JSONValue.double(4096).intValue, 4096)
    }

    func testKeysCompareByBytesNotCanonicalEquivalence() throws {
        let v = try JSONValue.parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        XCTAssertEqual(v["\u{E9}"], .int(1))
        XCTAssertEqual(v["e\u{301}"], .int(2))
    }

    func testStrictRejectsWhatPythonRejects() {
        // Each of these fails in Python's json.loads too.
        for text in ["01", "1.", "[1,]", "{'a': 1}", "\"a\u{1}b\"", "[1] x", "", "-", "\"\\x\"", "[", "{\"a\" 1}"] {
            XCTAssertThrowsError(try JSONValue.parse(text), text)
        }
        XCTAssertThrowsError(try JSONValue.parse("NaN"), "NaN is not JSON")
        XCTAssertThrowsError(try JSONValue.parse("\u{FEFF}{}"), "a BOM is not JSON")
        XCTAssertThrowsError(try JSONValue.parse(#""\ud800""#), "a lone surrogate cannot be a Swift string")
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8")
        XCTAssertThrowsError(try JSONValue.parse("1e999"), "out of range")
    }

    func testPythonOptionsAcceptNonFiniteAndRepairSurrogates() throws {
        XCTAssertEqual(try JSONValue.parse("[NaN, Infinity, -Infinity]", options: .python).arrayValue?.map { $0.doubleValue?.isNaN == true || $0.doubleValue?.isInfinite == true }, [true, true, true])
        XCTAssertEqual(try JSONValue.parse(#""a\ud800b""#, options: .python), .string("a\u{FFFD}b"))
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\ude00""#, options: .python), .string("😀"))
        XCTAssertThrowsError(try JSONValue.parse("\"a\tb\"", options: .python), "Python's strict mode rejects raw tabs in strings")
        XCTAssertThrowsError(try JSONValue.parse("\u{FEFF}[]", options: .python), "json.loads rejects a BOM")
    }

    func testTokenizerOptionsAcceptBOMAndControlCharacters() throws {
        XCTAssertEqual(try JSONValue.parse("\u{FEFF}{\"a\": \"x\ty\"}", options: .tokenizer)["a"], .string("x\ty"))
        XCTAssertEqual(try JSONValue.parse([0x22, 0xFF, 0x22], options: .tokenizer), .string("\u{FFFD}"))
    }

    func testErrorsNameLineColumnAndOffset() {
        XCTAssertThrowsError(try JSONValue.parse("{\n  \"a\" 1}")) { error in
            let e = error as? JSONSyntaxError
            XCTAssertEqual(e?.line, 2)
            XCTAssertEqual(e?.column, 7)
            XCTAssertEqual(e?.offset, 8)
            XCTAssertEqual(e?.reason, "expecting ':' delimiter")
        }
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        XCTAssertThrowsError(try JSONValue.parse(deep))
        XCTAssertNoThrow(try JSONValue.parse(deep, options: .python))
    }
}
