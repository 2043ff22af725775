// QLoRA against transformers + bitsandbytes + PEFT on the tiny models (fixtures from tools/reference/qlora_fixtures.py):
// the NF4 base bit for bit, the 4-bit model's logits, the LoRA gradients on it, and a 10-step trajectory.
import Foundation
import XCTest
import TailorFormats
import TailorKernels
import TailorModels
import TailorQuantization
import TailorTensor
import TailorTestSupport
import TailorTraining

final class QLoRAParityTests: XCTestCase {
    static let fixtures = TrajectoryTests.fixtures

    func reference(_ name: String) throws -> SafeTensorsFile {
        let url = Self.fixtures.appendingPathComponent("qlora/\(name)/reference.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("no QLoRA fixtures for \(name)") }
        return try SafeTensorsFile(url: url)
    }

    /// The tiny model as transformers + bitsandbytes quantized and saved it (model-4bit/), loaded by Tailor's
    /// 4-bit folder reader, plus the data and the expected QLoRA trajectory.
    func quantizedModel(_ name: String) throws -> (LlamaModel, ModelConfig, [TrainingExample], TrajectoryTests.Expected.Run?) {
        let (_, config, rows, _) = try TrajectoryTests.load(name)
        let loaded = try LoadedModel.load(from: Self.fixtures.appendingPathComponent("qlora/\(name)/model-4bit"))
        struct QLoRARun: Decodable { let lora: TrajectoryTests.Expected.Run? }
        let run = try? JSONDecoder().decode(QLoRARun.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("qlora/\(name)/trajectory.json")))
        return (loaded.model, config, rows, run?.lora)
    }

    func testFourBitFolderFromTransformersLoadsAndGivesItsLogits() throws {
        for name in ["tiny-llama", "tiny-qwen2"] {
            let ref = try reference(name)
            let (model, _, _, _) = try quantizedModel(name)
            for (l, layer) in model.weights.layers.enumerated() {
                for linear in layer.presentLinears {
                    let key = "dequant.model.layers.\(l).\(linear.moduleName).weight"
                    guard let packed = layer[linear: linear]?.packed as? QuantizedFourBitMatrix else { return XCTFail("\(key) not packed") }
                    XCTAssertEqual(packed.dequantizeAll(as: .f32).floats(), try ref.tensor(key).floats(), "\(name) \(key)")
                }
            }
            let ids = try ref.tensor("input_ids").floats().map { Int32($0) }, mask = try ref.tensor("attention_mask").floats()
            let batch = try ref.tensor("input_ids").shape[0]
            let logits = model.forward(tokens: ids, batch: batch, segments: mask.map { $0 == 1 ? 0 : -1 }, backend: CPUBackend())
            // The bar for QLoRA: 1e-3 (same dequantized weights, f32 compute in both).
            if let failure = closenessFailure(logits.floats(), try ref.tensor("logits").floats(), tolerance: 1e-3,
                                              what: "\(name) 4-bit logits") { XCTFail(failure) }
        }
    }

    /// Tailor's quantizer against bitsandbytes' on the same f32 weights: the 4-bit codes are identical; nested 8-bit
    /// scale codes may sit one step away where bnb's CPU quantizer is approximate (spec §1.5).
    func testTailorQuantizerMatchesBitsAndBytesCodes() throws {
        for name in ["tiny-llama", "tiny-qwen2"] {
            let (dense, _, _, _) = try TrajectoryTests.load(name)
            let (bnb, _, _, _) = try quantizedModel(name)
            for (l, layer) in dense.weights.layers.enumerated() {
                for linear in layer.presentLinears {
                    guard let weight = layer[linear: linear]?.weight,
                          let theirs = bnb.weights.layers[l][linear: linear]?.packed as? QuantizedFourBitMatrix else { return XCTFail("missing \(linear)") }
                    let ours = try FourBitQuantizer().quantize(weight)
                    XCTAssertEqual(ours.packed.floats(), theirs.packed.floats(), "\(name) layer \(l) \(linear): 4-bit codes")
                    guard case .nested(let a) = ours.scales, case .nested(let b) = theirs.scales else { return XCTFail("not double-quantized") }
                    let steps = zip(a.codes.floats(), b.codes.floats()).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(steps, 1, "\(name) layer \(l) \(linear): nested codes more than one step apart")
                }
            }
        }
    }

    func testLoRAGradientsOnTheFourBitBaseMatchPEFT() throws {
        for name in ["tiny-llama", "tiny-qwen2"] {
            let ref = try reference(name)
            var (model, _, _, _) = try quantizedModel(name)
            _ = try PEFTAdapter.load(from: Self.fixtures.appendingPathComponent("\(name)/lora-init"), into: &model.weights)
            let ids = try ref.tensor("input_ids").floats().map { Int32($0) }, mask = try ref.tensor("attention_mask").floats()
            let labels = try ref.tensor("labels").floats().map { Int32($0) }
            let b = try ref.tensor("input_ids").shape[0], t = ids.count / b
            let batch = TrainingBatch(tokens: ids, targets: CausalLMLoss.shiftedTargets(labels: labels, batch: b),
                                      segments: mask.map { $0 == 1 ? 0 : -1 }, positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) }, batch: b)
            var grads = LlamaGradients(for: model.weights, fullFineTuning: false)
            let sum = model.accumulateGradients(batch: batch, lossScale: 1 / Float(batch.trainedTokenCount), into: &grads,
                                                options: TrainingPassOptions(gradientCheckpointing: true), backend: CPUBackend())
            XCTAssertEqual(Float(sum / Double(batch.trainedTokenCount)), try ref.tensor("lora_loss").floats()[0], accuracy: 1e-4)
            for (peftName, slot) in model.weights.trainableSlots(fullFineTuning: false) {
                let want = try ref.tensor("lora_grad." + peftName).floats()
                let floor = max(want.map(abs).max() ?? 1, 1e-6)
                if let failure = closenessFailure(grads[slot]?.floats() ?? [], want, tolerance: 1e-3, floor: floor,
                                                  what: "\(name) ∂\(peftName)") { XCTFail(failure) }
            }
        }
    }

    func testTenStepQLoRATrajectoryMatchesPEFT() throws {
        for name in ["tiny-llama", "tiny-qwen2"] {
            _ = try reference(name)
            let (model, config, rows, expected) = try quantizedModel(name)
            guard let run = expected else { throw XCTSkip("no QLoRA trajectory for \(name)") }
            var c = TrajectoryTests.configuration(.qlora, learningRate: run.learning_rate,
                                                    initAdapter: Self.fixtures.appendingPathComponent("\(name)/lora-init"))
            c.gradientCheckpointing = false
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-qlora-\(UUID())")
            defer { try? FileManager.default.removeItem(at: out) }
            // The base is bitsandbytes' own 4-bit state; the trainer's quantization step leaves packed layers alone.
            var trainer = try Trainer(model: model, modelConfig: config, baseModelName: name, configuration: c, train: rows,
                                      outputDirectory: out, padID: 0, backend: CPUBackend())
            try trainer.run()
            for (ours, theirs) in zip(trainer.history, run.steps) {
                XCTAssertEqual(ours.loss, theirs.exact_loss, accuracy: 1e-3 * abs(theirs.exact_loss), "\(name) step \(theirs.step)")
                XCTAssertEqual(ours.gradNorm, theirs.grad_norm, accuracy: 1e-3 * abs(theirs.grad_norm), "\(name) step \(theirs.step) grad norm")
            }
            XCTAssertEqual(trainer.history.count, run.steps.count)
        }
    }
}
