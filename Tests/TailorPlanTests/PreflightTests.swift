// Each preflight check firing and not firing.
@testable import TailorPlan
import XCTest

final class PreflightTests: XCTestCase {
    func testLoRARank() {
        XCTAssertEqual(Preflight.loraRank(64, exampleCount: 500).first?.check, "lora-rank")   // recommended 8
        XCTAssertEqual(Preflight.loraRank(64, exampleCount: 500).first?.fix, "use r=8, lora_alpha=16")
        XCTAssertEqual(Preflight.loraRank(16, exampleCount: 500), [])                         // 2 × 8
        XCTAssertEqual(Preflight.loraRank(64, exampleCount: 200_000), [])
    }

    func testLearningRate() {
        XCTAssertEqual(Preflight.learningRate(2e-4, method: .full).first?.severity, .warning)
        XCTAssertTrue(Preflight.learningRate(2e-4, method: .full)[0].message.contains("above the usual range 1e-5…5e-5"))
        XCTAssertEqual(Preflight.learningRate(2e-5, method: .full), [])
        XCTAssertEqual(Preflight.learningRate(2e-5, method: .lora).first?.fix, "use 2e-4")
        XCTAssertEqual(Preflight.learningRate(3e-4, method: .qlora), [])
        XCTAssertEqual(Preflight.learningRate(1e-4, method: .lora), [])
        XCTAssertEqual(Preflight.learningRate(0, method: .lora).first?.severity, .error)
        XCTAssertEqual(Preflight.learningRate(.nan, method: .lora).first?.severity, .error)
    }

    func testEffectiveBatch() {
        XCTAssertEqual(Preflight.effectiveBatch(microBatchSize: 4, gradientAccumulation: 8), [])
        XCTAssertEqual(Preflight.effectiveBatch(microBatchSize: 16, gradientAccumulation: 8), [])
        let small = Preflight.effectiveBatch(microBatchSize: 4, gradientAccumulation: 1)
        XCTAssertEqual(small.first?.severity, .warning)
        XCTAssertEqual(small.first?.fix, "set gradient accumulation to 8")
        XCTAssertEqual(Preflight.effectiveBatch(microBatchSize: 16, gradientAccumulation: 4, deviceCount: 4).count, 1)
        XCTAssertEqual(Preflight.effectiveBatch(microBatchSize: 0, gradientAccumulation: 4).first?.severity, .error)
    }

    func testTargetModules() throws {
        let names = try ModelPresets.named("smollm2-135m").shape.linearModules.map(\.name)
        XCTAssertEqual(Preflight.targetModules(.allLinear, linearModules: names), [])
        XCTAssertEqual(Preflight.targetModules(.names(["q_proj", "v_proj"]), linearModules: names), [])
        XCTAssertEqual(Preflight.targetModules(.regex(#".*\.(q|v)_proj"#), linearModules: names), [])
        // Nothing matches: error; a plain name given as a regex gets the list hint.
        let none = Preflight.targetModules(.regex("q_proj"), linearModules: names)
        XCTAssertEqual(none.map(\.severity), [.error])
        XCTAssertTrue(none[0].fix.contains("use a list [\"q_proj\"]"))
        XCTAssertEqual(Preflight.targetModules(.names(["query"]), linearModules: names).map(\.severity), [.error])
        XCTAssertEqual(Preflight.targetModules(.regex("(bad"), linearModules: names).map(\.severity), [.error])
        // A typo next to a good entry: warning for the entry.
        let typo = Preflight.targetModules(.names(["qproj", "v_proj"]), linearModules: names)
        XCTAssertEqual(typo.map(\.severity), [.warning])
        XCTAssertTrue(typo[0].message.contains("'qproj'"))
        // Full names of a few layers: the others get no adapter.
        let someLayers = Preflight.targetModules(.regex(#"model\.layers\.(0|1|2)\..*"#), linearModules: names)
        XCTAssertEqual(someLayers.count, 1)
        XCTAssertTrue(someLayers[0].message.contains("27 of 30 layers get no adapter (layers 3-29)"))
        // q_proj everywhere but v_proj only in layer 5: the kind check fires.
        let uneven = Preflight.targetModules(.names(["q_proj", "model.layers.5.self_attn.v_proj"]), linearModules: names)
        XCTAssertEqual(uneven.count, 1)
        XCTAssertTrue(uneven[0].message.contains("v_proj is targeted in some layers but not in layers 0-4, 6-29"))
    }

    func testChatTemplate() {
        let model = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        XCTAssertEqual(Preflight.chatTemplate(training: model, model: model), [])
        XCTAssertEqual(Preflight.chatTemplate(training: nil, model: model), [])
        let spaced = model.replacingOccurrences(of: " %}", with: "\n   %}")
        XCTAssertEqual(Preflight.chatTemplate(training: spaced, model: model).map(\.severity), [.warning])
        let other = "[INST] {{ messages[0]['content'] }} [/INST]"
        XCTAssertEqual(Preflight.chatTemplate(training: other, model: model).map(\.severity), [.error])
        XCTAssertEqual(Preflight.chatTemplate(training: other, model: nil).map(\.severity), [.warning])
    }

    func testSequenceLengths() {
        XCTAssertEqual(Preflight.sequenceLengths([100, 200, 512], maxLength: 512), [])
        let some = Preflight.sequenceLengths([100, 600, 700, 200], maxLength: 512)
        XCTAssertEqual(some.map(\.severity), [.warning])
        XCTAssertTrue(some[0].message.hasPrefix("2 of 4 samples (50.0%)"))
        XCTAssertEqual(Preflight.sequenceLengths(histogram: [600: 3, 1000: 1], maxLength: 512).map(\.severity), [.error])
        XCTAssertEqual(Preflight.sequenceLengths(histogram: [100: 3], maxLength: 512), [])
        XCTAssertEqual(Preflight.sequenceLengths(overLimit: 0, total: 0, maxLength: 512), [])
    }

    func testMemory() {
        XCTAssertEqual(Preflight.memory(predicted: 10, available: 100), [])
        XCTAssertEqual(Preflight.memory(predicted: 95, available: 100).map(\.severity), [.warning])
        XCTAssertEqual(Preflight.memory(predicted: 101, available: 100, method: .full).map(\.severity), [.error])
        XCTAssertTrue(Preflight.memory(predicted: 101, available: 100, method: .full)[0].fix.contains("use LoRA"))
        XCTAssertTrue(Preflight.memory(predicted: 101, available: 100, method: .qlora)[0].fix
            .hasPrefix("enable gradient checkpointing"))
        XCTAssertFalse(Preflight.memory(predicted: 101, available: 100, method: .qlora, gradientCheckpointing: true)[0].fix
            .contains("checkpointing"))
    }

    func testAdapterFlags() {
        XCTAssertEqual(Preflight.kbitPreparation(method: .qlora, prepared: false).map(\.check), ["kbit-preparation"])
        XCTAssertEqual(Preflight.kbitPreparation(method: .qlora, prepared: true), [])
        XCTAssertEqual(Preflight.kbitPreparation(method: .lora, prepared: false), [])
        XCTAssertEqual(Preflight.adapterState(method: .qlora, mergeIntoBase: true, dropoutActive: false).map(\.check),
                       ["merge-quantized"])
        XCTAssertEqual(Preflight.adapterState(method: .lora, mergeIntoBase: true, dropoutActive: true).map(\.check),
                       ["dropout-after-merge"])
        XCTAssertEqual(Preflight.adapterState(method: .lora, mergeIntoBase: true, dropoutActive: false), [])
        XCTAssertEqual(Preflight.adapterState(method: .qlora, mergeIntoBase: false, dropoutActive: true), [])
    }

    func testPlannerRunsTheRequestChecks() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("2GB"))
        request.method = .full
        request.learningRate = 2e-4
        request.sequenceLength = 2048
        request.microBatchSize = 8
        let checks = try Planner.plan(request).findings.map(\.check)
        XCTAssertEqual(checks, ["learning-rate", "effective-batch", "memory"])
    }
}
