// The decision flow: each branch, the data-size advice, batching and epochs.
@testable import TailorPlan
import XCTest

final class RecommendationTests: XCTestCase {
    func request(_ preset: String, _ memory: String, devices: Int = 1, rows: Int? = 5000) throws -> PlanRequest {
        var request = PlanRequest(model: try ModelPresets.named(preset).shape, memoryPerDevice: try .parse(memory))
        request.deviceCount = devices
        request.sequenceLength = 1024
        request.gradientCheckpointing = true
        request.exampleCount = rows
        return request
    }

    func testRuleOfThumbThresholds() {
        let n = 1_000_000_000  // 16-bit size 2 GB
        XCTAssertEqual(Recommender.ruleOfThumb(totalMemory: 8_000_000_000, parameterCount: n), .full)
        XCTAssertEqual(Recommender.ruleOfThumb(totalMemory: 7_999_999_999, parameterCount: n), .lora)
        XCTAssertEqual(Recommender.ruleOfThumb(totalMemory: 3_000_000_000, parameterCount: n), .lora)
        XCTAssertEqual(Recommender.ruleOfThumb(totalMemory: 2_999_999_999, parameterCount: n), .qlora)
        XCTAssertEqual(Recommender.ruleOfThumb(totalMemory: 1_000_000_000, parameterCount: n), .qlora)
        XCTAssertNil(Recommender.ruleOfThumb(totalMemory: 999_999_999, parameterCount: n))
    }

    func testEstimateOverrulesTheRule() {
        let (method, notes) = Recommender.chooseMethod(totalMemory: 8_000_000_000, parameterCount: 1_000_000_000,
                                                       fits: [.full: false, .lora: true, .qlora: true])
        XCTAssertEqual(method, .lora)
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("allows full"))
    }

    func testFullBranch() throws {
        let plan = try Planner.plan(try request("smollm2-135m", "80GB"))
        XCTAssertEqual(plan.recommendation.method, .full)
        XCTAssertEqual(plan.recommendation.learningRate, 2e-5)
        XCTAssertNil(plan.recommendation.loraRank)
    }

    func testLoRABranch() throws {
        let plan = try Planner.plan(try request("llama-2-7b", "24GB"))
        XCTAssertEqual(plan.recommendation.method, .lora)   // 24 GB / 13.5 GB = 1.8×
        XCTAssertEqual(plan.recommendation.loraRank, 16)    // 5000 rows
        XCTAssertEqual(plan.recommendation.loraAlpha, 32)
        XCTAssertEqual(plan.recommendation.learningRate, 2e-4)
        XCTAssertEqual(plan.recommendation.epochs, 2)
    }

    func testQLoRABranch() throws {
        let plan = try Planner.plan(try request("llama-2-7b", "12GB"))
        XCTAssertEqual(plan.recommendation.method, .qlora)  // 0.89×
        XCTAssertTrue(plan.recommendation.text.hasPrefix("Recommended: QLoRA"))
    }

    func testNothingFitsSuggestsAlternatives() throws {
        let plan = try Planner.plan(try request("llama-2-70b", "24GB"))
        XCTAssertNil(plan.recommendation.method)
        XCTAssertEqual(plan.recommendation.alternatives.count, 2)
        XCTAssertTrue(plan.recommendation.alternatives[0].hasPrefix("a smaller model: llama-2-13b"))
        XCTAssertTrue(plan.recommendation.alternatives[1].hasPrefix("more devices: "))
        XCTAssertTrue(plan.recommendation.text.hasPrefix("Does not fit"))
    }

    func testCheckpointingAloneWouldFit() throws {
        var request = try request("llama-2-70b", "80GB")
        request.sequenceLength = 4096
        request.gradientCheckpointing = false
        let plan = try Planner.plan(request)
        XCTAssertNil(plan.recommendation.method)
        XCTAssertEqual(plan.recommendation.alternatives, ["enable gradient checkpointing: QLoRA then fits"])
    }

    func testMultiDeviceNeedsSharding() throws {
        let plan = try Planner.plan(try request("llama-2-70b", "80GB", devices: 8))
        // Rule: 640 GB / 138 GB = 4.6× → full, but full needs 16 bytes/param / 8 = 138 GB per device → LoRA.
        XCTAssertEqual(plan.recommendation.method, .lora)
        XCTAssertTrue(plan.recommendation.notes.contains { $0.contains("allows full") })
        XCTAssertTrue(plan.recommendation.notes.contains { $0.contains("FSDP") && $0.contains("ZeRO-3") })
        XCTAssertFalse(try Planner.plan(try request("smollm2-135m", "80GB", devices: 2)).recommendation.notes
            .contains { $0.contains("FSDP") })
    }

    func testLittleDataWarning() throws {
        let plan = try Planner.plan(try request("smollm2-135m", "80GB", rows: 300))
        XCTAssertTrue(plan.recommendation.notes.contains { $0.contains("collect more data first") })
        XCTAssertEqual(plan.recommendation.epochs, 3)
        let enough = try Planner.plan(try request("smollm2-135m", "80GB", rows: 1000))
        XCTAssertFalse(enough.recommendation.notes.contains { $0.contains("collect more data") })
    }

    func testRankAndEpochsByRows() {
        XCTAssertEqual([999, 1000, 9999, 10_000, 99_999, 100_000].map { Preflight.recommendedRank(rows: $0) },
                       [8, 16, 16, 32, 32, 64])
        XCTAssertEqual([500, 1000, 1001, 10_000, 10_001].map { Recommender.epochs(rows: $0) }, [3, 3, 2, 2, 1])
    }

    func testBatching() {
        XCTAssertTrue(Recommender.batching(maxMicroBatch: 5, deviceCount: 1) == (4, 8))
        XCTAssertTrue(Recommender.batching(maxMicroBatch: 100, deviceCount: 1) == (16, 2))
        XCTAssertTrue(Recommender.batching(maxMicroBatch: 100, deviceCount: 8) == (16, 1))
        XCTAssertTrue(Recommender.batching(maxMicroBatch: 1, deviceCount: 1) == (1, 32))
    }
}
