// MetricFileScorer end to end on the data/eval example files (copied into Fixtures/eval by
// tools/reference/metrics_examples.py, which also wrote the reference scores in Fixtures/eval_expected.json).

import Foundation
import TailorMetrics
import XCTest

final class MetricFileScorerTests: XCTestCase {
    private func eval(_ name: String) throws -> URL { try Fixture.url("eval").appendingPathComponent(name) }

    private func temp(_ name: String, _ text: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // Tolerance 1e-9 relative: the same computations as the unit-level tests, on the example files.
    func testExampleFilesMatchReferenceLibraries() throws {
        let expected = try Fixture.load("eval_expected.json")
        let runs: [(EvalMetric, String, String, String, String?)] = [
            (.accuracy, "labels", "labels_predictions.txt", "labels_references.txt", nil),
            (.f1, "labels", "labels_predictions.txt", "labels_references.txt", nil),
            (.em, "qa", "qa_predictions.jsonl", "qa_references.jsonl", nil),
            (.rouge, "rouge", "summaries_predictions.jsonl", "summaries_references.jsonl", nil),
            (.bleu, "bleu", "summaries_predictions.jsonl", "summaries_references.jsonl", nil),
            (.chrf, "chrf", "summaries_predictions.jsonl", "summaries_references.jsonl", nil),
            (.json, "json", "json_predictions.jsonl", "json_references.jsonl", "person.schema.json"),
        ]
        var checked = 0
        for (metric, key, p, r, s) in runs {
            let report = try MetricFileScorer.score(predictionsURL: try eval(p), referencesURL: try eval(r),
                                                    metric: metric, schemaURL: try s.map(eval))
            let want = try XCTUnwrap(expected[key]?.objectValue)
            for (name, value) in want.members {
                let got = try XCTUnwrap(report.value(name), "\(metric) lacks \(name)")
                assertClose(got, value.double, "\(metric) \(name)")
                checked += 1
            }
            // The report round-trips through JSON (the CLI's --json output).
            let data = try JSONEncoder().encode(report)
            XCTAssertEqual(try JSONDecoder().decode(MetricReport.self, from: data), report)
            XCTAssertTrue(report.renderTable().contains(metric.rawValue))
        }
        XCTAssertGreaterThan(checked, 30)
    }

    func testTableRendering() throws {
        let report = try MetricFileScorer.score(predictionsURL: try eval("labels_predictions.txt"),
                                                referencesURL: try eval("labels_references.txt"), metric: .f1)
        let table = report.renderTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "metric: f1    examples: 8")
        XCTAssertTrue(lines.contains("accuracy                0.6250        fraction"), table)
        XCTAssertTrue(lines.contains("label     precision   recall      f1          support"), table)
        XCTAssertTrue(lines.contains("negative  0.6667      0.6667      0.6667      3"), table)
    }

    func testPlainTextAndSingleCombinedFile() throws {
        let both = try temp("both.jsonl", """
            {"prediction": "the cat", "reference": "The cat!"}

            {"prediction": "a dog", "references": ["dog", "a hound"]}
            """)
        let r = try MetricFileScorer.score(predictionsURL: both, referencesURL: both, metric: .em)
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r.value("exact_match"), 100)
        let crlf = try temp("p.txt", "a\r\nb\r\n\r\n")
        let refs = try temp("r.txt", "a\nc\n\n")
        let t = try MetricFileScorer.score(predictionsURL: crlf, referencesURL: refs, metric: .accuracy)
        XCTAssertEqual(t.count, 3)  // the empty third line is an example; the final newline is not
        XCTAssertEqual(t.value("accuracy") ?? 0, 2.0 / 3.0, accuracy: 1e-15)
    }

    func testErrorsNameFileAndLine() throws {
        let p = try temp("p.jsonl", "\"a\"\n\"b\"\n")
        let r1 = try temp("r.jsonl", "\"a\"\n")
        XCTAssertThrowsError(try MetricFileScorer.score(predictionsURL: p, referencesURL: r1, metric: .em)) { e in
            guard case let MetricsError.countMismatch(_, pc, _, rc) = e else { return XCTFail("\(e)") }
            XCTAssertEqual([pc, rc], [2, 1])
            XCTAssertTrue("\(e)".contains("p.jsonl has 2 predictions"), "\(e)")
        }
        let bad = try temp("bad.jsonl", "\"a\"\n{\"prediction\": }\n")
        XCTAssertThrowsError(try MetricFileScorer.score(predictionsURL: bad, referencesURL: p, metric: .em)) { e in
            guard case let MetricsError.invalidJSONLine(path, line, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(line, 2)
            XCTAssertTrue(path.hasSuffix("bad.jsonl"))
            XCTAssertTrue("\(e)".contains("bad.jsonl:2: invalid JSON"), "\(e)")
        }
        let noField = try temp("nf.jsonl", "{\"answer\": \"a\"}\n{\"answer\": \"b\"}\n")
        XCTAssertThrowsError(try MetricFileScorer.score(predictionsURL: noField, referencesURL: p, metric: .em)) { e in
            XCTAssertEqual(e as? MetricsError, .missingField(path: noField.path, line: 1, expected: ["prediction"]))
        }
        let missing = p.deletingLastPathComponent().appendingPathComponent("none.txt")
        XCTAssertThrowsError(try MetricFileScorer.score(predictionsURL: missing, referencesURL: p, metric: .em)) { e in
            guard case MetricsError.unreadableFile = e else { return XCTFail("\(e)") }
        }
        let badSchema = try temp("s.json", #"{"properties": {"a": {"pattern": "("}}}"#)
        XCTAssertThrowsError(try MetricFileScorer.score(predictionsURL: p, referencesURL: p, metric: .json,
                                                        schemaURL: badSchema)) { e in
            guard case let MetricsError.invalidSchema(path, _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(path.hasSuffix("s.json#/properties/a/pattern"), path)
        }
    }
}
