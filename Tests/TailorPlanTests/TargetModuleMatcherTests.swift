// Target-module matching against PEFT 0.21.2 get_peft_model on a 2-layer tiny Llama (Fixtures/targets.json).
import Foundation
import TailorFormats
@testable import TailorPlan
import XCTest

final class TargetModuleMatcherTests: XCTestCase {
    /// The fixture's tiny Llama: hidden 64, intermediate 128, 2 layers, 4 heads, 2 kv heads, vocab 256, untied.
    let tiny = ModelShape(config: ModelConfig(vocabSize: 256, hiddenSize: 64, intermediateSize: 128, layerCount: 2,
                                              headCount: 4, kvHeadCount: 2))

    func testLinearModuleNamesMatchTransformers() throws {
        let reference = try Fixture.data("targets")
        XCTAssertEqual(reference["linears"] as? [String], tiny.linearModules.map(\.name))
    }

    func testEveryPEFTCase() throws {
        let cases = try XCTUnwrap(try Fixture.data("targets")["cases"] as? [String: [String: Any]])
        XCTAssertEqual(cases.count, 13)
        for (key, entry) in cases.sorted(by: { $0.key < $1.key }) {
            let spec = try XCTUnwrap(entry["spec"] as? [String: Any])
            let target: TargetModules
            if let list = spec["target_modules"] as? [String] {
                target = .names(list)
            } else {
                let text = try XCTUnwrap(spec["target_modules"] as? String)
                target = text.lowercased() == "all-linear" ? .allLinear : .regex(text)
            }
            let matcher = TargetModuleMatcher(spec: target, exclude: spec["exclude_modules"] as? [String] ?? [])
            let selected = try matcher.select(from: tiny.linearModules)
            let expected = try XCTUnwrap(entry["matched"] as? [String])
            XCTAssertEqual(selected.map(\.name).sorted(), expected, key)
            // PEFT raises ValueError exactly when nothing matches.
            XCTAssertEqual(entry["error"] is NSNull, !selected.isEmpty, key)
            // Trainable parameters PEFT reports (r = 4): Σ r·(d_in + d_out).
            XCTAssertEqual(selected.reduce(0) { $0 + 4 * ($1.inFeatures + $1.outFeatures) }, entry["trainable"] as? Int, key)
        }
    }

    func testAllLinearNeverTargetsLmHead() throws {
        let shape = try ModelPresets.named("smollm2-135m").shape
        let names = try TargetModuleMatcher(spec: .allLinear).select(from: shape.linearModules.map(\.name))
        XCTAssertEqual(names.count, 210)
        XCTAssertFalse(names.contains("lm_head"))
        // Only an explicit entry reaches it.
        XCTAssertEqual(try TargetModuleMatcher(spec: .names(["lm_head"])).select(from: shape.linearModules.map(\.name)),
                       ["lm_head"])
    }

    func testSuffixNeedsADotBoundary() throws {
        let matcher = TargetModuleMatcher(spec: .names(["proj"]))
        XCTAssertFalse(try matcher.matches("model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(try TargetModuleMatcher(spec: .names(["self_attn.q_proj"])).matches("model.layers.0.self_attn.q_proj"))
        XCTAssertFalse(try TargetModuleMatcher(spec: .names(["attn.q_proj"])).matches("model.layers.0.self_attn.q_proj"))
    }

    func testRegexMustMatchWholeName() throws {
        XCTAssertFalse(try TargetModuleMatcher(spec: .regex("q_proj")).matches("model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(try TargetModuleMatcher(spec: .regex(".*q_proj")).matches("model.layers.0.self_attn.q_proj"))
        XCTAssertThrowsError(try TargetModuleMatcher(spec: .regex("(unclosed")).matches("x")) { error in
            XCTAssertTrue("\(error)".contains("does not compile"))
        }
    }

    func testParse() {
        XCTAssertEqual(TargetModules.parse("ALL-LINEAR"), .allLinear)
        XCTAssertEqual(TargetModules.parse("q_proj, v_proj"), .names(["q_proj", "v_proj"]))
        XCTAssertEqual(TargetModules.parse("re:.*\\.(q|v)_proj"), .regex(".*\\.(q|v)_proj"))
    }
}
