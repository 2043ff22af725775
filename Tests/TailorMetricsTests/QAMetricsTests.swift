// SQuAD v1.1 exact match and F1 against the official script's functions (Fixtures/qa.json).

import TailorMetrics
import XCTest

final class QAMetricsTests: XCTestCase {
    // Tolerance 1e-9 relative: identical arithmetic; the corpus means sum in the same order.
    func testMatchesSQuADScript() throws {
        let f = try Fixture.load("qa.json")
        let items = try XCTUnwrap(f["items"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(items.count, 400)
        let t = Tally()
        var preds: [String] = []
        var refs: [[String]] = []
        for (i, it) in items.enumerated() {
            let p = try XCTUnwrap(it["prediction"]?.stringValue)
            let r = try XCTUnwrap(it["references"]).strings
            preds.append(p)
            refs.append(r)
            t.equal(Array(QAMetrics.normalize(p).unicodeScalars), Array((it["normalized"]?.stringValue ?? "").unicodeScalars),
                    "item \(i) normalized \(p.debugDescription)")
            t.close(QAMetrics.exactMatch(prediction: p, references: r), it["em"]?.double ?? -1, "item \(i) em")
            t.close(QAMetrics.f1(prediction: p, references: r), it["f1"]?.double ?? -1, "item \(i) f1")
            t.close(QAMetrics.exactMatch(prediction: p, references: [r[0]]), it["em_first"]?.double ?? -1, "item \(i)")
            t.close(QAMetrics.f1(prediction: p, references: [r[0]]), it["f1_first"]?.double ?? -1, "item \(i)")
        }
        let c = try QAMetrics.corpus(predictions: preds, references: refs)
        t.close(c.exactMatch, f["exact_match"]?.double ?? -1, "corpus em")
        t.close(c.f1, f["f1"]?.double ?? -1, "corpus f1")
        XCTAssertEqual(t.failed, 0)
        print("qa: \(t.checked) values checked, \(t.failed) failed")
    }
}
