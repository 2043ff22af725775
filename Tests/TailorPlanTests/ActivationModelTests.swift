// The activation formula against the bytes autograd saves (Fixtures/activations.json, torch 2.15 + transformers
// 5.24 + PEFT 0.21.2, SmolLM2-135M dimensions, bf16, batch 2 × 128).
import Foundation
@testable import TailorPlan
import XCTest

final class ActivationModelTests: XCTestCase {
    func model(_ method: String, _ attention: AttentionKind) throws -> ActivationModel {
        let shape = try ModelPresets.named("smollm2-135m").shape
        let all: Set<String> = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        return ActivationModel(shape: shape, activationBytes: 2, adapterBytes: 4, attention: attention,
                               baseTrains: method == "full", loraRank: method == "full" ? 0 : 8,
                               targetsPerLayer: Array(repeating: method == "full" ? [] : all, count: shape.layerCount))
    }

    func testPerLayerSavedBytesEqualAutograd() throws {
        let reference = try Fixture.data("activations")
        let batch = try XCTUnwrap(reference["batch"] as? Int), t = try XCTUnwrap(reference["seq"] as? Int)
        let cases = try XCTUnwrap(reference["cases"] as? [String: [String: Int]])
        XCTAssertEqual(cases.count, 4)
        for method in ["full", "lora"] {
            for attention in [AttentionKind.eager, .sdpa] {
                let key = "\(method)_\(attention.rawValue)"
                let entry = try XCTUnwrap(cases[key])
                let m = try model(method, attention)
                let targets = m.targetsPerLayer[0]
                // Exact: the formula names every saved tensor.
                XCTAssertEqual(batch * t * m.layerBytesPerToken(targets: targets, sequenceLength: t), entry["perLayer"], key)
                // Outside the layers: exact for full; under LoRA the first layer's norm saves nothing (its input needs
                // no gradient), which the reference's "rest" absorbs: B·T·(4C + 4) less.
                let outside = m.outsideLayerBytes(batch: batch, sequenceLength: t)
                let firstNorm = method == "full" ? 0 : batch * t * (4 * 576 + 4)
                XCTAssertEqual(outside - firstNorm, entry["rest"], key)
            }
        }
    }

    /// The per-token numbers written out, SmolLM2-135M (C 576, Q 576, K 192, I 1536, H 9), bf16, SDPA.
    func testHandComputedPerTokenBytes() throws {
        let full = try model("full", .sdpa).layerBytesPerToken(targets: [], sequenceLength: 256)
        let norms = 2 * (4 * 576 + 4 + 2 * 576)          // f32 input, rsqrt, normalized (trainable weight)
        let attention = 2 * (576 + 2 * 192) + 2 * 576 + 4 * 9   // q, k, v, output, log-sum-exp
        let inputs = 2 * 576 + 2 * 576 + 2 * 1536        // q/k/v input, gate/up input, down input
        let mlp = 3 * 2 * 1536                            // gate, silu, up outputs
        XCTAssertEqual(full, norms + attention + inputs + mlp)
        XCTAssertEqual(full, 24_620)
        let lora = try model("lora", .sdpa)
        let adapters = 3 * (4 * 576 + 4 * 8) + (4 * 576 + 4 * 8) + 2 * (4 * 576 + 4 * 8) + (4 * 1536 + 4 * 8)
        XCTAssertEqual(lora.layerBytesPerToken(targets: lora.targetsPerLayer[0], sequenceLength: 256),
                       2 * (4 * 576 + 4) + attention + mlp + adapters)
    }

    func testFloat32SharesTheAdapterInput() throws {
        let shape = try ModelPresets.named("smollm2-135m").shape
        let m = ActivationModel(shape: shape, activationBytes: 4, adapterBytes: 4, attention: .sdpa, baseTrains: false,
                                loraRank: 8, targetsPerLayer: Array(repeating: ["q_proj", "k_proj", "v_proj"], count: 30))
        // q, k and v read the same f32 norm output: stored once, plus three lora_A outputs.
        let expected = 2 * (4 * 576 + 4) + 4 * (576 + 2 * 192) + 4 * 576 + 4 * 9 + 3 * 4 * 1536 + 4 * 576 + 3 * 4 * 8
        XCTAssertEqual(m.layerBytesPerToken(targets: m.targetsPerLayer[0], sequenceLength: 64), expected)
    }

    func testCheckpointingKeepsLayerInputsAndOneLayer() throws {
        let m = try model("full", .sdpa)
        let c = PlanCoefficients.standard
        let plain = m.estimate(batch: 4, sequenceLength: 256, checkpointing: false, coefficients: c)
        let checkpointed = m.estimate(batch: 4, sequenceLength: 256, checkpointing: true, coefficients: c)
        XCTAssertEqual(plain.layers, 30 * 1024 * 24_620)
        XCTAssertEqual(checkpointed.layers, 30 * 1024 * 2 * 576 + 1024 * 24_620)
        XCTAssertEqual(plain.outsideLayers, checkpointed.outsideLayers)
    }

    func testEagerGrowsWithTheSquareOfT() throws {
        let m = try model("full", .eager)
        // Per token: softmax f32 4·H·T and its bf16 copy 2·H·T; everything else is per token.
        let d = m.layerBytesPerToken(targets: [], sequenceLength: 512) - m.layerBytesPerToken(targets: [], sequenceLength: 256)
        XCTAssertEqual(d, 6 * 9 * 256)
    }
}
