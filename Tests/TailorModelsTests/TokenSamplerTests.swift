// The sampler against two oracles: the whole vocabulary sorted before every draw (what the sampler did before it
// sorted lazily), pick for pick; and the filtered softmax itself, by the frequencies of many draws.
import Foundation
import XCTest
import TailorTensor
@testable import TailorModels

final class TokenSamplerTests: XCTestCase {
    /// The sampler's rule written plainly: every token sorted (scaled logit descending, ties by id), top-k, softmax,
    /// top-p, one uniform draw walked down the list.
    struct FullSortSampler {
        let options: GenerationOptions
        var rng: SplitMix64

        mutating func pick(_ logits: [Float]) -> Int32 {
            let t = options.temperature
            var candidates = logits.enumerated().map { (id: $0.offset, logit: $0.element.isNaN ? -Float.infinity : $0.element / t) }
            candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
            if options.topK > 0 && options.topK < candidates.count { candidates.removeLast(candidates.count - options.topK) }
            let best = candidates[0].logit
            let weights = candidates.map { Foundation.exp(Double($0.logit - best)) }
            var total = 0.0
            if options.topK > 0 && options.topK < logits.count {
                for w in weights { total += w }
            } else {
                // the sampler sums every token in id order when nothing is cut by top-k
                for logit in logits where !logit.isNaN { total += Foundation.exp(Double(logit / t - best)) }
            }
            var probabilities = weights.map { $0 / total }, kept = 1.0
            if options.topP < 1 {
                var cumulative = 0.0, keep = 0
                while keep < probabilities.count { cumulative += probabilities[keep]; keep += 1; if cumulative >= Double(options.topP) { break } }
                probabilities.removeLast(probabilities.count - keep)
                kept = cumulative
            }
            var draw = Double(rng.next() >> 11) / Double(1 << 53)
            for (i, p) in probabilities.enumerated() {
                draw -= p / kept
                if draw < 0 { return Int32(candidates[i].id) }
            }
            return Int32(candidates[probabilities.count - 1].id)
        }
    }

    static func logitRows() -> [(String, [Float])] {
        var rng = SplitMix64(seed: 5)
        func uniform() -> Float { Float(Double(rng.next() >> 11) / Double(1 << 53)) }
        let spread = (0..<1000).map { _ in 12 * uniform() - 6 }
        var ties = (0..<500).map { i in Float(i % 7) }
        ties[3] = -.infinity
        ties[10] = .nan
        ties[11] = -.infinity
        let peaked = (0..<1500).map { i in i == 17 ? Float(30) : (i % 9 == 0 ? Float(12) : -2 * uniform()) }
        return [("spread", spread), ("ties, -inf and NaN", ties), ("peaked", peaked)]
    }

    func testPicksEqualAFullSortBeforeEveryDraw() {
        let settings: [(Float, Int, Float)] = [(1, 0, 1), (0.7, 0, 1), (0.7, 40, 1), (1.3, 0, 0.9), (0.5, 25, 0.8), (2, 900, 0.95)]
        for (name, logits) in Self.logitRows() {
            for (temperature, topK, topP) in settings {
                // The default window, and one so narrow that most draws walk past the first sort.
                for window: Float in [CandidateOrder.defaultWindow, 0.25] {
                    let options = GenerationOptions(temperature: temperature, topK: topK, topP: topP, seed: 99)
                    var sampler = TokenSampler(options: options)
                    sampler.window = window
                    var oracle = FullSortSampler(options: options, rng: SplitMix64(seed: 99))
                    let picks = (0..<60).map { _ in logits.withUnsafeBufferPointer { sampler.pick(from: $0) } }
                    let expected = (0..<60).map { _ in oracle.pick(logits) }
                    XCTAssertEqual(picks, expected, "\(name), T \(temperature), top-k \(topK), top-p \(topP), window \(window)")
                }
            }
        }
    }

    func testFrequenciesFollowTheFilteredSoftmax() {
        let logits: [Float] = [2, 1, 0.5, 0, -1, 1, -3, 0.25]
        func softmax(_ ids: [Int], _ t: Float) -> [Int: Double] {
            let w = ids.map { Foundation.exp(Double(logits[$0] / t)) }, total = w.reduce(0, +)
            return Dictionary(uniqueKeysWithValues: zip(ids, w.map { $0 / total }))
        }
        // Order by logit: 0 (2), 1 and 5 (1, ties by id), 2 (0.5), 7 (0.25), 3 (0), 4 (-1), 6 (-3).
        let cases: [(GenerationOptions, [Int: Double])] = [
            (GenerationOptions(temperature: 0.8, seed: 1), softmax(Array(0..<8), 0.8)),
            (GenerationOptions(temperature: 1, topK: 3, seed: 2), softmax([0, 1, 5], 1)),
            // p(0) ≈ 0.38, p(1) = p(5) ≈ 0.14 at T = 1: 0.6 is reached with 0, 1 and 5.
            (GenerationOptions(temperature: 1, topP: 0.6, seed: 3), softmax([0, 1, 5], 1)),
        ]
        let draws = 20_000
        for (options, expected) in cases {
            var sampler = TokenSampler(options: options)
            var counts = [Int: Int]()
            for _ in 0..<draws { counts[Int(logits.withUnsafeBufferPointer { sampler.pick(from: $0) }), default: 0] += 1 }
            XCTAssertEqual(Set(counts.keys), Set(expected.keys), "tokens drawn with \(options)")
            for (id, p) in expected {
                let sigma = (p * (1 - p) / Double(draws)).squareRoot()
                XCTAssertEqual(Double(counts[id] ?? 0) / Double(draws), p, accuracy: 5 * sigma, "token \(id) with \(options)")
            }
        }
    }

    func testGreedyTakesTheFirstMaximumAndBadRowsPickSomething() {
        var greedy = TokenSampler(options: GenerationOptions(temperature: 0))
        XCTAssertEqual([Float](arrayLiteral: 1, 3, 3, 2).withUnsafeBufferPointer { greedy.pick(from: $0) }, 1)
        var sampler = TokenSampler(options: GenerationOptions(temperature: 0.7))
        XCTAssertEqual([Float](arrayLiteral: .nan, .nan).withUnsafeBufferPointer { sampler.pick(from: $0) }, 0)
        XCTAssertEqual([Float](arrayLiteral: 0, .infinity, 1).withUnsafeBufferPointer { sampler.pick(from: $0) }, 1)
        XCTAssertEqual([Float](arrayLiteral: .nan, -.infinity, 4).withUnsafeBufferPointer { sampler.pick(from: $0) }, 2)
    }
}
