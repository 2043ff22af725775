// The parallel AdamW kernel against its naive reference, clipping edge cases, configuration decoding.
import CTailorKernels
import Foundation
@testable import TailorOptim
import TailorTensor
import TailorTestSupport
import XCTest

final class KernelTests: XCTestCase {
    /// Large enough for many parallel chunks (and a ragged last one); the parallel vector kernel (each of its bodies:
    /// AVX2 where the CPU has it, and the portable one) must equal the naive scalar loop bit for bit.
    func testParallelUpdateEqualsNaive() {
        for body in [TK_KERNEL_AVX512, TK_KERNEL_SCALAR] {
            tk_cap_inference_kernel(Int32(body))
            defer { tk_cap_inference_kernel(Int32(TK_KERNEL_AVX512)) }
            parallelUpdateEqualsNaive()
        }
    }

    func parallelUpdateEqualsNaive() {
        let count = 300_007
        let p0 = Tensor.random([count], seed: 1), g = Tensor.random([count], seed: 2)
        let m0 = Tensor.random([count], seed: 3, scale: 0.1)
        let v0 = Tensor(shape: [count], values: Tensor.random([count], seed: 4, scale: 0.01).floats().map(\.magnitude))
        // lerp weight below and above 0.5 (torch's two lerp formulas), with and without weight decay
        for (beta1, decay) in [(0.9, Float(1 - 1e-3 * 0.1)), (0.3, Float(1 - 1e-3 * 0.1)), (0.9, nil)] as [(Double, Float?)] {
            let scalars = AdamWScalars(decay: decay, lerpWeight: Float(1 - beta1), beta2: 0.999,
                                       oneMinusBeta2: Float(1 - 0.999), biasCorrection2Sqrt: 0.0447, epsilon: 1e-8,
                                       negativeStepSize: -0.0123)
            var p = p0, m = m0, v = v0
            let buffer = AdamWBuffers(parameter: p.uniqueFloatAddress(), gradient: g.floatAddress(),
                                      expAvg: m.uniqueFloatAddress(), expAvgSq: v.uniqueFloatAddress(),
                                      count: count, scalars: scalars)
            withExtendedLifetime((p, g, m, v)) { adamwUpdateParallel([buffer], chunkSize: 4096) }
            var np = p0.floats(), nm = m0.floats(), nv = v0.floats()
            adamwUpdateNaive(parameter: &np, gradient: g.floats(), expAvg: &nm, expAvgSq: &nv, scalars: scalars)
            let what = "beta1 \(beta1), decay \(decay.map { "\($0)" } ?? "none"), body cap \(tk_inference_kernel_cap())"
            XCTAssertTrue(p.floats().map(\.bitPattern) == np.map(\.bitPattern), "parameters: \(what)")
            XCTAssertTrue(m.floats().map(\.bitPattern) == nm.map(\.bitPattern), "exp_avg: \(what)")
            XCTAssertTrue(v.floats().map(\.bitPattern) == nv.map(\.bitPattern), "exp_avg_sq: \(what)")
            XCTAssertNotEqual(np, p0.floats())
        }
    }

    func testStepDoesNotWriteIntoSharedCopies() {
        let original = Tensor.random([4, 4], seed: 9)
        let alias = original
        var parameters = [original]
        var optimizer = AdamW(configuration: AdamWConfiguration(learningRate: 0.1))
        optimizer.step(parameters: &parameters, gradients: [Tensor.random([4, 4], seed: 10)], names: ["w"],
                       learningRate: 0.1)
        XCTAssertEqual(alias.floats(), original.floats())
        XCTAssertNotEqual(parameters[0].floats(), original.floats())
    }

    func testNoDecayGroupIsUntouchedByWeightDecay() {
        // Zero gradient and lr > 0: only weight decay could move a parameter (m = v = 0 gives a zero update).
        var parameters = [Tensor.random([3], seed: 1), Tensor.random([3], seed: 2)]
        let before = parameters.map { $0.floats() }
        var optimizer = AdamW(configuration: AdamWConfiguration(learningRate: 0.5, weightDecay: 0.1))
        optimizer.step(parameters: &parameters, gradients: [Tensor(zeros: [3]), Tensor(zeros: [3])],
                       names: ["layer.weight", "layer.bias"], learningRate: 0.5)
        XCTAssertEqual(parameters[1].floats(), before[1])
        XCTAssertEqual(parameters[0].floats(), before[0].map { $0 * Float(1 - 0.5 * 0.1) })
    }

    func testClippingDisabledLeavesGradientsAndReportsNorm() {
        var gradients = [Tensor(shape: [2], values: [3, 4]), Tensor(shape: [1], values: [12])]
        let norm = GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 0)
        XCTAssertEqual(norm, 13)
        XCTAssertEqual(gradients.map { $0.floats() }, [[3, 4], [12]])
        XCTAssertEqual(GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 1.3), 13)
        // coef = (1 / (13 + 1e-6)) · 1.3 in f32
        let coef = (1 / (Float(13) + Float(1e-6))) * Float(1.3)
        XCTAssertEqual(gradients.map { $0.floats() }, [[3 * coef, 4 * coef], [12 * coef]])
    }

    func testLargeTensorClippingIsParallelAndExact() {
        // Several scaling chunks; the result must equal element-wise multiplication by the same coefficient.
        let big = Tensor.random([200_003], seed: 5)
        var gradients = [big]
        let norm = GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 1)
        let total = Float(norm)
        XCTAssertEqual(total, GradientClipping.tensorNorm(big))
        let coef = min((1 / (total + Float(1e-6))) * 1, 1)
        XCTAssertEqual(gradients[0].floats(), big.floats().map { $0 * coef })
    }

    func testConfigurationDecodesHuggingFaceKeysAndValidates() throws {
        let json = #"{"learning_rate": 0.0002, "adam_beta2": 0.95, "weight_decay": 0.01}"#
        let c = try JSONDecoder().decode(AdamWConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(c, AdamWConfiguration(learningRate: 2e-4, beta2: 0.95, weightDecay: 0.01))
        let bad = #"{"learning_rate": 0.0002, "adam_beta1": 1.0}"#
        XCTAssertThrowsError(try JSONDecoder().decode(AdamWConfiguration.self, from: Data(bad.utf8))) { error in
            XCTAssertTrue("\(error)".contains("adam_beta1"), "\(error)")
        }
        XCTAssertEqual(LearningRateSchedule(rawValue: "constant_with_warmup"), .constantWithWarmup)
    }
}
