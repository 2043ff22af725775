// Classification metrics against scikit-learn 1.9.1 (Fixtures/classification.json).

import TailorMetrics
import XCTest

final class ClassificationMetricsTests: XCTestCase {
    // Tolerance 1e-9 relative: same formulas, only summation order of the averages may differ.
    func testMatchesScikitLearn() throws {
        let cases = try XCTUnwrap(Fixture.load("classification.json").arrayValue)
        XCTAssertEqual(cases.count, 24)
        let t = Tally()
        for (ci, c) in cases.enumerated() {
            let refs = try XCTUnwrap(c["references"]).strings
            let preds = try XCTUnwrap(c["predictions"]).strings
            for (name, zd) in [("zero", ZeroDivision.zero), ("one", .one), ("nan", .nan)] {
                let r = try ClassificationMetrics.compute(predictions: preds, references: refs, zeroDivision: zd)
                let e = try XCTUnwrap(c[name])
                t.equal(r.perClass.map(\.label), try XCTUnwrap(c["labels"]).strings, "case \(ci) labels")
                t.close(r.accuracy, try XCTUnwrap(c["accuracy"]).double, "case \(ci) accuracy")
                for (i, cls) in r.perClass.enumerated() {
                    t.close(cls.precision, e["precision"]?.arrayValue?[i].double ?? -1, "case \(ci) \(name) p[\(i)]")
                    t.close(cls.recall, e["recall"]?.arrayValue?[i].double ?? -1, "case \(ci) \(name) r[\(i)]")
                    t.close(cls.f1, e["f1"]?.arrayValue?[i].double ?? -1, "case \(ci) \(name) f[\(i)]")
                    t.equal(cls.support, e["support"]?.ints[i] ?? -1, "case \(ci) support[\(i)]")
                }
                for (avg, got) in [("macro", r.macro), ("micro", r.micro), ("weighted", r.weighted)] {
                    let x = try XCTUnwrap(e[avg])
                    t.close(got.precision, x["precision"]?.double ?? -1, "case \(ci) \(name) \(avg) p")
                    t.close(got.recall, x["recall"]?.double ?? -1, "case \(ci) \(name) \(avg) r")
                    t.close(got.f1, x["f1"]?.double ?? -1, "case \(ci) \(name) \(avg) f1")
                }
            }
        }
        XCTAssertEqual(t.failed, 0)
        XCTAssertGreaterThan(t.checked, 1000)
        print("classification: \(t.checked) numbers checked, \(t.failed) failed")
    }

    func testExplicitLabelOrderAndErrors() throws {
        let r = try ClassificationMetrics.compute(predictions: ["b", "a"], references: ["a", "a"], labels: ["b", "a"])
        XCTAssertEqual(r.perClass.map(\.label), ["b", "a"])
        XCTAssertEqual(r.perClass[1].recall, 0.5)
        XCTAssertThrowsError(try ClassificationMetrics.compute(predictions: ["a"], references: []))
        XCTAssertThrowsError(try ClassificationMetrics.compute(predictions: [], references: []))
    }
}
