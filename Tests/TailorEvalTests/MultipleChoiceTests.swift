// Per-choice log-likelihoods against transformers (tiny models on ids, SmolLM2 on ids from its tokenizer).
import Foundation
import TailorEval
import TailorKernels
import TailorModels
import XCTest

final class MultipleChoiceTests: XCTestCase {
    /// transformers runs f32 logits with a f64 log-softmax; we run f32 logits (a different BLAS summation order,
    /// and right-padded batches) with a f64 log-softmax: sums of up to 5 log-probs agree to ~1e-6 relative.
    let tolerance = 1e-4

    func testTinyModelsMatchTransformers() throws {
        let fixture = try Fixtures.decode(TinyMCFixture.self, "mc_tiny.json")
        XCTAssertEqual(fixture.models.count, 2)
        for entry in fixture.models {
            let model = try Fixtures.tinyModel(entry.model).model
            let requests = entry.questions.flatMap { q in
                q.choices.map { ContinuationRequest(context: q.context, continuation: $0) }
            }
            // Small maxBatchTokens: several right-padded batches of unequal rows.
            for budget in [1, 24, 4096] {
                let scores = try LogLikelihood.score(requests, model: model, backend: CPUBackend(), maxBatchTokens: budget)
                let expected = entry.questions.flatMap(\.loglikelihoods)
                let greedy = entry.questions.flatMap(\.is_greedy)
                XCTAssertEqual(scores.count, expected.count)
                for (i, (s, e)) in zip(scores, expected).enumerated() {
                    XCTAssertLessThanOrEqual(abs(s.logLikelihood - e) / max(abs(e), 1), tolerance,
                                             "\(entry.model) request \(i) budget \(budget): \(s.logLikelihood) vs \(e)")
                    XCTAssertEqual(s.isGreedy, greedy[i], "\(entry.model) request \(i) is_greedy")
                }
            }
            for q in entry.questions {
                let question = MultipleChoiceQuestion(line: 1, question: "", choices: q.choices.map { _ in "x" }, answer: 0)
                XCTAssertEqual(MultipleChoiceEvaluator.outcome(question: question, logLikelihoods: q.loglikelihoods).predicted,
                               q.argmax)
            }
        }
    }

    func testSmolLM2MatchesTransformers() throws {
        let gguf = try Fixtures.smolLM2()
        let fixture = try Fixtures.decode(SmolMCFixture.self, "mc_smollm2.json")
        let chat = try ChatModel(loaded: LoadedModel.load(from: gguf))
        let tokenize = { (text: String) in chat.tokenizer.encode(text, addSpecialTokens: false).map(Int32.init) }
        let evaluator = MultipleChoiceEvaluator()
        var requests: [ContinuationRequest] = []
        for q in fixture.questions {
            let question = MultipleChoiceQuestion(line: q.line, question: q.question, choices: q.choices, answer: q.answer)
            let ours = evaluator.requests(for: question, tokenize: tokenize)
            // Same split as lm-evaluation-harness with transformers' tokenizer (digit-free text).
            XCTAssertEqual(ours.map(\.context), q.contexts, "line \(q.line) context ids")
            XCTAssertEqual(ours.map(\.continuation), q.continuations, "line \(q.line) continuation ids")
            requests += zip(q.contexts, q.continuations).map { ContinuationRequest(context: $0, continuation: $1) }
        }
        let scores = try LogLikelihood.score(requests, model: chat.model, backend: CPUBackend())
        for (i, (s, e)) in zip(scores, fixture.questions.flatMap(\.loglikelihoods)).enumerated() {
            XCTAssertLessThanOrEqual(abs(s.logLikelihood - e) / max(abs(e), 1), tolerance, "request \(i): \(s.logLikelihood) vs \(e)")
        }
    }

    func testEncodePairMovesTrailingSpaceAndSplitsAfterContext() {
        // A character-level stand-in tokenizer: one id per scalar.
        let tokenize = { (text: String) in text.unicodeScalars.map { Int32($0.value) } }
        let pair = MultipleChoicePromptFormat().encodePair(context: "Q: a ", continuation: "b", tokenize: tokenize)
        XCTAssertEqual(pair.context, tokenize("Q: a"))
        XCTAssertEqual(pair.continuation, tokenize(" b"))
    }

    func testAccNormDividesByBytes() {
        let q = MultipleChoiceQuestion(line: 3, question: "q", choices: ["ab", "abcdefgh"], answer: 1)
        // Raw: -4 > -6 picks 0; normalised: -4/2 = -2 < -6/8 = -0.75 picks 1.
        let o = MultipleChoiceEvaluator.outcome(question: q, logLikelihoods: [-4, -6])
        XCTAssertEqual(o.predicted, 0)
        XCTAssertEqual(o.predictedNormalized, 1)
        XCTAssertEqual(o.byteLengths, [2, 8])
        let summary = MultipleChoiceSummary(outcomes: [o])
        XCTAssertEqual(summary.accuracy, 0)
        XCTAssertEqual(summary.accuracyNormalized, 1)
    }

    func testForgettingFlagsDropBeyondThreshold() {
        func summary(_ acc: Double) -> MultipleChoiceSummary {
            var s = MultipleChoiceSummary(outcomes: [])
            s.accuracy = acc
            s.accuracyNormalized = acc
            return s
        }
        XCTAssertTrue(ForgettingCheck(base: summary(0.60), tuned: summary(0.50)).flagged)
        XCTAssertFalse(ForgettingCheck(base: summary(0.60), tuned: summary(0.57)).flagged)
        XCTAssertFalse(ForgettingCheck(base: summary(0.50), tuned: summary(0.70)).flagged)
        XCTAssertEqual(ForgettingCheck(base: summary(0.60), tuned: summary(0.50), threshold: 5).drop, 10, accuracy: 1e-9)
    }

    func testEmptyContinuationIsANamedError() throws {
        let model = try Fixtures.tinyModel("tiny-llama").model
        XCTAssertThrowsError(try LogLikelihood.score([ContinuationRequest(context: [], continuation: [5])], model: model,
                                                     backend: CPUBackend())) { error in
            XCTAssertTrue("\(error)".contains("context and continuation"), "\(error)")
        }
        XCTAssertThrowsError(try LogLikelihood.score([ContinuationRequest(context: [1], continuation: [9999])], model: model,
                                                     backend: CPUBackend())) { error in
            XCTAssertTrue("\(error)".contains("outside the vocabulary"), "\(error)")
        }
    }
}
