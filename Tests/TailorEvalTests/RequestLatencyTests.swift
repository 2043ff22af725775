// Request-level latency: percentiles as numpy computes them, every request served, cost from the price.
import XCTest
import TailorEval
import TailorKernels
import TailorModels

final class RequestLatencyTests: XCTestCase {
    func testPercentilesAreNumpyLinear() {
        let stats = LatencyStatistics((0...100).map(Double.init).shuffled())
        XCTAssertEqual(stats.p50, 50)
        XCTAssertEqual(stats.p95, 95)
        XCTAssertEqual(stats.p99, 99)
        // numpy.percentile([1, 2, 3, 4], 95) = 3.85
        XCTAssertEqual(LatencyStatistics([4, 1, 3, 2]).p95, 3.85, accuracy: 1e-12)
    }

    func testServesEveryRequestInGroupsAndPricesTheTokens() throws {
        let model = try Fixtures.tinyModel("tiny-llama").model
        let prompts: [[Int32]] = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10, 11, 12], [13]]
        let report = try LatencyBenchmark.serve(prompts: prompts, model: model, maxNewTokens: 4, concurrency: 2,
                                                pricePerHour: 3.6, stopTokens: [], backend: CPUBackend())
        XCTAssertEqual(report.requests, 5)
        XCTAssertEqual(report.latency.count, 5)
        XCTAssertEqual(report.generatedTokens, 20, "no stop tokens: every request generates all 4 tokens")
        // $3.6 per hour = $0.001 per second; cost per 1k tokens = 0.001 / tokens-per-second × 1000.
        let expected = 0.001 / report.generatedTokensPerSecond * 1000
        XCTAssertEqual(try XCTUnwrap(report.costPer1kTokens), expected, accuracy: expected * 1e-9)
        XCTAssertThrowsError(try LatencyBenchmark.serve(prompts: [], model: model, maxNewTokens: 4, concurrency: 1,
                                                        pricePerHour: nil, stopTokens: [], backend: CPUBackend()))
    }
}
