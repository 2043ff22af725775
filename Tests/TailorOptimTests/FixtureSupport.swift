// Loading the torch / transformers fixtures of tools/reference/optim_torch.py and comparing floats in ulps.
import Foundation
import TailorTensor
import XCTest

enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("Fixtures folder missing from the test bundle")
        }
        return folder.appendingPathComponent(name)
    }

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }
}

/// f32 values from their IEEE bit patterns (how the fixtures store them, losslessly).
func floats(_ bits: [UInt32]) -> [Float] { bits.map { Float(bitPattern: $0) } }

/// Distance in units in the last place between two floats (adjacent floats are 1 apart, ±0 are 0 apart).
func ulpDistance(_ a: Float, _ b: Float) -> Int64 {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .max }
    func ordered(_ x: Float) -> Int64 {
        let magnitude = Int64(x.bitPattern & 0x7FFF_FFFF)
        return x.sign == .minus ? -magnitude : magnitude
    }
    return abs(ordered(a) - ordered(b))
}

/// The largest ulp distance between two equally long arrays, and where it is.
func maxUlpDistance(_ actual: [Float], _ expected: [Float]) -> (ulps: Int64, index: Int) {
    precondition(actual.count == expected.count, "\(actual.count) vs \(expected.count) values")
    var worst: (Int64, Int) = (0, -1)
    for i in actual.indices {
        let d = ulpDistance(actual[i], expected[i])
        if d > worst.0 { worst = (d, i) }
    }
    return worst
}

// MARK: Fixture layouts (see tools/reference/optim_torch.py)

struct AdamWFixture: Decodable {
    struct Parameter: Decodable {
        let name: String
        let shape: [Int]
        let initial: [UInt32]
        let decays: Bool
    }
    struct Step: Decodable {
        let learning_rate: Double
        let grad_norm: UInt32
        let gradients: [[UInt32]]
        let clipped_gradients: [[UInt32]]
        let parameters: [[UInt32]]
        let exp_avg: [[UInt32]]
        let exp_avg_sq: [[UInt32]]
        let fused_parameters: [[UInt32]]
        let fused_exp_avg: [[UInt32]]
        let fused_exp_avg_sq: [[UInt32]]
    }
    struct Case: Decodable {
        let name: String
        let schedule: String
        let total_steps: Int
        let warmup_steps: Int
        let learning_rate: Double
        let beta1: Double
        let beta2: Double
        let epsilon: Double
        let weight_decay: Double
        let max_grad_norm: Double
        let parameters: [Parameter]
        let steps: [Step]
    }
    let cases: [Case]
}

struct ScheduleFixture: Decodable {
    struct Table: Decodable {
        let schedule: String
        let total_steps: Int
        let warmup_steps: Int
        let learning_rates: [Double]
        let multipliers: [Double]
    }
    let base_learning_rate: Double
    let tables: [Table]
}

struct StepsFixture: Decodable {
    struct Warmup5: Decodable { let total_steps: Int; let warmup_steps: Double; let result: Int }
    struct Warmup4: Decodable { let total_steps: Int; let warmup_steps: Double; let warmup_ratio: Double; let result: Int }
    struct Warmup: Decodable { let transformers_5: [Warmup5]; let transformers_4: [Warmup4] }
    struct Total: Decodable { let max_steps: Int; let epochs: Double; let batches_per_epoch: Int; let accumulation: Int; let result: Int }
    struct Decay: Decodable { let name: String; let decays: Bool }
    let warmup: Warmup
    let total_steps: [Total]
    let decay: [Decay]
}
