// Parameter counts and linear modules of the presets against the published counts and transformers.
import Foundation
import TailorFormats
@testable import TailorPlan
import XCTest

final class ModelShapeTests: XCTestCase {
    /// Parameter counts published for the real checkpoints (model cards / safetensors metadata); they also equal
    /// what transformers counts for our transcribed configs (Fixtures/presets.json, next test).
    func testPublishedParameterCounts() throws {
        let published: [(String, Int)] = [
            ("smollm2-135m", 134_515_008), ("smollm2-360m", 361_821_120), ("smollm2-1.7b", 1_711_376_384),
            ("llama-2-7b", 6_738_415_616), ("llama-2-13b", 13_015_864_320), ("llama-2-70b", 68_976_648_192),
            ("llama-3-8b", 8_030_261_248), ("llama-3.1-8b", 8_030_261_248), ("llama-3.1-70b", 70_553_706_496),
            ("llama-3.2-1b", 1_235_814_400), ("llama-3.2-3b", 3_212_749_824),
            ("qwen2.5-0.5b", 494_032_768), ("qwen2.5-1.5b", 1_543_714_304), ("qwen2.5-3b", 3_085_938_688),
            ("qwen2.5-7b", 7_615_616_512), ("qwen2.5-14b", 14_770_033_664), ("qwen2.5-32b", 32_763_876_352),
            ("qwen2.5-72b", 72_706_203_648), ("mistral-7b-v0.1", 7_241_732_096),
        ]
        for (name, count) in published {
            XCTAssertEqual(try ModelPresets.named(name).shape.parameterCount, count, name)
        }
    }

    /// Qwen3-0.6B's shape (head_dim 128 × 16 heads ≠ hidden 1024, q_norm/k_norm, tied): 596,049,920 parameters,
    /// what transformers 5.24's Qwen3ForCausalLM counts (num_parameters() on this config) and the model card's 0.6B;
    /// the per-layer split the planner scales with adds up to the same.
    func testQwen3ParameterCount() throws {
        let config = ModelConfig(modelType: "qwen3", vocabSize: 151_936, hiddenSize: 1024, intermediateSize: 3072, layerCount: 28,
                                 headCount: 16, kvHeadCount: 8, headDim: 128, tieWordEmbeddings: true)
        XCTAssertEqual(config.parameterCount, 596_049_920)
        XCTAssertEqual(config.embeddingParameters + config.layerCount * (config.layerLinearWeights + config.layerSmallParameters)
                       + config.hiddenSize, config.parameterCount)
    }

    /// Phi-3-mini (fused qkv_proj and gate_up_proj, untied head): 3,821,079,552 parameters and, with r 8 on
    /// all-linear, 12,582,912 LoRA parameters on the four fused-layout targets per layer — both what transformers
    /// 5.25 / PEFT 0.21.2 count on this config (Phi3ForCausalLM.num_parameters(), get_peft_model).
    func testPhi3ParameterCountsAndFusedTargets() throws {
        let config = ModelConfig(modelType: "phi3", vocabSize: 32064, hiddenSize: 3072, intermediateSize: 8192, layerCount: 32,
                                 headCount: 32, maxPositionEmbeddings: 131_072)
        XCTAssertEqual(config.parameterCount, 3_821_079_552)
        XCTAssertEqual(config.embeddingParameters + config.lmHeadParameters
                       + config.layerCount * (config.layerLinearWeights + config.layerSmallParameters) + config.hiddenSize,
                       config.parameterCount)
        let shape = ModelShape(config: config)
        XCTAssertEqual(config.layerLinears(0).map(\.kind), ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"])
        XCTAssertEqual(try ModelPresets.named("microsoft/Phi-3.5-mini-instruct").shape.parameterCount, config.parameterCount)
        let request = PlanRequest(model: shape, memoryPerDevice: ByteSize(gib: 24))
        let layout = try Planner().adapterLayout(shape, request: request, rank: 8)
        XCTAssertEqual(layout.parameters, 12_582_912)
        XCTAssertEqual(layout.perLayer[0], ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
    }

    /// Gemma-2-2B (four norms per layer, head_dim 256 ≠ 2304 / 8, tied head): 2,614,341,888 parameters and, with r 8
    /// on all-linear, 10,383,360 LoRA parameters — what transformers 5.25 / PEFT 0.21.2 count on this config
    /// (Gemma2ForCausalLM.num_parameters(), get_peft_model(...).get_nb_trainable_parameters()).
    func testGemma2ParameterCounts() throws {
        let config = ModelConfig(modelType: "gemma2", vocabSize: 256_000, hiddenSize: 2304, intermediateSize: 9216, layerCount: 26,
                                 headCount: 8, kvHeadCount: 4, headDim: 256, tieWordEmbeddings: true)
        XCTAssertEqual(config.parameterCount, 2_614_341_888)
        XCTAssertEqual(config.embeddingParameters + config.layerCount * (config.layerLinearWeights + config.layerSmallParameters)
                       + config.hiddenSize, config.parameterCount)
        let request = PlanRequest(model: ModelShape(config: config), memoryPerDevice: ByteSize(gib: 24))
        XCTAssertEqual(try Planner().adapterLayout(ModelShape(config: config), request: request, rank: 8).parameters, 10_383_360)
    }

    /// Gemma-3-1B (Gemma 2's four norms plus q_norm/k_norm, one kv head): 999,885,952 parameters and 6,522,880 r-8
    /// all-linear LoRA parameters, as transformers 5.25 / PEFT 0.21.2 count Gemma3ForCausalLM on this config.
    func testGemma3ParameterCounts() throws {
        let config = ModelConfig(modelType: "gemma3_text", vocabSize: 262_144, hiddenSize: 1152, intermediateSize: 6912,
                                 layerCount: 26, headCount: 4, kvHeadCount: 1, headDim: 256, tieWordEmbeddings: true)
        XCTAssertEqual(config.parameterCount, 999_885_952)
        XCTAssertEqual(config.embeddingParameters + config.layerCount * (config.layerLinearWeights + config.layerSmallParameters)
                       + config.hiddenSize, config.parameterCount)
        let request = PlanRequest(model: ModelShape(config: config), memoryPerDevice: ByteSize(gib: 24))
        XCTAssertEqual(try Planner().adapterLayout(ModelShape(config: config), request: request, rank: 8).parameters, 6_522_880)
    }

    func testEveryPresetMatchesTransformers() throws {
        let reference = try Fixture.data("presets")
        XCTAssertEqual(Set(reference.keys), Set(ModelPresets.all.map(\.name)))
        for preset in ModelPresets.all {
            let entry = try XCTUnwrap(reference[preset.name] as? [String: Any], preset.name)
            XCTAssertEqual(entry["parameters"] as? Int, preset.shape.parameterCount, preset.name)
            let linears = try XCTUnwrap(entry["linears"] as? [[String: Any]])
            let ours = preset.shape.config.layerLinears(0) + [preset.shape.linearModules.last].compactMap { $0 }
            XCTAssertEqual(linears.map { $0["name"] as? String }, ours.map(\.name), preset.name)
            XCTAssertEqual(linears.map { $0["in"] as? Int }, ours.map(\.inFeatures), preset.name)
            XCTAssertEqual(linears.map { $0["out"] as? Int }, ours.map(\.outFeatures), preset.name)
        }
    }

    func testShapeFromModelConfig() throws {
        let config = ModelConfig(modelType: "qwen2", vocabSize: 152_064, hiddenSize: 3584, intermediateSize: 18944,
                                 layerCount: 28, headCount: 28, kvHeadCount: 4, tieWordEmbeddings: false)
        let shape = ModelShape(config: config, name: "qwen")
        XCTAssertTrue(shape.qkvBias)
        XCTAssertEqual(shape.parameterCount, 7_615_616_512)
        var expected = try ModelPresets.named("Qwen/Qwen2.5-7B-Instruct").shape
        expected.name = "qwen"
        XCTAssertEqual(shape, expected)
        // SmolLM2-135M: embedding 28,311,552 (spec §6.8); 7 linears per layer plus lm_head.
        let smol = try ModelPresets.named("HuggingFaceTB/SmolLM2-135M-Instruct").shape
        XCTAssertEqual(smol.embeddingParameters, 28_311_552)
        XCTAssertEqual(smol.linearModules.count, 30 * 7 + 1)
        XCTAssertEqual(smol.linearModules.last?.name, "lm_head")
    }

    func testShapeFromConfigFileOnDisk() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let config = try ModelConfig.load(from: folder.appendingPathComponent("smollm2-135m-config.json"))
        let shape = ModelShape(config: config, name: "SmolLM2-135M")
        XCTAssertEqual(shape.parameterCount, 134_515_008)
        XCTAssertEqual(shape.linearModules.filter { $0.kind == "k_proj" }.map(\.outFeatures), Array(repeating: 192, count: 30))
    }

    func testNamesAndAliases() throws {
        XCTAssertEqual(try ModelPresets.named("meta-llama/Meta-Llama-3.1-8B-Instruct").name, "llama-3.1-8b")
        XCTAssertEqual(try ModelPresets.named("meta-llama/Llama-2-7b-hf").name, "llama-2-7b")
        XCTAssertEqual(try ModelPresets.named("mistralai/Mistral-7B-v0.1").name, "mistral-7b-v0.1")
        XCTAssertThrowsError(try ModelPresets.named("gpt-2")) { error in
            XCTAssertTrue("\(error)".contains("unknown model preset 'gpt-2'"))
        }
    }

    func testNearestAndScaled() throws {
        XCTAssertEqual(try ModelPresets.nearest(parameters: 7_000_000_000, family: "llama").name, "llama-2-7b")
        XCTAssertEqual(try ModelPresets.nearest(parameters: 8_000_000_000, family: "llama").name, "llama-3.1-8b")
        XCTAssertEqual(try ModelPresets.nearest(parameters: 7_000_000_000, family: "qwen2.5").shape.parameterCount,
                       7_615_616_512)
        XCTAssertEqual(try ModelPresets.nearest(parameters: 100_000_000, family: "smollm").name, "smollm2-135m")
        XCTAssertThrowsError(try ModelPresets.nearest(parameters: 1, family: "gpt"))
        // Within 10 %: the preset itself.
        XCTAssertEqual(try ModelPresets.resolve(parameters: ModelPresets.parseParameterCount("7B"), family: "llama").name,
                       "llama-2-7b")
        // 20B Llama: nearest is Llama-2-13B (5120 wide, 40 layers); scaled to 20B by layers.
        let scaled = try ModelPresets.resolve(parameters: 20_000_000_000, family: "llama")
        XCTAssertEqual(scaled.hiddenSize, 5120)
        let perLayer = 4 * 5120 * 5120 + 3 * 5120 * 13824 + 2 * 5120
        XCTAssertEqual(scaled.layerCount, Int((Double(20_000_000_000 - 2 * 32000 * 5120 - 5120) / Double(perLayer)).rounded()))
        XCTAssertLessThan(abs(Double(scaled.parameterCount) / 2e10 - 1), 0.01)
    }

    func testParseParameterCount() throws {
        XCTAssertEqual(try ModelPresets.parseParameterCount("7B"), 7_000_000_000)
        XCTAssertEqual(try ModelPresets.parseParameterCount("1.5b"), 1_500_000_000)
        XCTAssertEqual(try ModelPresets.parseParameterCount("135M"), 135_000_000)
        XCTAssertEqual(try ModelPresets.parseParameterCount("1000"), 1000)
        XCTAssertThrowsError(try ModelPresets.parseParameterCount("seven"))
        XCTAssertThrowsError(try ModelPresets.parseParameterCount("-3B"))
    }

    func testByteSizeParsing() throws {
        XCTAssertEqual(try ByteSize.parse("24GB").bytes, 24_000_000_000)
        XCTAssertEqual(try ByteSize.parse("24GiB").bytes, 24 * 1_073_741_824)
        XCTAssertEqual(try ByteSize.parse("24 gib").bytes, 24 * 1_073_741_824)
        XCTAssertEqual(try ByteSize.parse("80G").bytes, 80_000_000_000)
        XCTAssertEqual(try ByteSize.parse("512MiB").bytes, 536_870_912)
        XCTAssertEqual(try ByteSize.parse("1.5TB").bytes, 1_500_000_000_000)
        XCTAssertEqual(try ByteSize.parse("4096").bytes, 4096)
        XCTAssertThrowsError(try ByteSize.parse("24 GX")) { XCTAssertTrue("\($0)".contains("unknown unit 'gx'")) }
        XCTAssertThrowsError(try ByteSize.parse("lots"))
        XCTAssertEqual(ByteSize.format(536_870_912), "512.00 MiB")
        XCTAssertEqual(ByteSize.format(1023), "1023 B")
    }
}
