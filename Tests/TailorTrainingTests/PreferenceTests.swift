// DPO (sigmoid, IPO, hinge, robust, reference-free), ORPO and SimPO against TRL 1.16.0 on tiny-llama.
// Fixtures: Fixtures/dpo/ from tools/reference/dpo_fixtures.py (pairs as TRL tokenized them).
import Foundation
import XCTest
import TailorData
import TailorFormats
import TailorKernels
import TailorModels
import TailorTensor
@testable import TailorTraining

final class PreferenceTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dpo")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func pairs() throws -> [PreferencePair] {
        try PreferenceData.readTokenized(fixtures.appendingPathComponent("pairs.jsonl"), vocabularySize: 256, maxLength: 1024).pairs
    }

    static func configuration(_ method: TrainingMethod, objective: TrainingObjective, learningRate: Double) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.computeDType = .f32   // the references are f32 runs
        c.method = method
        c.objective = objective
        c.learningRate = learningRate
        c.batchSize = 2
        c.maxLength = 1024
        c.shuffle = false
        c.loraDropout = 0
        c.maxGradNorm = 1
        return c
    }

    static func trainer(_ c: TrainingConfiguration, pairs: [PreferencePair]) throws -> (Trainer, URL) {
        let (model, config, _, _) = try TrajectoryTests.load("tiny-llama")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-dpo-\(UUID())")
        let trainer = try Trainer(model: model, modelConfig: config, baseModelName: "tiny-llama", configuration: c, train: [],
                                  pairs: pairs, outputDirectory: out, padID: 0, backend: CPUBackend())
        return (trainer, out)
    }

    /// `ours` within 1e-4 relative of `theirs`; log-prob-derived metrics relative to the log-probs' scale
    /// (a reward is β·(logp − ref): an f32 rounding of logp moves it by β·|logp|·ε, however small the reward is).
    func assertClose(_ ours: Double, _ theirs: Double, scale: Double = 0, _ what: String) {
        XCTAssertEqual(ours, theirs, accuracy: 1e-4 * max(abs(theirs), scale), what)
    }

    func assertMetrics(_ m: PreferenceMetrics?, _ expected: [String: Any], logScale: Double, beta: Double, _ what: String) {
        guard let m else { return XCTFail("\(what): no preference metrics") }
        let values: [(String, Double, Double)] = [
            ("rewards/chosen", m.rewardsChosen, beta * logScale), ("rewards/rejected", m.rewardsRejected, beta * logScale),
            ("rewards/margins", m.rewardsMargins, beta * logScale), ("rewards/accuracies", m.rewardsAccuracies, 0),
            ("logps/chosen", m.logpsChosen, 0), ("logps/rejected", m.logpsRejected, 0),
        ]
        for (key, ours, scale) in values {
            guard let theirs = expected[key] as? Double else { XCTFail("\(what): fixture lacks \(key)"); continue }
            assertClose(ours, theirs, scale: scale, "\(what) \(key)")
        }
    }

    func testDPOLossTypesMatchTRL() throws {
        let expected = try Self.json("losses.json")
        let pairs = Array(try Self.pairs().prefix(4))
        let refC = try XCTUnwrap(expected["ref_chosen_logps"] as? [Double]), refR = try XCTUnwrap(expected["ref_rejected_logps"] as? [Double])
        for name in ["sigmoid", "ipo", "hinge", "robust", "reference_free"] {
            let e = try XCTUnwrap(expected[name] as? [String: Any])
            var c = Self.configuration(.full, objective: .dpo, learningRate: 1e-4)
            c.batchSize = 4
            c.beta = try XCTUnwrap(e["beta"] as? Double)
            c.labelSmoothing = try XCTUnwrap(e["label_smoothing"] as? Double)
            c.lossType = name == "reference_free" ? .sigmoid : try XCTUnwrap(DPOLossType(rawValue: name))
            c.referenceFree = name == "reference_free"
            var (trainer, out) = try Self.trainer(c, pairs: pairs)
            defer { try? FileManager.default.removeItem(at: out) }
            trainer.reference = .cached(chosen: refC, rejected: refR)
            var gradients = LlamaGradients(for: trainer.model.weights, fullFineTuning: true)
            let result = trainer.accumulatePreferenceGradients(step: 0, into: &gradients)
            let norm = trainer.slots.reduce(0.0) { sum, s in
                sum + (gradients[s.slot]?.floats().reduce(0.0) { $0 + Double($1) * Double($1) } ?? 0)
            }.squareRoot()
            assertClose(result.loss, try XCTUnwrap(e["loss"] as? Double), "\(name) loss")
            assertClose(norm, try XCTUnwrap(e["grad_norm"] as? Double), "\(name) gradient norm")
            assertMetrics(result.metrics, e, logScale: 40, beta: c.beta, name)
        }
    }

    /// Ten DPOTrainer steps (f32, cosine, warmup 2, weight decay 0.01) against TRL's log, one fixture per reference:
    /// full with precomputed log-probs (also compared with the cached file) or a frozen copy (TRL's ref_model);
    /// LoRA from `lora-init` (TRL's "ref" adapter copy) or a new adapter (the base with the adapter disabled).
    func testDPOTrajectoriesMatchTRL() throws {
        let pairs = try Self.pairs()
        let initAdapter = TrajectoryTests.fixtures.appendingPathComponent("tiny-llama/lora-init")
        let cases: [(fixture: String, method: TrainingMethod, precompute: Bool, startingAdapter: Bool)] = [
            ("dpo_full", .full, true, false), ("dpo_full_frozen", .full, false, false),
            ("dpo_lora", .lora, false, true), ("dpo_lora_new", .lora, false, false),
        ]
        for (fixture, method, precompute, startingAdapter) in cases {
            let expected = try Self.json("\(fixture).json")
            var c = Self.configuration(method, objective: .dpo, learningRate: try XCTUnwrap(expected["learning_rate"] as? Double))
            c.maxSteps = 10
            c.lrSchedulerType = .cosine
            c.warmupSteps = 2
            c.weightDecay = 0.01
            c.precomputeRefLogProbs = precompute
            c.loraR = 4
            c.loraAlpha = 8
            if startingAdapter { c.initAdapter = initAdapter.path }
            var (trainer, out) = try Self.trainer(c, pairs: pairs)
            defer { try? FileManager.default.removeItem(at: out) }
            if method == .lora && !startingAdapter {
                // TRL's new adapter with lora-init's weights set after creation (so the policy starts away from the
                // base): the same here, the reference still being the base with the adapter off.
                _ = try PEFTAdapter.load(from: initAdapter, into: &trainer.model.weights)
            }
            try trainer.run()
            if precompute {
                let ref = try XCTUnwrap(expected["reference_logps"] as? [String: [Double]])
                let cached = try JSONDecoder().decode(ReferenceLogProbsFile.self,
                                                      from: Data(contentsOf: out.appendingPathComponent(Trainer.referenceFileName)))
                for (ours, theirs) in zip(cached.chosen + cached.rejected, (ref["chosen"] ?? []) + (ref["rejected"] ?? [])) {
                    assertClose(ours, theirs, "\(fixture) reference log-prob")
                }
            } else {
                guard case .weights = trainer.reference else { return XCTFail("\(fixture): expected reference weights") }
                XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(Trainer.referenceFileName).path))
            }
            let steps = try XCTUnwrap(expected["steps"] as? [[String: Any]])
            XCTAssertEqual(trainer.history.count, steps.count)
            for (ours, theirs) in zip(trainer.history, steps) {
                let what = "\(fixture) step \(ours.step)"
                assertClose(ours.loss, try XCTUnwrap(theirs["loss"] as? Double), "\(what) loss")
                assertClose(ours.gradNorm, try XCTUnwrap(theirs["grad_norm"] as? Double), "\(what) grad norm")
                XCTAssertEqual(ours.learningRate, try XCTUnwrap(theirs["learning_rate"] as? Double), accuracy: 1e-12, "\(what) lr")
                assertMetrics(ours.preference, theirs, logScale: 40, beta: c.beta, what)
            }
        }
    }

    /// Full fine-tuning's frozen copy stays the starting model while the trained weights move.
    func testFullFineTuningReferenceIsAFrozenCopy() throws {
        var c = Self.configuration(.full, objective: .dpo, learningRate: 1e-2)
        c.maxSteps = 2
        var (trainer, out) = try Self.trainer(c, pairs: try Self.pairs())
        defer { try? FileManager.default.removeItem(at: out) }
        try trainer.run()
        guard case .weights(let reference) = trainer.reference else { return XCTFail("expected a frozen copy") }
        try assertReferenceIsTheBase(reference, trainer: trainer)
    }

    /// After training moved the policy, `reference` still gives the base model's own log-probs, and the policy does not.
    func assertReferenceIsTheBase(_ reference: LlamaWeights, trainer: Trainer) throws {
        let (base, _, _, _) = try TrajectoryTests.load("tiny-llama")
        let batch = trainer.preferenceBatch([0, 1, 2])
        let baseLogProbs = batch.logProbs(under: base, backend: CPUBackend()).sums
        for (r, b) in zip(trainer.referenceLogProbs(batch, weights: reference), baseLogProbs) { XCTAssertEqual(r, b, accuracy: 1e-9) }
        let policy = batch.logProbs(under: trainer.model, backend: CPUBackend()).sums
        XCTAssertGreaterThan(zip(policy, baseLogProbs).map { abs($0 - $1) }.max() ?? 0, 1e-3, "training moved the policy")
    }

    func testORPOAndSimPOStepsMatchTRL() throws {
        let pairs = try Self.pairs()
        for objective in [TrainingObjective.orpo, .simpo] {
            let expected = try Self.json("\(objective.rawValue).json")
            var c = Self.configuration(.full, objective: objective, learningRate: 1e-3)
            c.maxSteps = 3
            c.lrSchedulerType = .constant
            c.beta = try XCTUnwrap(expected["beta"] as? Double)
            c.simpoGamma = try XCTUnwrap(expected["simpo_gamma"] as? Double)
            var (trainer, out) = try Self.trainer(c, pairs: pairs)
            defer { try? FileManager.default.removeItem(at: out) }
            try trainer.run()
            let steps = try XCTUnwrap(expected["steps"] as? [[String: Any]])
            XCTAssertEqual(trainer.history.count, steps.count)
            for (ours, theirs) in zip(trainer.history, steps) {
                let what = "\(objective) step \(ours.step)"
                assertClose(ours.loss, try XCTUnwrap(theirs["loss"] as? Double), "\(what) loss")
                assertClose(ours.gradNorm, try XCTUnwrap(theirs["grad_norm"] as? Double), "\(what) grad norm")
                assertMetrics(ours.preference, theirs, logScale: 8, beta: c.beta, what)
            }
        }
    }

    /// A new LoRA adapter's reference is the base with adapters off: after training moved the adapter, the reference
    /// log-probs are still the base model's own, and the policy's are not.
    func testNewAdapterReferenceIsTheBaseWithAdaptersOff() throws {
        var c = Self.configuration(.lora, objective: .dpo, learningRate: 1e-2)
        c.maxSteps = 3
        var (trainer, out) = try Self.trainer(c, pairs: try Self.pairs())
        defer { try? FileManager.default.removeItem(at: out) }
        try trainer.run()
        guard case .weights(let reference) = trainer.reference else { return XCTFail("expected adapter-off reference weights") }
        XCTAssertTrue(reference.layers.allSatisfy { layer in LinearSlot.allCases.allSatisfy { layer[linear: $0]?.lora == nil } })
        try assertReferenceIsTheBase(reference, trainer: trainer)
    }

    /// The derivatives the backward uses, against central differences of the loss.
    func testPairLossDerivativesMatchFiniteDifferences() {
        let p = PairLogProbs(chosen: -12.5, rejected: -9.25, referenceChosen: -11, referenceRejected: -10.5, chosenTokens: 5, rejectedTokens: 3)
        var objectives: [PreferenceObjective] = DPOLossType.allCases.map { PreferenceObjective(objective: .dpo, lossType: $0, beta: 0.3, labelSmoothing: 0.2) }
        objectives += [PreferenceObjective(objective: .orpo, beta: 0.1), PreferenceObjective(objective: .simpo, beta: 2, labelSmoothing: 0.1, simpoGamma: 0.5)]
        for o in objectives {
            let h = 1e-5, l = o.pairLoss(p)
            var up = p, down = p
            up.chosen += h; down.chosen -= h
            XCTAssertEqual(l.dChosen, (o.pairLoss(up).loss - o.pairLoss(down).loss) / (2 * h), accuracy: 1e-6, "\(o) chosen")
            up = p; down = p
            up.rejected += h; down.rejected -= h
            XCTAssertEqual(l.dRejected, (o.pairLoss(up).loss - o.pairLoss(down).loss) / (2 * h), accuracy: 1e-6, "\(o) rejected")
        }
    }

    func testBadPairsAreNamedByLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-bad-pairs-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let rows = [
            #"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [8, 2]}"#,
            #"{"prompt_ids": [5, 6], "rejected_ids": [8, 2]}"#,
            #"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [7, 2]}"#,
            #"{"prompt_ids": [5, 6, 7, 8], "chosen_ids": [7, 2], "rejected_ids": [9, 2]}"#,
            #"{"prompt_ids": [5], "chosen_ids": [999], "rejected_ids": [9, 2]}"#,
        ]
        try rows.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PreferenceData.readTokenized(url, vocabularySize: 256, maxLength: 4)) { error in
            XCTAssertEqual("\(error)", "\(url.path):2: missing \"chosen_ids\"")
        }
        let (pairs, skipped) = try PreferenceData.readTokenized(url, vocabularySize: 256, maxLength: 4, skipBad: true)
        XCTAssertEqual(pairs.count, 1)
        XCTAssertEqual(skipped, 4)   // missing chosen, identical pair, prompt of 4 ≥ max_length 4, id out of range
        var c = Self.configuration(.lora, objective: .dpo, learningRate: 1e-3)
        c.beta = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "beta: must be positive, got 0.0") }
    }
}
