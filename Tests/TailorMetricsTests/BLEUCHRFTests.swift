// BLEU and chrF against sacrebleu 2.6.0 (Fixtures/bleu_chrf.json).

import TailorMetrics
import XCTest

final class BLEUCHRFTests: XCTestCase {
    private func check(_ got: BLEUScore, _ e: MetricsJSON?, _ t: Tally, _ what: String) {
        guard let e else { return XCTFail("missing \(what)") }
        t.close(got.score, e["score"]?.double ?? -1, "\(what) score")
        t.close(got.bp, e["bp"]?.double ?? -1, "\(what) bp")
        t.equal(got.sysLen, Int(e["sys_len"]?.double ?? -1), "\(what) sys_len")
        t.equal(got.refLen, Int(e["ref_len"]?.double ?? -1), "\(what) ref_len")
        t.equal(got.counts, e["counts"]?.ints ?? [], "\(what) counts")
        t.equal(got.totals, e["totals"]?.ints ?? [], "\(what) totals")
        for (a, b) in zip(got.precisions, e["precisions"]?.doubles ?? []) { t.close(a, b, "\(what) precision") }
    }

    // Tolerance 1e-9 relative: integer statistics are exact; the final exp/log may differ in the last ulp.
    func testMatchesSacreBLEU() throws {
        let f = try Fixture.load("bleu_chrf.json")
        let hyps = try XCTUnwrap(f["hypotheses"]).strings
        let streams = try XCTUnwrap(f["references"]?.arrayValue).map(\.strings)
        XCTAssertGreaterThanOrEqual(hyps.count, 400)
        let t = Tally()
        let tokenized = try XCTUnwrap(f["tokenized"]).strings
        for (i, text) in (hyps + streams[0]).enumerated() {
            let s = Array(text.unicodeScalars)
            var end = s.count
            while end > 0 && PythonText.isWhitespace(s[end - 1]) { end -= 1 }
            t.equal(Tokenizer13a.tokenize(PythonText.string(from: s[0..<end])), tokenized[i], "13a \(i) \(text.debugDescription)")
        }
        let refs1 = streams[0].map { [$0] }
        let refs3 = hyps.indices.map { i in streams.map { $0[i] } }
        check(try BLEU.corpus(hypotheses: hyps, references: refs1), f["corpus_bleu_1ref"], t, "corpus 1ref")
        check(try BLEU.corpus(hypotheses: hyps, references: refs3), f["corpus_bleu_3ref"], t, "corpus 3ref")
        check(try BLEU(lowercase: true).corpusScore(hypotheses: hyps, references: refs1), f["corpus_bleu_lowercase"],
              t, "corpus lowercase")
        for (i, e) in try XCTUnwrap(f["sentence_bleu"]?.arrayValue).enumerated() {
            check(BLEU.sentence(hypothesis: hyps[i], references: refs1[i]), e, t, "sentence \(i)")
        }
        for (i, e) in try XCTUnwrap(f["sentence_bleu_3ref"]?.arrayValue).enumerated() {
            check(BLEU.sentence(hypothesis: hyps[i], references: refs3[i]), e, t, "sentence 3ref \(i)")
        }
        t.close(try CHRF.corpus(hypotheses: hyps, references: refs1), f["corpus_chrf_1ref"]?.double ?? -1, "chrF 1ref")
        t.close(try CHRF.corpus(hypotheses: hyps, references: refs3), f["corpus_chrf_3ref"]?.double ?? -1, "chrF 3ref")
        t.close(try CHRF(wordOrder: 2).corpusScore(hypotheses: hyps, references: refs1),
                f["corpus_chrfpp_1ref"]?.double ?? -1, "chrF++")
        for (i, e) in try XCTUnwrap(f["sentence_chrf"]?.arrayValue).enumerated() {
            t.close(CHRF.sentence(hypothesis: hyps[i], references: refs1[i]), e.double, "sentence chrF \(i)")
        }
        for (i, e) in try XCTUnwrap(f["sentence_chrf_3ref"]?.arrayValue).enumerated() {
            t.close(CHRF.sentence(hypothesis: hyps[i], references: refs3[i]), e.double, "sentence chrF 3ref \(i)")
        }
        XCTAssertEqual(t.failed, 0)
        print("bleu/chrf: \(t.checked) values checked, \(t.failed) failed")
    }
}
