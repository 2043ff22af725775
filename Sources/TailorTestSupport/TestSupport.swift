// Helpers shared by the test targets: seeded random tensors and closeness checks with readable failures.
import TailorTensor

/// Seeded generator for reproducible tests.
public typealias SeededGenerator = SplitMix64

extension Tensor {
    /// An f32 tensor with values uniform in [-scale, scale).
    public static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -scale..<scale, using: &rng) }
        return Tensor(shape: shape, values: values)
    }
}

/// The largest element-wise error of `actual` against `expected`, measured as |a - e| / max(|e|, floor):
/// relative for large values, absolute (scaled by `floor`) near zero.
public func maxRelativeError(_ actual: [Float], _ expected: [Float], floor: Float = 1) -> (error: Float, index: Int) {
    precondition(actual.count == expected.count, "compared arrays differ in length: \(actual.count) vs \(expected.count)")
    var worst: (Float, Int) = (0, -1)
    for i in actual.indices {
        let scale = max(abs(expected[i]), floor)
        let error = actual[i].isNaN != expected[i].isNaN ? Float.infinity : abs(actual[i] - expected[i]) / scale
        if error > worst.0 || error.isNaN { worst = (error, i) }
    }
    return worst
}

/// A message describing the worst mismatch, or nil when every element is within `tolerance`.
public func closenessFailure(_ actual: [Float], _ expected: [Float], tolerance: Float, floor: Float = 1,
                             what: String) -> String? {
    guard actual.count == expected.count else { return "\(what): \(actual.count) values, expected \(expected.count)" }
    let (error, index) = maxRelativeError(actual, expected, floor: floor)
    guard error > tolerance else { return nil }
    return "\(what): error \(error) > \(tolerance) at [\(index)]: \(actual[index]) vs expected \(expected[index])"
}
