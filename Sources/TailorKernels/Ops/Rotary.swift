// Rotary position embedding, rotate-half form (element i pairs with element i + D/2), as in transformers.
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

/// `x' = x·cos + rotate_half(x)·sin` per head; rotate_half(x) = concat(-x[D/2:], x[:D/2]).
func applyRotaryForward(_ x: Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
    let half = angles.cos.shape[1], d = 2 * half, m = angles.cos.shape[0]
    precondition(x.count == m * heads * d, "rope: \(x.shape) is not [\(m), \(heads)·\(d)]")
    var y = Tensor(uninitialized: x.shape)
    y.withUnsafeMutableFloats { out in
        x.withUnsafeFloats { input in
            angles.cos.withUnsafeFloats { cosTable in
                angles.sin.withUnsafeFloats { sinTable in
                    let (o, xp, cp, sp) = (out.baseAddress!, input.baseAddress!, cosTable.baseAddress!, sinTable.baseAddress!)
                    Parallel.forEachChunk(m, costPerItem: 6 * heads * d) { rows in
                        for r in rows {
                            let c = cp + r * half, s = sp + r * half
                            for h in 0..<heads {
                                let src = xp + (r * heads + h) * d, dst = o + (r * heads + h) * d
                                for i in 0..<half {
                                    let a = src[i], b = src[i + half]
                                    dst[i] = a * c[i] + (-b) * s[i]
                                    dst[i + half] = b * c[i] + a * s[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return y
}

/// Backward of the rotation (its transpose): dx[i] = dy[i]·cos + dy[i+D/2]·sin, dx[i+D/2] = dy[i+D/2]·cos - dy[i]·sin.
func applyRotaryBackward(_ dOutput: Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
    // Rotating by the negative angle is the inverse (and the transpose) of rotating by the angle.
    let negated = RotaryAngles(cos: angles.cos, sin: Tensor(shape: angles.sin.shape, values: angles.sin.floats().map { -$0 }))
    return applyRotaryForward(dOutput, heads: heads, angles: negated)
}
