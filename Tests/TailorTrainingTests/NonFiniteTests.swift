// A NaN in the loss stops training with a message naming the step, and leaves the last checkpoint intact; with
// skip_non_finite_steps the step is skipped instead.
import Foundation
import XCTest
import TailorKernels
import TailorModels
import TailorTensor
import TailorTraining

final class NonFiniteTests: XCTestCase {
    /// tiny-llama whose embedding row of token 250 is NaN, and data where only rows 8+ use that token
    /// (batch 2 × accumulation 2: optimizer step 3 is the first to see it).
    func setUp(_ skip: Bool, out: URL? = nil) throws -> (Trainer, URL) {
        let (model, config, _, _) = try TrajectoryTests.load("tiny-llama")
        var weights = model.weights
        weights.embedding = weights.embedding.converted(to: .f32)
        weights.embedding.withUnsafeMutableFloats { e in for j in 0..<64 { e[250 * 64 + j] = .nan } }
        let rows = (0..<16).map { (i: Int) -> TrainingExample in
            var ids: [Int32] = (0..<6).map { (j: Int) -> Int32 in Int32((i * 7 + j) % 200 + 1) }
            if i >= 8 { ids[3] = 250 }
            return TrainingExample(inputIDs: ids)
        }
        var c = TrajectoryTests.configuration(.lora, learningRate: 1e-3, initAdapter: nil)
        c.maxSteps = 4
        c.saveSteps = 1
        c.saveTotalLimit = 5
        c.skipNonFiniteSteps = skip
        let out = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("tailor-nan-\(UUID())")
        let trainer = try Trainer(model: LlamaModel(configuration: model.configuration, weights: weights), modelConfig: config,
                                  baseModelName: "tiny", configuration: c, train: rows, outputDirectory: out, padID: 0,
                                  backend: CPUBackend())
        return (trainer, out)
    }

    func testNaNStopsAtTheStepAndKeepsTheLastCheckpoint() throws {
        var (trainer, out) = try setUp(false)
        defer { try? FileManager.default.removeItem(at: out) }
        XCTAssertThrowsError(try trainer.run()) { error in
            XCTAssertEqual(error as? TrainingError, .nonFinite(step: 3, what: "the loss"))
            XCTAssertTrue("\(error)".contains("step 3"))
        }
        XCTAssertEqual(TrainingCheckpoint.all(in: out).map(\.step), [1, 2])
        // The last good checkpoint is complete: a resumed run starts from it (and meets the same NaN at step 3).
        var resumed = try setUp(false, out: out).0
        var firstStep = -1
        XCTAssertThrowsError(try resumed.run(resume: true) { event in
            if case .started(_, let first, _) = event { firstStep = first }
        })
        XCTAssertEqual(firstStep, 2)
    }

    func testSkipNonFiniteStepsContinues() throws {
        var (trainer, out) = try setUp(true)
        defer { try? FileManager.default.removeItem(at: out) }
        var skipped: [Int] = []
        try trainer.run { event in if case .skipped(let step, _) = event { skipped.append(step) } }
        XCTAssertEqual(skipped, [3, 4])
        XCTAssertEqual(trainer.history.map(\.step), [1, 2])
        XCTAssertTrue(trainer.history.allSatisfy { $0.loss.isFinite })
    }
}
