// Rotary position embedding, rotate-half form (element i pairs with element i + D/2), as in transformers.
import CTailorKernels
import Foundation
import TailorTensor

/// cos/sin of `f32(position) · inv[i]`: one f32 product per angle, as torch's outer product computes it.
func rotaryAnglesForward(positions: [Int32], inverseFrequencies inv: [Float]) -> RotaryAngles {
    let half = inv.count
    var cosValues = [Float](repeating: 0, count: positions.count * half)
    var sinValues = cosValues
    for (m, p) in positions.enumerated() {
        for i in 0..<half {
            let angle = Float(p) * inv[i]
            cosValues[m * half + i] = Foundation.cos(angle)
            sinValues[m * half + i] = Foundation.sin(angle)
        }
    }
    return RotaryAngles(cos: Tensor(shape: [positions.count, half], values: cosValues),
                        sin: Tensor(shape: [positions.count, half], values: sinValues))
}

/// `x' = x·cos + rotate_half(x)·sin` per head; rotate_half(x) = concat(-x[D/2:], x[:D/2]). Rotates `x`'s bytes in
/// place when the caller handed over their only reference, into a fresh tensor otherwise.
func applyRotaryForward(_ x: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
    rotate(consume x, heads: heads, angles: angles, sign: 1)
}

/// Backward of the rotation (its transpose, the rotation by the negative angles): dx[i] = dy[i]·cos + dy[i+D/2]·sin,
/// dx[i+D/2] = dy[i+D/2]·cos - dy[i]·sin; in place as `applyRotaryForward`.
func applyRotaryBackward(_ dOutput: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
    rotate(consume dOutput, heads: heads, angles: angles, sign: -1)
}

private func rotate(_ x: consuming Tensor, heads: Int, angles: RotaryAngles, sign: Float) -> Tensor {
    let half = angles.cos.shape[1], m = angles.cos.shape[0]
    precondition(x.count == m * heads * 2 * half, "rope: \(x.shape) is not [\(m), \(heads)·\(2 * half)]")
    func run(_ source: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let (src, o) = (UncheckedSendable(source), UncheckedSendable(out))
        angles.cos.withUnsafeFloats { cosTable in
            angles.sin.withUnsafeFloats { sinTable in
                let (c, s) = (UncheckedSendable(cosTable.baseAddress!), UncheckedSendable(sinTable.baseAddress!))
                Parallel.forEachChunk(m, costPerItem: 6 * heads * 2 * half) { rows in
                    tk_rope(src.value, c.value, s.value, heads, half, sign, o.value, rows.lowerBound, rows.upperBound)
                }
            }
        }
    }
    var input = consume x
    if input.isUniquelyReferenced {
        input.withUnsafeMutableFloats { run(UnsafePointer($0.baseAddress!), $0.baseAddress!) }
        return input
    }
    var y = Tensor(uninitialized: input.shape)
    y.withUnsafeMutableFloats { out in input.withUnsafeFloats { run($0.baseAddress!, out.baseAddress!) } }
    return y
}
