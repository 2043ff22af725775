// Token-weighted NLL and perplexity against Python's float arithmetic (Fixtures/lm.json).

import TailorMetrics
import XCTest

final class LanguageModelingMetricsTests: XCTestCase {
    // Tolerance 1e-12 relative: same left-to-right sum; exp may differ in the last ulp.
    func testMatchesReference() throws {
        let f = try Fixture.load("lm.json")
        let pairs = try XCTUnwrap(f["pairs"]?.arrayValue).map { p -> (sumNLL: Double, tokenCount: Int) in
            let d = p.doubles
            return (d[0], Int(d[1]))
        }
        let r = try LanguageModelingMetrics.compute(pairs)
        assertClose(r.meanNLL, f["mean_nll"]?.double ?? -1, rel: 1e-12)
        assertClose(r.perplexity, f["perplexity"]?.double ?? -1, rel: 1e-12)
        XCTAssertEqual(r.tokenCount, Int(f["total_tokens"]?.double ?? -1))
        XCTAssertThrowsError(try LanguageModelingMetrics.compute([(0, 0)]))
        XCTAssertThrowsError(try LanguageModelingMetrics.compute([(.nan, 3)]))
    }
}
