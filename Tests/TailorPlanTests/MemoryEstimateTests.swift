// Hand-computed memory for SmolLM2-135M (full, bf16) and Llama-2-7B (QLoRA, r=16 all-linear), arithmetic written
// out term by term with the default coefficients.
@testable import TailorPlan
import XCTest

final class MemoryEstimateTests: XCTestCase {
    /// SmolLM2-135M, full fine-tuning, bf16 weights + f32 master, AdamW, batch 4 × 256, SDPA, no checkpointing.
    func testSmolLM2FullByHand() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("80GB"))
        request.sequenceLength = 256
        request.microBatchSize = 4
        let plan = try Planner.plan(request)
        let full = try XCTUnwrap(plan.method(.full)).memory

        let n = 134_515_008
        XCTAssertEqual(full.weights, n * (2 + 4))          // bf16 weights + f32 master
        XCTAssertEqual(full.gradients, n * 2)              // bf16 gradients
        XCTAssertEqual(full.optimizer, n * 8)              // AdamW: two f32 moments
        XCTAssertEqual(full.adapters, 0)
        let tokens = 4 * 256
        let perLayerPerToken = 2 * (4 * 576 + 4 + 2 * 576)  // two RMSNorms
            + 2 * (576 + 2 * 192) + 2 * 576 + 4 * 9          // SDPA: q, k, v, output, log-sum-exp
            + 2 * 576 + 2 * 576 + 2 * 1536                   // inputs of q/k/v, gate/up, down
            + 3 * 2 * 1536                                   // gate, silu, up outputs
        let layers = 30 * tokens * perLayerPerToken
        let outside = tokens * (8 + 4 * 576 + 4 + 2 * 2 * 576 + 4 * 49152 + 8) + 2 * 256 * 64 * 2 + 4
        let logits = tokens * 49152 * (2 + 2 * 4)           // retained bf16 logits + two f32 gradients
        let workspace = tokens * perLayerPerToken           // one layer
        XCTAssertEqual(full.activations, layers + outside + logits + workspace)
        XCTAssertEqual(full.activations, 1_490_984_964)
        let rest = Double(n * 16 + full.activations)
        XCTAssertEqual(full.overhead, Int((536_870_912 + 0.10 * rest).rounded(.up)))
        XCTAssertEqual(full.total, 4_544_418_514)
        XCTAssertTrue(full.fits)
    }

    /// Llama-2-7B, QLoRA, r = 16 on all linears, AdamW, batch 1 × 2048, SDPA, gradient checkpointing.
    func testLlama2QLoRAByHand() throws {
        var request = PlanRequest(model: try ModelPresets.named("llama-2-7b").shape, memoryPerDevice: try .parse("24GB"))
        request.sequenceLength = 2048
        request.loraRank = 16
        request.gradientCheckpointing = true
        let plan = try Planner.plan(request)
        let qlora = try XCTUnwrap(plan.method(.qlora)).memory

        // Adapters: per layer q, k, v, o: 16·(4096 + 4096); gate, up, down: 16·(4096 + 11008).
        let adapterParameters = 32 * (4 * 16 * (4096 + 4096) + 3 * 16 * (4096 + 11008))
        XCTAssertEqual(adapterParameters, 39_976_960)
        XCTAssertEqual(plan.adapterParameters, adapterParameters)
        // NF4 + double quant per tensor: n/2 codes, n/64 absmax codes, 4·ceil(n/64/256) nested scales, 4 offset.
        let attention = 16_777_216 / 2 + 16_777_216 / 64 + 4 * 1024 + 4           // 4096 × 4096
        let mlp = 45_088_768 / 2 + 45_088_768 / 64 + 4 * 2752 + 4                  // 4096 × 11008
        let kept = 2 * 32000 * 4096 + 32 * 2 * 4096 + 4096                         // embed, lm_head, norms
        XCTAssertEqual(qlora.weights, 32 * (4 * attention + 3 * mlp) + 2 * kept)
        XCTAssertEqual(qlora.weights, 3_865_592_704)
        XCTAssertEqual(qlora.gradients, adapterParameters * 4)
        XCTAssertEqual(qlora.optimizer, adapterParameters * 8)
        XCTAssertEqual(qlora.adapters, adapterParameters * 4)
        let perLayerPerToken = 2 * (4 * 4096 + 4)          // norms (frozen weights)
            + 2 * (4096 + 2 * 4096) + 2 * 4096 + 4 * 32      // SDPA
            + 3 * 2 * 11008                                  // MLP outputs
            + 6 * (4 * 4096 + 4 * 16) + (4 * 11008 + 4 * 16) // f32 adapter inputs and lora_A outputs
        XCTAssertEqual(perLayerPerToken, 274_504)
        let oneLayer = 2048 * perLayerPerToken
        let checkpointed = 32 * 2048 * 2 * 4096 + oneLayer  // layer inputs + one recomputed layer
        let outside = 2048 * (4 * 4096 + 4 + 4 * 32000 + 8) + 2 * 2048 * 128 * 2 + 4
        let logits = 2048 * 32000 * (2 + 8)
        XCTAssertEqual(qlora.activations, checkpointed + outside + logits + oneLayer)
        let rest = Double(qlora.weights + qlora.gradients + qlora.optimizer + qlora.adapters + qlora.activations)
        let dequantBuffer = 4096 * 11008 * 2
        XCTAssertEqual(qlora.overhead, Int((536_870_912 + 0.10 * rest + Double(dequantBuffer)).rounded(.up)))
        XCTAssertEqual(qlora.total, 8_457_502_891)
        XCTAssertTrue(qlora.fits)
        // LoRA keeps the bf16 base: 2 bytes × 6.74 B.
        XCTAssertEqual(try XCTUnwrap(plan.method(.lora)).memory.weights, 6_738_415_616 * 2)
    }

    func testShardingDividesStaticMemory() throws {
        var request = PlanRequest(model: try ModelPresets.named("llama-2-70b").shape, memoryPerDevice: try .parse("80GB"))
        request.deviceCount = 8
        request.sequenceLength = 1024
        let sharded = try XCTUnwrap(try Planner.plan(request).method(.full)).memory
        request.sharded = false
        let replicated = try XCTUnwrap(try Planner.plan(request).method(.full)).memory
        XCTAssertEqual(sharded.optimizer, (68_976_648_192 * 8 + 7) / 8)
        XCTAssertEqual(replicated.optimizer, 68_976_648_192 * 8)
        XCTAssertEqual(sharded.activations, replicated.activations)
    }

    func testEightBitAdamAndFloat32() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("16GiB"))
        request.optimizer = .adamW8bit
        request.weightDType = .float32
        let full = try XCTUnwrap(try Planner.plan(request).method(.full)).memory
        XCTAssertEqual(full.weights, 134_515_008 * 4)   // f32 weights: no separate master copy
        XCTAssertEqual(full.gradients, 134_515_008 * 4)
        XCTAssertEqual(full.optimizer, Int((134_515_008 * (2 + 8.0 / 2048)).rounded(.up)))
    }

    func testTimeFromThroughput() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("80GB"))
        request.sequenceLength = 256
        request.microBatchSize = 4
        request.gradientAccumulation = 8
        request.exampleCount = 10_000
        request.flopsPerSecond = 1e12
        let plan = try Planner.plan(request)
        // Matmul parameters: 30 layers of linears + lm_head (tied, still a matmul).
        let perLayer: Int = 576 * 576 * 2 + 2 * 576 * 192 + 3 * 576 * 1536   // q, o; k, v; gate, up, down
        let n = Double(30 * perLayer + 49152 * 576)
        let attention: Double = 3 * 4 * 256 * 576 * 0.5 * 30                  // 3 × 4·T·Q·½ per layer
        let full = try XCTUnwrap(plan.method(.full)).time
        XCTAssertEqual(full.flopsPerToken, 6 * n + attention, accuracy: 1)
        XCTAssertEqual(full.tokensPerStep, 4 * 8 * 256)
        XCTAssertEqual(try XCTUnwrap(full.secondsPerStep), (6 * n + attention) * 8192 / 1e12, accuracy: 1e-9)
        XCTAssertEqual(full.stepsPerEpoch, 313)         // ceil(10000 / 32)
        let lora = try XCTUnwrap(plan.method(.lora)).time
        XCTAssertEqual(lora.flopsPerToken, 4 * n + 6 * Double(plan.adapterParameters) + attention, accuracy: 1)
        let qlora = try XCTUnwrap(plan.method(.qlora)).time
        XCTAssertEqual(try XCTUnwrap(qlora.secondsPerStep), try XCTUnwrap(lora.secondsPerStep) * 1.3, accuracy: 1e-9)
    }

    func testMeasuredThroughputRoundTrip() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("80GB"))
        request.sequenceLength = 256
        request.microBatchSize = 4
        request.loraRank = 8
        // A measured 2,000 tokens/s of QLoRA implies this FLOP/s; planning with it gives back 2,000 tokens/s.
        let flops = try Planner().achievedFlopsPerSecond(tokensPerSecond: 2000, method: .qlora, request: request)
        request.flopsPerSecond = flops
        let time = try XCTUnwrap(try Planner.plan(request).method(.qlora)).time
        XCTAssertEqual(Double(time.tokensPerStep) / (try XCTUnwrap(time.secondsPerStep)), 2000, accuracy: 1e-6)
    }

    func testBothCheckpointingSettingsReported() throws {
        var request = PlanRequest(model: try ModelPresets.named("smollm2-135m").shape, memoryPerDevice: try .parse("80GB"))
        request.sequenceLength = 256
        request.microBatchSize = 4
        let full = try XCTUnwrap(try Planner.plan(request).method(.full))
        XCTAssertEqual(full.activationsWithoutCheckpointing, full.memory.activations)
        XCTAssertEqual(full.activationsWithoutCheckpointing - full.activationsWithCheckpointing,
                       30 * 1024 * 24_620 - (30 * 1024 * 2 * 576 + 1024 * 24_620))
    }
}
