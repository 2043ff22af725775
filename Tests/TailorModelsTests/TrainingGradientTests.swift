// The training pass against transformers/PEFT gradients (fixtures from tools/reference/models_gradients.py):
// the loss and every parameter gradient for full fine-tuning, every lora_A/lora_B gradient for LoRA.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorTensor
import TailorTestSupport

final class TrainingGradientTests: XCTestCase {
    func batch(_ f: FixtureModel) throws -> TrainingBatch {
        let ids = try f.ints("input_ids"), mask = try f.ints("attention_mask"), labels = try f.ints("labels")
        let b = try f.shape("input_ids")[0], t = ids.count / b
        return TrainingBatch(tokens: ids, targets: CausalLMLoss.shiftedTargets(labels: labels, batch: b),
                             segments: mask.map { $0 == 1 ? 0 : -1 },
                             positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) }, batch: b)
    }

    /// The gradients under their checkpoint names (HF for full fine-tuning, PEFT for LoRA), through the model's own
    /// slot table (`trainableSlots`), so a tensor the table forgets is missing here and fails the name check.
    func flatten(_ g: LlamaGradients, weights: LlamaWeights) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, slot) in weights.trainableSlots(fullFineTuning: true) + weights.trainableSlots(fullFineTuning: false) {
            out[name] = g[slot]
        }
        return out
    }

    /// Fixture `name` with PEFT's initial LoRA adapter (`lora-init`) attached, then `edit` applied to its weights.
    func loraFixture(_ name: String, edit: (inout LlamaWeights) -> Void = { _ in }) throws -> FixtureModel {
        let f = try FixtureModel(name)
        var weights = f.model.weights
        _ = try PEFTAdapter.load(from: f.directory.appendingPathComponent("lora-init"), into: &weights)
        edit(&weights)
        return f.with(weights: weights)
    }

    func testFullFineTuningGradientsMatchTransformers() throws {
        for name in LlamaParityTests.names {
            let f = try FixtureModel(name), b = try batch(f)
            let expected = try SafeTensorsFile(url: f.directory.appendingPathComponent("gradients.safetensors"))
            // The head in one block, and in blocks of 3 rows (logits never whole; the tied embedding's gradient summed
            // block by block).
            for (checkpointing, headRows) in [(false, nil), (true, nil), (false, 3)] as [(Bool, Int?)] {
                var grads = LlamaGradients(for: f.model.weights, fullFineTuning: true)
                let sum = f.model.accumulateGradients(batch: b, lossScale: 1 / Float(b.trainedTokenCount), into: &grads,
                                                      options: TrainingPassOptions(gradientCheckpointing: checkpointing,
                                                                                   headBlockRows: headRows),
                                                      backend: CPUBackend())
                XCTAssertEqual(Float(sum / Double(b.trainedTokenCount)), try expected.tensor("loss").floats()[0], accuracy: 1e-5)
                let ours = flatten(grads, weights: f.model.weights)
                let names = expected.names.filter { $0.hasPrefix("grad.") }
                XCTAssertEqual(Set(names.map { String($0.dropFirst(5)) }), Set(ours.keys), "\(name): trained parameters")
                for gradName in names {
                    let param = String(gradName.dropFirst(5))
                    // f32 throughout; a different summation order than torch: 1e-4 relative to the gradient's
                    // largest magnitude (a floor, so near-zero entries compare absolutely).
                    let want = try expected.tensor(gradName).floats()
                    let floor = max(want.map(abs).max() ?? 1, 1e-6)
                    if let failure = closenessFailure(ours[param]?.floats() ?? [], want, tolerance: 1e-4, floor: floor,
                                                      what: "\(name) ∂\(param) (checkpointing \(checkpointing), head rows \(headRows ?? 0))") { XCTFail(failure) }
                }
            }
        }
    }

    func testLoRAGradientsMatchPEFT() throws {
        for name in LlamaParityTests.names {
            let f = try loraFixture(name), b = try batch(f)
            let expected = try SafeTensorsFile(url: f.directory.appendingPathComponent("gradients.safetensors"))
            var grads = LlamaGradients(for: f.model.weights, fullFineTuning: false)
            let sum = f.model.accumulateGradients(batch: b, lossScale: 1 / Float(b.trainedTokenCount), into: &grads,
                                                  backend: CPUBackend())
            XCTAssertEqual(Float(sum / Double(b.trainedTokenCount)), try expected.tensor("lora_loss").floats()[0], accuracy: 1e-5)
            let ours = flatten(grads, weights: f.model.weights)
            let names = expected.names.filter { $0.hasPrefix("lora_grad.") }
            XCTAssertEqual(Set(names.map { String($0.dropFirst(10)) }), Set(ours.keys), "\(name): trained adapters")
            for gradName in names {
                let param = String(gradName.dropFirst(10))
                let want = try expected.tensor(gradName).floats()
                let floor = max(want.map(abs).max() ?? 1, 1e-6)
                if let failure = closenessFailure(ours[param]?.floats() ?? [], want, tolerance: 1e-4, floor: floor,
                                                  what: "\(name) ∂\(param)") { XCTFail(failure) }
            }
        }
    }

    /// Gradient checkpointing recomputes each block without its last product (the down projection's output is not
    /// read); the adapters' gradients, dropout masks included, must equal those of the pass that keeps everything,
    /// bit for bit (the same products on the same operands).
    func testCheckpointedLoRAWithDropoutEqualsTheKeptPass() throws {
        for name in LlamaParityTests.names {
            let f = try loraFixture(name) { weights in
                for l in weights.layers.indices {
                    for slot in weights.layers[l].presentLinears { weights.layers[l][linear: slot]?.lora?.dropout = 0.25 }
                }
            }
            let b = try batch(f)
            func gradients(checkpointing: Bool) -> (Double, [String: Tensor]) {
                var grads = LlamaGradients(for: f.model.weights, fullFineTuning: false)
                let sum = f.model.accumulateGradients(batch: b, lossScale: 1 / Float(b.trainedTokenCount), into: &grads,
                                                      options: TrainingPassOptions(gradientCheckpointing: checkpointing, seed: 7),
                                                      backend: CPUBackend())
                return (sum, flatten(grads, weights: f.model.weights))
            }
            let (keptSum, kept) = gradients(checkpointing: false), (recomputedSum, recomputed) = gradients(checkpointing: true)
            XCTAssertEqual(recomputedSum, keptSum, "\(name): loss")
            XCTAssertFalse(kept.isEmpty)
            for (param, want) in kept {
                XCTAssertTrue(recomputed[param]?.floats() == want.floats(), "\(name) ∂\(param): differs from the kept pass")
            }
            let down = kept.keys.filter { $0.contains("down_proj.lora_A") }
            XCTAssertFalse(down.isEmpty, "\(name): the down projection's adapter is trained")
            XCTAssertTrue(down.allSatisfy { kept[$0]?.floats().contains { $0 != 0 } == true }, "\(name): non-zero ∂A of down_proj")
        }
    }

    func testLoRAGradientsWithBF16BaseProducts() throws {
        for name in LlamaParityTests.names {
            let f = try loraFixture(name) { $0.setMatmulPrecision(.bf16, storeFrozenAsBF16: true) }, b = try batch(f)
            XCTAssertEqual(f.model.weights.layers[0].oProj.weight.dtype, .bf16, "frozen base stored as bf16")
            XCTAssertEqual(f.model.weights.layers[0].oProj.lora?.a.dtype, .f32, "adapters stay f32")
            func gradients(_ backend: any Backend) -> (Double, [String: Tensor]) {
                var grads = LlamaGradients(for: f.model.weights, fullFineTuning: false)
                let sum = f.model.accumulateGradients(batch: b, lossScale: 1 / Float(b.trainedTokenCount), into: &grads,
                                                      backend: backend)
                return (sum, flatten(grads, weights: f.model.weights))
            }
            let (fastSum, fast) = gradients(CPUBackend()), (slowSum, slow) = gradients(ReferenceBackend())
            // Qwen3's q/k norms rescale each head to unit RMS, so a bf16 rounding flip before them moves the attention
            // logits more than in the families without them (1.2e-4 relative measured on tiny-qwen3).
            let lossTolerance = f.model.configuration.qkNorm ? 3e-4 : 1e-4
            XCTAssertEqual(fastSum, slowSum, accuracy: lossTolerance * abs(slowSum), "\(name): bf16 loss, CPU vs reference")
            let expected = try SafeTensorsFile(url: f.directory.appendingPathComponent("gradients.safetensors"))
            XCTAssertEqual(Float(fastSum / Double(b.trainedTokenCount)), try expected.tensor("lora_loss").floats()[0],
                           accuracy: 2e-2, "\(name): bf16 loss near PEFT's f32 loss")
            for gradName in expected.names.filter({ $0.hasPrefix("lora_grad.") }) {
                let param = String(gradName.dropFirst(10))
                let want = try expected.tensor(gradName).floats(), reference = slow[param]?.floats() ?? []
                // CPU (oneDNN) and the reference multiply the same bf16 operands and differ only in f32 summation
                // order — but an ulp of difference can flip a later bf16 rounding (2⁻⁸ relative) of one element, and
                // such flips add up through the layers. Measured, as a fraction of the largest entry: up to 1.4e-2 on
                // tiny-gemma3 and 7.5e-3 on tiny-phi3 with oneDNN's f32 summation order, 9.5e-3 on tiny-gemma3 and
                // 5.9e-3 on tiny-gemma2 with OpenBLAS's; under 3.3e-3 elsewhere. A wrong product is off by order 1.
                // Single products agree to 1e-5 (kernel tests).
                if let failure = closenessFailure(fast[param]?.floats() ?? [], reference, tolerance: 2.5e-2,
                                                  floor: max(reference.map(abs).max() ?? 1, 1e-6),
                                                  what: "\(name) ∂\(param) bf16 CPU vs reference") { XCTFail(failure) }
                // Against PEFT's f32 gradients: bf16 keeps 8 significant bits, so a few percent of the largest entry
                // (6e-2 measured on these random tiny models; a wrong product would be off by order 1).
                if let failure = closenessFailure(fast[param]?.floats() ?? [], want, tolerance: 1e-1,
                                                  floor: max(want.map(abs).max() ?? 1, 1e-6),
                                                  what: "\(name) ∂\(param) bf16 vs PEFT f32") { XCTFail(failure) }
            }
        }
    }

    func testFullFineTuningGradientsWithBF16Products() throws {
        for name in LlamaParityTests.names {
            var f = try FixtureModel(name)
            let b = try batch(f)
            var weights = f.model.weights
            weights.setMatmulPrecision(.bf16, storeFrozenAsBF16: false)
            XCTAssertEqual(weights.layers[0].oProj.weight.dtype, .f32, "trained weights stay f32 masters")
            f = f.with(weights: weights)
            func gradients(_ backend: any Backend) -> [String: Tensor] {
                var grads = LlamaGradients(for: f.model.weights, fullFineTuning: true)
                _ = f.model.accumulateGradients(batch: b, lossScale: 1 / Float(b.trainedTokenCount), into: &grads, backend: backend)
                return flatten(grads, weights: f.model.weights)
            }
            let fast = gradients(CPUBackend()), slow = gradients(ReferenceBackend())
            let expected = try SafeTensorsFile(url: f.directory.appendingPathComponent("gradients.safetensors"))
            for gradName in expected.names.filter({ $0.hasPrefix("grad.") }) {
                let param = String(gradName.dropFirst(5))
                let want = try expected.tensor(gradName).floats(), reference = slow[param]?.floats() ?? []
                // Same tolerances and reasons as the LoRA test above.
                if let failure = closenessFailure(fast[param]?.floats() ?? [], reference, tolerance: 1e-2,
                                                  floor: max(reference.map(abs).max() ?? 1, 1e-6),
                                                  what: "\(name) ∂\(param) bf16 CPU vs reference") { XCTFail(failure) }
                if let failure = closenessFailure(fast[param]?.floats() ?? [], want, tolerance: 1e-1,
                                                  floor: max(want.map(abs).max() ?? 1, 1e-6),
                                                  what: "\(name) ∂\(param) bf16 vs transformers f32") { XCTFail(failure) }
            }
        }
    }
}
