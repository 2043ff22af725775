// JSON parsing against Python's json.loads, JSON Schema validation against jsonschema 4.26 (Draft 2020-12),
// and field-level accuracy against the reference function in tools/reference/metrics_fixtures.py.

import TailorMetrics
import XCTest

final class StructuredOutputTests: XCTestCase {
    func testParseMatchesPythonJSON() throws {
        let docs = try XCTUnwrap(Fixture.load("json_parse.json").arrayValue)
        XCTAssertGreaterThan(docs.count, 40)
        for d in docs {
            let text = try XCTUnwrap(d["text"]?.stringValue)
            let parsed = try? PythonJSON.parse(text)
            XCTAssertEqual(parsed != nil, d["parses"] == .bool(true), "parse \(text.debugDescription)")
            // Compared as text: keeps key order in the check and lets NaN (never equal to itself) compare.
            if let v = d["value"] { XCTAssertEqual(parsed?.description, v.description, "value of \(text.debugDescription)") }
            let extracted = StructuredOutputMetrics.extractJSON(text)
            XCTAssertEqual(extracted != nil, d["parses_extracted"] == .bool(true), "extract \(text.debugDescription)")
            if let v = d["extracted"] { XCTAssertEqual(extracted?.description, v.description, "extracted \(text.debugDescription)") }
        }
    }

    func testParseErrorNamesLineAndColumn() {
        XCTAssertThrowsError(try PythonJSON.parse("{\"a\": 1,\n  \"b\" 2}")) { error in
            XCTAssertEqual(error as? MetricsError,
                           .jsonSyntax(line: 2, column: 7, offset: 15, reason: "expecting ':' delimiter"))
        }
    }

    func testSchemaErrorsMatchJSONSchema() throws {
        let f = try Fixture.load("json_schema.json")
        let schemas = try XCTUnwrap(f["schemas"]?.arrayValue).map { try JSONSchemaValidator(schema: $0) }
        let cases = try XCTUnwrap(f["cases"]?.arrayValue)
        XCTAssertGreaterThan(cases.count, 500)
        var failed = 0
        for (i, c) in cases.enumerated() {
            let v = schemas[Int(c["schema"]?.double ?? -1)]
            let instance = try XCTUnwrap(c["instance"])
            let errors = v.validate(instance)
            let got = Set(errors.map { "\($0.path) \($0.keyword)" })
            let want = Set((c["errors"]?.arrayValue ?? []).map {
                "\($0["path"]?.stringValue ?? "?") \($0["keyword"]?.stringValue ?? "?")"
            })
            XCTAssertEqual(v.isValid(instance), c["valid"] == .bool(true), "case \(i) validity \(instance)")
            if got != want {
                failed += 1
                if failed < 20 { XCTFail("case \(i) schema \(c["schema"]?.double ?? -1) \(instance): \(got.sorted()) vs \(want.sorted())") }
            }
        }
        print("json schema: \(cases.count) cases, \(failed) differ")
    }

    func testSchemaRejectsBadPatternAndDanglingRef() {
        XCTAssertThrowsError(try JSONSchemaValidator(schemaText: #"{"properties": {"a": {"pattern": "("}}}"#))
        XCTAssertThrowsError(try JSONSchemaValidator(schemaText: ##"{"$ref": "#/$defs/missing"}"##))
        XCTAssertThrowsError(try JSONSchemaValidator(schemaText: ##"{"$ref": "other.json#/x"}"##))
    }

    func testFieldAccuracyMatchesReference() throws {
        let cases = try XCTUnwrap(Fixture.load("field_accuracy.json").arrayValue)
        XCTAssertGreaterThan(cases.count, 50)
        var preds: [String] = []
        var refs: [MetricsJSON] = []
        var matched = 0, total = 0
        var macro = 0.0
        for c in cases {
            let p = try XCTUnwrap(c["prediction"]?.stringValue)
            let r = try PythonJSON.parse(try XCTUnwrap(c["reference"]?.stringValue))
            let m = StructuredOutputMetrics.fieldMatches(prediction: try PythonJSON.parse(p), reference: r)
            XCTAssertEqual(m.matched, Int(c["matched"]?.double ?? -1), "\(p) vs \(r)")
            XCTAssertEqual(m.total, Int(c["total"]?.double ?? -1), "\(p) vs \(r)")
            preds.append(p)
            refs.append(r)
            matched += Int(c["matched"]?.double ?? 0)
            total += Int(c["total"]?.double ?? 0)
            macro += (c["matched"]?.double ?? 0) / (c["total"]?.double ?? 1)
        }
        let report = try StructuredOutputMetrics.evaluate(predictions: preds, references: refs)
        assertClose(try XCTUnwrap(report.fieldAccuracy), Double(matched) / Double(total))
        assertClose(try XCTUnwrap(report.fieldAccuracyMacro), macro / Double(cases.count))
        XCTAssertEqual(report.parseRate, 1)
    }

    func testEvaluateCountsFencedAndSchema() throws {
        let schema = try JSONSchemaValidator(schemaText: #"{"type": "object", "required": ["a"]}"#)
        let r = try StructuredOutputMetrics.evaluate(
            predictions: [#"{"a": 1}"#, "```json\n{\"a\": 2}\n```", "{\"b\": 1}", "nope"], schema: schema)
        XCTAssertEqual(r.parseRate, 0.5)
        XCTAssertEqual(r.extractedParseRate, 0.75)
        XCTAssertEqual(r.schemaValidRate, 0.5)
        XCTAssertEqual(r.failures.count, 2)
    }
}
