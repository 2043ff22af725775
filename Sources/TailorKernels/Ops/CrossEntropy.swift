// Softmax cross-entropy per row with the -100 ignore index, logits in f32.
import CTailorKernels
import Foundation
import TailorTensor

/// The label value whose position is left out of the loss (PyTorch's ignore_index).
public let ignoredLabel: Int32 = -100

func crossEntropyForward(logits: Tensor, targets: [Int32]) -> Tensor {
    let m = targets.count, v = logits.count / max(m, 1)
    var losses = Tensor(uninitialized: [m])
    losses.withUnsafeMutableFloats { out in
        logits.withUnsafeFloats { l in
            let (o, lp) = (out.baseAddress!, l.baseAddress!)
            Parallel.forEachChunk(m, costPerItem: 8 * v) { rows in
                for r in rows {
                    let target = targets[r]
                    if target == ignoredLabel { o[r] = 0; continue }
                    precondition(target >= 0 && Int(target) < v, "target \(target) outside the vocabulary of \(v)")
                    let row = lp + r * v
                    var maxValue = -Float.infinity
                    for j in 0..<v { maxValue = max(maxValue, row[j]) }
                    var sum = 0.0
                    for j in 0..<v { sum += Double(fastExp(row[j] - maxValue)) }
                    o[r] = Float(Foundation.log(sum) + Double(maxValue) - Double(row[Int(target)]))
                }
            }
        }
    }
    return losses
}

func crossEntropyForwardReference(logits: Tensor, targets: [Int32]) -> Tensor {
    let m = targets.count, v = logits.count / max(m, 1), l = logits.floats()
    let losses = (0..<m).map { r -> Float in
        let target = targets[r]
        if target == ignoredLabel { return 0 }
        let row = l[(r * v)..<((r + 1) * v)].map(Double.init)
        let maxValue = row.max() ?? 0
        let lse = Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - maxValue) }) + maxValue
        return Float(lse - row[Int(target)])
    }
    return Tensor(shape: [m], values: losses)
}

/// Backward: dlogits[m] = (softmax(logits[m]) - onehot(target)) · dLoss[m]; rows with target -100 get zeros.
func crossEntropyBackward(logits: Tensor, targets: [Int32], dLoss: [Float]) -> Tensor {
    let m = targets.count, v = logits.count / max(m, 1)
    var dLogits = Tensor(uninitialized: logits.shape)
    dLogits.withUnsafeMutableFloats { out in
        logits.withUnsafeFloats { l in
            let (o, lp) = (out.baseAddress!, l.baseAddress!)
            Parallel.forEachChunk(m, costPerItem: 8 * v) { rows in
                for r in rows {
                    let row = lp + r * v, dst = o + r * v
                    let target = targets[r]
                    if target == ignoredLabel || dLoss[r] == 0 {
                        for j in 0..<v { dst[j] = 0 }
                        continue
                    }
                    var maxValue = -Float.infinity
                    for j in 0..<v { maxValue = max(maxValue, row[j]) }
                    var sum: Float = 0
                    for j in 0..<v { let e = Foundation.exp(row[j] - maxValue); dst[j] = e; sum += e }
                    let scale = dLoss[r] / sum
                    for j in 0..<v { dst[j] *= scale }
                    dst[Int(target)] -= dLoss[r]
                }
            }
        }
    }
    return dLogits
}

/// Forward and backward in one pass per row, the gradient written over the logits (the vector kernel
/// `tk_cross_entropy`): exp is computed once per element (by `fastExp`'s polynomial) and no second V-wide buffer is
/// allocated. Losses sum the exponentials in f32 blocks of 256 and the blocks in f64.
func crossEntropyWithGradient(logits: consuming Tensor, targets: [Int32], dLoss: [Float]) -> (losses: Tensor, dLogits: Tensor) {
    let m = targets.count, v = logits.count / max(m, 1)
    for target in targets where target != ignoredLabel {
        precondition(target >= 0 && Int(target) < v, "target \(target) outside the vocabulary of \(v)")
    }
    precondition(dLoss.count == m, "cross entropy: \(dLoss.count) loss weights for \(m) rows")
    guard m > 0 else { return (Tensor(uninitialized: [0]), logits) }
    var dLogits = logits   // unique when the caller handed the logits over: no copy
    var losses = Tensor(uninitialized: [m])
    losses.withUnsafeMutableFloats { out in
        dLogits.withUnsafeMutableFloats { l in
            targets.withUnsafeBufferPointer { t in
                dLoss.withUnsafeBufferPointer { d in
                    let (o, lp) = (UncheckedSendable(out.baseAddress!), UncheckedSendable(l.baseAddress!))
                    let (tp, dp) = (UncheckedSendable(t.baseAddress!), UncheckedSendable(d.baseAddress!))
                    Parallel.forEachChunk(m, costPerItem: 8 * v) { rows in
                        tk_cross_entropy(lp.value, v, tp.value, dp.value, o.value, rows.lowerBound, rows.upperBound)
                    }
                }
            }
        }
    }
    return (losses, dLogits)
}

/// e^x for x ≤ 0 (softmax after subtracting the row maximum), relative error below 3e-7 (2–3 ulp): x = n·ln2 + r with |r| ≤ ln2/2, e^r by
/// its degree-6 Taylor polynomial (truncation below 1.3e-7 relative), 2ⁿ put into the exponent bits. Inputs below
/// -87 are clamped there (e^-87 ≈ 1.6e-38, still a normal float; such terms cannot change a sum that is ≥ 1).
@inline(__always)
func fastExp(_ x: Float) -> Float {
    // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits, without a float-to-int conversion (which
    // would trap on NaN; NaN inputs give NaN here).
    let shifter: Float = 12_582_912
    let clamped = max(x, -87)
    let shifted = clamped * 1.442_695_04 + shifter
    let n = shifted - shifter
    let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
    var p: Float = 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    return p * Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
}
