// ROUGE and the Porter stemmer against rouge-score 0.1.2 and nltk 3.10.4 (Fixtures/rouge.json, porter.json).

import TailorMetrics
import XCTest

final class RougeTests: XCTestCase {
    func testPorterStemmerByteExact() throws {
        let f = try Fixture.load("porter.json")
        let words = try XCTUnwrap(f["words"]).strings
        let stems = try XCTUnwrap(f["stems"]).strings
        XCTAssertEqual(words.count, stems.count)
        XCTAssertGreaterThan(words.count, 10000)
        let stemmer = PorterStemmer()
        var failed = 0
        for (w, s) in zip(words, stems) where stemmer.stem(w) != s {
            failed += 1
            if failed <= 20 { XCTFail("stem(\(w)) = \(stemmer.stem(w)), nltk: \(s)") }
        }
        print("porter: \(words.count) words, \(failed) differ")
    }

    // Tolerance 1e-9 relative: same counts and the same division order as rouge-score.
    func testMatchesRougeScore() throws {
        let f = try Fixture.load("rouge.json")
        let t = Tally()
        for (mode, stem) in [("plain", false), ("stemmed", true)] {
            let items = try XCTUnwrap(f[mode]?["items"]?.arrayValue)
            XCTAssertGreaterThanOrEqual(items.count, 400)
            var preds: [String] = []
            var refs: [[String]] = []
            for (i, it) in items.enumerated() {
                let p = try XCTUnwrap(it["prediction"]?.stringValue)
                let r = try XCTUnwrap(it["reference"]?.stringValue)
                let multi = try XCTUnwrap(it["references"]).strings
                preds.append(p)
                refs.append([r])
                t.equal(Rouge.tokenize(p, useStemmer: stem), try XCTUnwrap(it["tokens"]).strings, "\(mode) \(i) tokens")
                let s = Rouge.score(prediction: p, reference: r, useStemmer: stem)
                let m = Rouge.scoreMulti(prediction: p, references: multi, useStemmer: stem)
                for (key, got, gotMulti) in [("rouge1", s.rouge1, m.rouge1), ("rouge2", s.rouge2, m.rouge2),
                                             ("rougeL", s.rougeL, m.rougeL), ("rougeLsum", s.rougeLsum, m.rougeLsum)] {
                    let e = try XCTUnwrap(it["scores"]?[key]).doubles
                    let em = try XCTUnwrap(it["multi"]?[key]).doubles
                    t.close(got.precision, e[0], "\(mode) \(i) \(key) P")
                    t.close(got.recall, e[1], "\(mode) \(i) \(key) R")
                    t.close(got.fmeasure, e[2], "\(mode) \(i) \(key) F")
                    t.close(gotMulti.precision, em[0], "\(mode) \(i) \(key) multi P")
                    t.close(gotMulti.recall, em[1], "\(mode) \(i) \(key) multi R")
                    t.close(gotMulti.fmeasure, em[2], "\(mode) \(i) \(key) multi F")
                }
            }
            let c = try Rouge.corpus(predictions: preds, references: refs, useStemmer: stem)
            // numpy's mean sums pairwise; 1e-12 relative covers the reordering over ~400 terms.
            for (key, got) in [("rouge1", c.rouge1), ("rouge2", c.rouge2), ("rougeL", c.rougeL),
                               ("rougeLsum", c.rougeLsum)] {
                t.close(got.fmeasure, f[mode]?["mean_f"]?[key]?.double ?? -1, rel: 1e-12, "\(mode) mean \(key)")
            }
        }
        XCTAssertEqual(t.failed, 0)
        print("rouge: \(t.checked) values checked, \(t.failed) failed")
    }
}
