// Truncation, best-fit-decreasing packing, length grouping (vs transformers) and the seeded split.
import Foundation
import XCTest
@testable import TailorData

final class PackingTests: XCTestCase {
    func row(_ n: Int, base: Int32 = 0, trained: Bool = true) -> PreparedRow {
        let ids = (0..<Int32(n)).map { $0 + base }
        return PreparedRow(inputIDs: ids, labels: trained ? ids : ids.map { _ in -100 })
    }

    func testTruncationKeepsStart() {
        let (cut, truncated) = Packing.truncate(row(10), to: 4)
        XCTAssertTrue(truncated)
        XCTAssertEqual(cut.inputIDs, [0, 1, 2, 3])
        XCTAssertEqual(cut.labels, [0, 1, 2, 3])
        let (same, notTruncated) = Packing.truncate(row(4), to: 4)
        XCTAssertFalse(notTruncated)
        XCTAssertEqual(same, row(4))
    }

    func testBestFitDecreasingWithSegmentsAndPositions() {
        // Lengths 5, 3, 6, 2, 4 into rows of 8: sorted 6,5,4,3,2 → [6,2], [5,3], [4].
        let rows = [row(5, base: 100), row(3, base: 200), row(6, base: 300), row(2, base: 400), row(4, base: 500)]
        let packed = Packing.pack(rows, maxLength: 8)
        XCTAssertEqual(packed.count, 3)
        XCTAssertEqual(packed[0].inputIDs, [300, 301, 302, 303, 304, 305, 400, 401])
        XCTAssertEqual(packed[0].segments, [0, 0, 0, 0, 0, 0, 1, 1])
        XCTAssertEqual(packed[0].positions, [0, 1, 2, 3, 4, 5, 0, 1])
        XCTAssertEqual(packed[0].labels, [-100, 301, 302, 303, 304, 305, -100, 401], "segment starts never trained")
        XCTAssertEqual(packed[1].inputIDs, [100, 101, 102, 103, 104, 200, 201, 202])
        XCTAssertEqual(packed[2].inputIDs, [500, 501, 502, 503])
        XCTAssertEqual(packed.reduce(0) { $0 + $1.count }, 20, "every token placed once")
        XCTAssertTrue(packed.allSatisfy { $0.count <= 8 })
        // One sample per row when nothing fits together.
        XCTAssertEqual(Packing.pack([row(5), row(5)], maxLength: 8).count, 2)
    }

    func testLengthGroupingMatchesTransformers() throws {
        let cases = try XCTUnwrap(try Fixture.json("length_grouping.json")["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 5)
        for (n, c) in cases.enumerated() {
            let got = LengthGrouping.indices(lengths: try XCTUnwrap(c["lengths"] as? [Int]), batchSize: try XCTUnwrap(c["batch_size"] as? Int),
                                             permutation: try XCTUnwrap(c["permutation"] as? [Int]),
                                             megaBatchMultiplier: c["mega_batch_mult"] as? Int)
            XCTAssertEqual(got, try XCTUnwrap(c["expected"] as? [Int]), "case \(n)")
        }
    }

    func testSeededLengthGroupingIsAPermutationAndDeterministic() {
        let lengths = (0..<100).map { ($0 * 37) % 23 + 1 }
        let a = LengthGrouping.indices(lengths: lengths, batchSize: 4, seed: 3)
        XCTAssertEqual(a, LengthGrouping.indices(lengths: lengths, batchSize: 4, seed: 3))
        XCTAssertNotEqual(a, LengthGrouping.indices(lengths: lengths, batchSize: 4, seed: 4))
        XCTAssertEqual(a.sorted(), Array(0..<100))
        XCTAssertEqual(lengths[a[0]], lengths.max())
    }

    func testSplitSizes() throws {
        XCTAssertEqual(try DataSplit.split(count: 100, fraction: 0.05, seed: 1).validation.count, 5)
        XCTAssertEqual(try DataSplit.split(count: 101, fraction: 0.05, seed: 1).validation.count, 6, "ceil(5.05)")
        XCTAssertEqual(try DataSplit.split(count: 100, fraction: 0.07, seed: 1).validation.count, 8, "ceil(7.000000000000001), as Python")
        XCTAssertEqual(try DataSplit.split(count: 10, fraction: 0, seed: 1).validation.count, 0)
        XCTAssertEqual(try DataSplit.split(count: 1, fraction: 0.5, seed: 1).train.count, 1, "at least one training sample")
        XCTAssertThrowsError(try DataSplit.split(count: 10, fraction: 1, seed: 1))
        let a = try DataSplit.split(count: 200, fraction: 0.1, seed: 9)
        XCTAssertEqual(a.train.count, 180)
        XCTAssertEqual(Set(a.train).union(a.validation), Set(0..<200))
        XCTAssertTrue(Set(a.train).isDisjoint(with: a.validation))
        XCTAssertEqual(a.validation, try DataSplit.split(count: 200, fraction: 0.1, seed: 9).validation)
        XCTAssertNotEqual(a.validation, try DataSplit.split(count: 200, fraction: 0.1, seed: 10).validation)
        XCTAssertEqual(a.train, a.train.sorted(), "input order kept")
    }
}

final class ReportTests: XCTestCase {
    func testHistogramCoversEveryLengthOnce() {
        let lengths = [41, 41, 50, 115, 60, 77]
        let bins = PrepareReport.histogram(lengths)
        XCTAssertEqual(bins.first?.lower, 41)
        XCTAssertEqual(bins.reduce(0) { $0 + $1.count }, lengths.count)
        XCTAssertTrue(bins.last.map { $0.lower <= 115 && 115 < $0.upper } ?? false)
        XCTAssertLessThanOrEqual(bins.count, 16)
        XCTAssertEqual(PrepareReport.histogram([7, 7]), [HistogramBin(lower: 7, upper: 8, count: 2)])
        XCTAssertEqual(PrepareReport.histogram([]), [])
    }
}
