// Exact resume: exporting and restoring AdamW state continues bit-identically; bad state gives named errors.
import Foundation
import TailorOptim
import TailorTensor
import TailorTestSupport
import XCTest

final class AdamWStateTests: XCTestCase {
    private let names = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
                         "model.norm.weight"]
    private let shapes = [[5, 9], [5], [9]]
    private let configuration = AdamWConfiguration(learningRate: 1e-3, weightDecay: 0.01)

    private func gradients(step: Int) -> [Tensor] {
        shapes.enumerated().map { Tensor.random($1, seed: UInt64(100 * step + $0), scale: 0.5) }
    }

    private func run(_ optimizer: inout AdamW, _ parameters: inout [Tensor], steps: Range<Int>) {
        for s in steps {
            let lr = LearningRateSchedule.cosine.learningRate(base: 1e-3, step: s, totalSteps: 10, warmupSteps: 2)
            optimizer.step(parameters: &parameters, gradients: gradients(step: s), names: names, learningRate: lr)
        }
    }

    func testRoundTripContinuesBitIdentically() throws {
        let initial = shapes.enumerated().map { Tensor.random($1, seed: UInt64(7 + $0)) }
        var straight = initial
        var uninterrupted = AdamW(configuration: configuration)
        run(&uninterrupted, &straight, steps: 0..<6)

        var resumed = initial
        var first = AdamW(configuration: configuration)
        run(&first, &resumed, steps: 0..<3)
        // Through the same forms a checkpoint uses: named tensors and JSON for the scalars.
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors().map { ($0.name, $0.tensor) })
        XCTAssertEqual(saved.keys.sorted(), names.flatMap { ["exp_avg.\($0)", "exp_avg_sq.\($0)"] }.sorted())
        let json = try JSONEncoder().encode(first.scalarState)
        let scalars = try JSONDecoder().decode(AdamWState.self, from: json)
        XCTAssertEqual(scalars, AdamWState(stepCount: 3, parameterNames: names))
        // Copies, not shared storage: later steps of `first` must not matter.
        let copies = saved.mapValues { Tensor(shape: $0.shape, values: $0.floats()) }
        run(&first, &resumed, steps: 3..<4)
        var second = try AdamW(configuration: configuration, restoring: copies, scalarState: scalars,
                               parameterNames: names, shapes: shapes)
        XCTAssertEqual(second.stepCount, 3)
        var fromCheckpoint = initial
        var replay = AdamW(configuration: configuration)
        run(&replay, &fromCheckpoint, steps: 0..<3)
        run(&second, &fromCheckpoint, steps: 3..<6)

        for i in names.indices {
            XCTAssertEqual(fromCheckpoint[i].floats().map(\.bitPattern), straight[i].floats().map(\.bitPattern), names[i])
        }
        let a = second.stateTensors(), b = uninterrupted.stateTensors()
        XCTAssertEqual(a.map(\.name), b.map(\.name))
        for (x, y) in zip(a, b) { XCTAssertEqual(x.tensor.floats().map(\.bitPattern), y.tensor.floats().map(\.bitPattern), x.name) }
    }

    func testExportedStateIsNotChangedByLaterSteps() {
        var parameters = shapes.enumerated().map { Tensor.random($1, seed: UInt64($0)) }
        var optimizer = AdamW(configuration: configuration)
        run(&optimizer, &parameters, steps: 0..<1)
        let exported = optimizer.stateTensors()
        let before = exported.map { $0.tensor.floats() }
        run(&optimizer, &parameters, steps: 1..<2)
        XCTAssertEqual(exported.map { $0.tensor.floats() }, before)
        XCTAssertNotEqual(optimizer.stateTensors().map { $0.tensor.floats() }, before)
    }

    func testRestoringAtStepZeroNeedsNoTensors() throws {
        let optimizer = try AdamW(configuration: configuration, restoring: [:],
                                  scalarState: AdamWState(stepCount: 0, parameterNames: []),
                                  parameterNames: names, shapes: shapes)
        XCTAssertEqual(optimizer.stepCount, 0)
        XCTAssertTrue(optimizer.stateTensors().isEmpty)
    }

    private func savedState() -> (tensors: [String: Tensor], scalars: AdamWState) {
        var parameters = shapes.enumerated().map { Tensor.random($1, seed: UInt64($0)) }
        var optimizer = AdamW(configuration: configuration)
        run(&optimizer, &parameters, steps: 0..<2)
        return (Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor) }),
                optimizer.scalarState)
    }

    private func restoreError(_ tensors: [String: Tensor], _ scalars: AdamWState, names: [String]? = nil,
                              shapes: [[Int]]? = nil) -> OptimError? {
        do {
            _ = try AdamW(configuration: configuration, restoring: tensors, scalarState: scalars,
                          parameterNames: names ?? self.names, shapes: shapes ?? self.shapes)
            return nil
        } catch {
            return error
        }
    }

    func testMissingStateTensorIsNamed() {
        var (tensors, scalars) = savedState()
        tensors["exp_avg_sq.model.norm.weight"] = nil
        let error = restoreError(tensors, scalars)
        XCTAssertEqual(error, .missingStateTensor(name: "exp_avg_sq.model.norm.weight"))
        XCTAssertTrue(error?.description.contains("exp_avg_sq.model.norm.weight") ?? false)
    }

    func testMisShapedStateTensorIsNamed() {
        var (tensors, scalars) = savedState()
        tensors["exp_avg.model.layers.0.self_attn.q_proj.weight"] = Tensor(zeros: [9, 5])
        XCTAssertEqual(restoreError(tensors, scalars),
                       .stateShapeMismatch(name: "exp_avg.model.layers.0.self_attn.q_proj.weight",
                                           expected: [5, 9], found: [9, 5]))
        tensors["exp_avg.model.layers.0.self_attn.q_proj.weight"] = Tensor(zeros: [5, 9], dtype: .bf16)
        XCTAssertEqual(restoreError(tensors, scalars),
                       .stateDTypeMismatch(name: "exp_avg.model.layers.0.self_attn.q_proj.weight", found: "bf16"))
    }

    func testOtherParameterSetIsRefused() {
        let (tensors, scalars) = savedState()
        let error = restoreError(tensors, scalars, names: [names[0], names[1], "lm_head.weight"],
                                 shapes: [shapes[0], shapes[1], [9]])
        XCTAssertEqual(error, .parameterSetMismatch(missing: ["lm_head.weight"], unexpected: ["model.norm.weight"]))
        XCTAssertEqual(restoreError(tensors, scalars, shapes: [[5, 9]]),
                       .inconsistentArguments("3 parameter names but 1 shapes"))
    }

    func testSameParametersInAnotherOrderRestoreByName() throws {
        let (tensors, scalars) = savedState()
        let optimizer = try AdamW(configuration: configuration, restoring: tensors, scalarState: scalars,
                                  parameterNames: names.reversed(), shapes: shapes.reversed())
        let restored = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor.floats()) })
        XCTAssertEqual(restored, tensors.mapValues { $0.floats() })
    }
}
