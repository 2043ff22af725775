// The encode-throughput measurement `tailor bench tokenizer` reports.
import Foundation
import TailorEval
import TailorTokenizers
import XCTest

final class TokenizerBenchmarkTests: XCTestCase {
    func testBenchmarkCountsBytes() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TailorTokenizersTests/Fixtures/smollm2").standardized
        let tokenizer = try Tokenizer(directory: folder)
        let texts = (0..<50).map { "Row \($0): the quick brown fox jumps over the lazy dog, \($0 * 7) times." }
        for threads in [1, 2] {
            let result = TokenizerBenchmark.run(tokenizer: tokenizer, texts: texts, threads: threads)
            XCTAssertEqual(result.bytes, texts.reduce(0) { $0 + $1.utf8.count })
            XCTAssertGreaterThan(result.seconds, 0)
        }
    }
}
