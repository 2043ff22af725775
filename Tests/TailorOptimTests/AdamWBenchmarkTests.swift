// Timing of one AdamW step and one clipping pass over SmolLM2-135M's parameter shapes (opt-in, release build).
import Foundation
import TailorOptim
import TailorTensor
import XCTest

final class AdamWBenchmarkTests: XCTestCase {
    /// SmolLM2-135M: 30 layers, hidden 576, intermediate 1536, 9 heads / 3 KV heads of 64, vocab 49152 (tied).
    static func smolLM2Shapes() -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = [("model.embed_tokens.weight", [49152, 576])]
        for l in 0..<30 {
            let p = "model.layers.\(l)."
            out += [(p + "input_layernorm.weight", [576]), (p + "self_attn.q_proj.weight", [576, 576]),
                    (p + "self_attn.k_proj.weight", [192, 576]), (p + "self_attn.v_proj.weight", [192, 576]),
                    (p + "self_attn.o_proj.weight", [576, 576]), (p + "post_attention_layernorm.weight", [576]),
                    (p + "mlp.gate_proj.weight", [1536, 576]), (p + "mlp.up_proj.weight", [1536, 576]),
                    (p + "mlp.down_proj.weight", [576, 1536])]
        }
        out.append(("model.norm.weight", [576]))
        return out
    }

    /// Run with `TAILOR_OPTIM_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter AdamWBenchmarkTests`.
    func testStepTimeOnSmolLM2Shapes() throws {
        guard ProcessInfo.processInfo.environment["TAILOR_OPTIM_BENCH"] == "1" else {
            throw XCTSkip("set TAILOR_OPTIM_BENCH=1 (and build with -c release) to time the optimizer")
        }
        let shapes = Self.smolLM2Shapes()
        let names = shapes.map(\.name)
        func filled(_ shape: [Int], _ value: Float) -> Tensor {
            var t = Tensor(uninitialized: shape)
            t.withUnsafeMutableFloats { $0.initialize(repeating: value) }
            return t
        }
        var parameters = shapes.map { filled($0.shape, 0.02) }
        var gradients = shapes.map { filled($0.shape, 1e-3) }
        let total = parameters.reduce(0) { $0 + $1.count }
        var optimizer = AdamW(configuration: AdamWConfiguration(learningRate: 2e-4, weightDecay: 0.01))
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let first = seconds {
            optimizer.step(parameters: &parameters, gradients: gradients, names: names, learningRate: 2e-4)
        }
        var steps: [Double] = []
        for _ in 0..<5 {
            steps.append(seconds {
                optimizer.step(parameters: &parameters, gradients: gradients, names: names, learningRate: 2e-4)
            })
        }
        var clips: [Double] = []
        for _ in 0..<3 { clips.append(seconds { GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 1) }) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(String(format: "AdamW on %d parameters (%d tensors), %d cores: first step %.3f s (allocates state), "
                     + "step median %.3f s (min %.3f), clip median %.3f s", total, shapes.count, cores, first,
                     steps.sorted()[2], steps.min() ?? 0, clips.sorted()[1]))
        XCTAssertGreaterThan(total, 134_000_000)
    }
}
