// Softmax cross-entropy per row with the -100 ignore index, logits in f32.
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
                    for j in 0..<v { sum += Double(Foundation.exp(row[j] - maxValue)) }
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
