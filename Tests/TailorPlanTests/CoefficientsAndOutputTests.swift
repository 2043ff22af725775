// Calibration overrides, the JSON round trip and the text table.
import Foundation
@testable import TailorPlan
import XCTest

final class CoefficientsAndOutputTests: XCTestCase {
    func testPartialOverride() throws {
        let json = Data(#"{"overheadFraction": 0.25, "qloraDequantOverhead": 1.6}"#.utf8)
        let calibrated = try PlanCoefficients.standard.overriding(withJSON: json)
        XCTAssertEqual(calibrated.overheadFraction, 0.25)
        XCTAssertEqual(calibrated.qloraDequantOverhead, 1.6)
        XCTAssertEqual(calibrated.adamWStateBytes, 8)
        XCTAssertThrowsError(try PlanCoefficients.standard.overriding(withJSON: Data(#"{"overheadFractoin": 1}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown keys overheadFractoin"))
        }
        XCTAssertThrowsError(try PlanCoefficients.standard.overriding(withJSON: Data(#"{"overheadFraction": "x"}"#.utf8)))
        XCTAssertThrowsError(try PlanCoefficients.standard.overriding(withJSON: Data("[1]".utf8)))
    }

    func testCalibrationChangesThePlan() throws {
        let request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("8GB"))
        var coefficients = PlanCoefficients()
        coefficients.overheadFixedBytes = 0
        coefficients.overheadFraction = 0
        let full = try XCTUnwrap(try Planner(coefficients: coefficients).plan(request).method(.full)).memory
        XCTAssertEqual(full.overhead, 0)
    }

    func testJSONRoundTrip() throws {
        var request = PlanRequest(model: try ModelPresets.named("qwen2.5-0.5b").shape, memoryPerDevice: try .parse("24GiB"))
        request.exampleCount = 2000
        request.flopsPerSecond = 1e14
        request.loraTargets = .names(["q_proj", "v_proj"])
        let plan = try Planner.plan(request)
        let decoded = try JSONDecoder().decode(Plan.self, from: try plan.jsonData())
        XCTAssertEqual(decoded, plan)
        let text = String(decoding: try plan.jsonData(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"maxMicroBatchSize\""))
    }

    func testTextTable() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("24GB"))
        request.sequenceLength = 256
        request.microBatchSize = 4
        request.gradientAccumulation = 8
        request.exampleCount = 5000
        request.flopsPerSecond = 1e12
        let text = try Planner.plan(request).renderText()
        let lines = text.split(separator: "\n").map(String.init)
        for label in ["weights", "gradients", "optimizer", "adapters", "activations", "overhead", "total", "fits?",
                      "time / step", "time / epoch"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(label + " ") }, label)
        }
        XCTAssertTrue(lines.contains { $0.contains("full") && $0.contains("LoRA") && $0.contains("QLoRA") })
        XCTAssertTrue(text.contains("Recommended: full"))
        XCTAssertTrue(lines[0].hasPrefix("smollm2-135m: 134,515,008 parameters; 1 × 22.35 GiB; seq 256"))
        XCTAssertEqual(Plan.grouped(999), "999")
        XCTAssertEqual(Plan.grouped(1_000), "1,000")
    }

    func testInvalidRequests() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("24GB"))
        request.microBatchSize = 0
        XCTAssertThrowsError(try Planner.plan(request)) { XCTAssertTrue("\($0)".hasPrefix("micro-batch: 0 is invalid")) }
        request.microBatchSize = 1
        request.loraTargets = .regex("(")
        XCTAssertThrowsError(try Planner.plan(request)) { XCTAssertTrue("\($0)".contains("does not compile")) }
    }
}

final class DataParallelEstimateTests: XCTestCase {
    /// Hand-computed: LoRA's f32 gradient of P trainable parameters is 4P bytes; a ring allreduce among N sends
    /// 2(N−1)/N of it per rank; ZeRO-1 divides the AdamW state (8P bytes) by N.
    func testVolumesAndOptimizerShare() throws {
        let plan = try Planner.plan(PlanRequest(model: try ModelPresets.named("SmolLM2-135M").shape,
                                                memoryPerDevice: try ByteSize.parse("16GB")))
        let replicated = try plan.dataParallel(nodes: 4, zero: 0, networkBitsPerSecond: 10e9)
        let sharded = try plan.dataParallel(nodes: 4, zero: 1, networkBitsPerSecond: 10e9)
        for (estimate, method) in zip(replicated, plan.methods) {
            XCTAssertEqual(estimate.method, method.method)
            XCTAssertEqual(estimate.gradientBytes, 4 * method.trainableParameters)
            XCTAssertEqual(estimate.sentPerRank, 6 * method.trainableParameters)   // 2·3/4 · 4P
            XCTAssertEqual(estimate.secondsPerStep, Double(6 * method.trainableParameters) * 8 / 10e9, accuracy: 1e-12)
            XCTAssertEqual(estimate.optimizerPerRank, method.memory.optimizer)
            XCTAssertEqual(estimate.memoryPerRank, method.memory.total)
        }
        // ZeRO-1, bf16 products (the request's default): full fine-tuning also splits the f32 masters of the Q linear
        // weights (SmolLM2 ties its head): 4Q bytes on one process, Q per rank of 4; the all-gather sends them in bf16.
        let q = plan.request.model.config.quantizableParameters
        for (estimate, method) in zip(sharded, plan.methods) {
            XCTAssertEqual(estimate.optimizerPerRank, (method.memory.optimizer + 3) / 4)
            let full = method.method == .full, p = method.trainableParameters
            XCTAssertEqual(estimate.memoryPerRank, method.memory.total - method.memory.optimizer + estimate.optimizerPerRank - (full ? 3 * q : 0))
            XCTAssertEqual(estimate.mastersPerRank, full ? 4 * p - 3 * q : 0)
            XCTAssertEqual(estimate.sentPerRank, full ? 6 * p - 3 * q / 2 : 6 * p)   // 3/4 · (4P + 4P − 2Q)
        }
        // f32 products: the products read the f32 weights, every rank keeps every master.
        var f32 = PlanRequest(model: try ModelPresets.named("SmolLM2-135M").shape, memoryPerDevice: try ByteSize.parse("16GB"))
        f32.weightDType = .float32
        let f32Plan = try Planner.plan(f32)
        for (estimate, method) in zip(try f32Plan.dataParallel(nodes: 4, zero: 1, networkBitsPerSecond: 10e9), f32Plan.methods) {
            XCTAssertEqual(estimate.memoryPerRank, method.memory.total - method.memory.optimizer + estimate.optimizerPerRank)
            XCTAssertEqual(estimate.mastersPerRank, 0, "f32 full fine-tuning trains the weights themselves: no separate masters")
        }
        XCTAssertEqual(try plan.dataParallel(nodes: 1, zero: 1, networkBitsPerSecond: 1e9).map(\.sentPerRank), [0, 0, 0])
        XCTAssertThrowsError(try plan.dataParallel(nodes: 0, zero: 0, networkBitsPerSecond: 1e9))
        XCTAssertThrowsError(try plan.dataParallel(nodes: 2, zero: 3, networkBitsPerSecond: 1e9))
        XCTAssertThrowsError(try plan.dataParallel(nodes: 2, zero: 0, networkBitsPerSecond: 0))
    }
}
