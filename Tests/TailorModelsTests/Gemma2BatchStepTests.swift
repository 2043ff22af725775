// The continuous-batching step on tiny-gemma2 and tiny-gemma3 (local and global RoPE bases): rows of different lengths (past the 4-token window), one with the
// lora-init adapter unmerged, give `forward`'s last-token logits — the step runs Gemma's scaled embeddings,
// post-norms, GeGLU, score scale and both soft-caps as the full forward does.
import Foundation
import XCTest
import TailorKernels
import TailorModels
import TailorTestSupport

final class Gemma2BatchStepTests: XCTestCase {
    func testForwardStepMatchesForward() throws {
        for name in ["tiny-gemma2", "tiny-gemma3"] { try check(name) }
    }

    func check(_ name: String) throws {
        let f = try FixtureModel(name)
        let base = f.model
        let adapterURL = f.directory.appendingPathComponent("lora-init")
        var adaptedWeights = base.weights
        _ = try PEFTAdapter.load(from: adapterURL, into: &adaptedWeights)
        let adapted = LlamaModel(configuration: base.configuration, weights: adaptedWeights)
        let lora = try UnmergedAdapter(directory: adapterURL, base: base.weights)
        let prompts: [[Int32]] = [[5, 9, 77, 31, 2, 100, 7, 8, 200], [9], [40, 41, 42, 43, 44, 45]]
        var caches = prompts.map { KVCache(configuration: base.configuration, batch: 1, capacity: $0.count) }
        let rows = prompts.enumerated().map { BatchStepRow(tokens: $1, adapter: $0 == 2 ? lora : nil) }
        let logits = base.forwardStep(rows: rows, caches: &caches, backend: CPUBackend()).floats()
        let v = base.configuration.vocabSize
        for (r, prompt) in prompts.enumerated() {
            let model = r == 2 ? adapted : base
            let alone = model.forward(tokens: prompt, batch: 1, backend: CPUBackend()).floats()
            let expected = Array(alone[((prompt.count - 1) * v)..<(prompt.count * v)])
            if let failure = closenessFailure(Array(logits[(r * v)..<((r + 1) * v)]), expected, tolerance: 1e-5, what: "\(name) row \(r)") {
                XCTFail(failure)
            }
        }
    }
}
