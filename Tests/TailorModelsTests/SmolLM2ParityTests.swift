// The real SmolLM2-135M-Instruct GGUF against transformers (fixtures from tools/reference/models_smollm2.py):
// logits, 32-token greedy continuations and the loss of a scored sequence. Needs TAILOR_SMOLLM2_GGUF.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTensor
import TailorTestSupport

final class SmolLM2ParityTests: XCTestCase {
    static func loadModel() throws -> LoadedModel {
        guard let path = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"],
              FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF to the SmolLM2-135M-Instruct.Q4_1.gguf path (scripts/fetch-smollm2.sh)")
        }
        return try LoadedModel.load(from: URL(fileURLWithPath: path))
    }

    func reference() throws -> SafeTensorsFile {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { throw XCTSkip("no fixtures") }
        return try SafeTensorsFile(url: root.appendingPathComponent("smollm2/reference.safetensors"))
    }

    func testLogitsAndGreedyContinuationsMatchTransformers() throws {
        let loaded = try Self.loadModel(), ref = try reference(), backend = CPUBackend()
        for p in 0..<5 {
            let ids = try ref.tensor("prompt_\(p).input_ids").floats().map { Int32($0) }
            let logits = loaded.model.forward(tokens: ids, batch: 1, backend: backend).floats()
            let v = loaded.model.configuration.vocabSize
            let lastTwo = Array(logits[((ids.count - 2) * v)...])
            // Both sides dequantize the same Q4_1/Q8_0 blocks to f32; the rest is f32 arithmetic in another order:
            // 1e-3 relative with a floor of 1 logit unit.
            if let failure = closenessFailure(lastTwo, try ref.tensor("prompt_\(p).last_logits").floats(), tolerance: 1e-3,
                                              what: "prompt \(p) logits") { XCTFail(failure) }
            let expected = try ref.tensor("prompt_\(p).greedy_ids").floats().map { Int32($0) }
            let produced = loaded.model.generate(prompt: ids, options: GenerationOptions(maxNewTokens: 32), backend: backend)
            XCTAssertEqual(produced, expected, "prompt \(p): greedy continuation differs from transformers")
        }
    }

    func testScoreMatchesTransformersLoss() throws {
        let loaded = try Self.loadModel(), ref = try reference(), backend = CPUBackend()
        let ids = try ref.tensor("score.input_ids").floats().map { Int32($0) }
        let logits = loaded.model.forward(tokens: ids, batch: 1, backend: backend)
        let (sum, count) = CausalLMLoss.sum(logits: logits, targets: CausalLMLoss.shiftedTargets(labels: ids, batch: 1),
                                            backend: backend)
        XCTAssertEqual(count, ids.count - 1)
        XCTAssertEqual(sum / Double(count), Double(try ref.tensor("score.loss").floats()[0]), accuracy: 1e-4)
    }
}
