// The causal language-modelling loss as transformers computes it: labels shifted left, -100 ignored.
import TailorTensor

public enum CausalLMLoss {
    /// Next-token targets for each position of `[B, T]` labels: position t predicts label t+1; the last position
    /// of each row predicts nothing (-100).
    public static func shiftedTargets(labels: [Int32], batch: Int) -> [Int32] {
        let t = labels.count / batch
        var targets = [Int32](repeating: -100, count: labels.count)
        for b in 0..<batch { for i in 0..<(t - 1) { targets[b * t + i] = labels[b * t + i + 1] } }
        return targets
    }

    /// Sum of token negative log-likelihoods and the number of trained targets.
    public static func sum(logits: Tensor, targets: [Int32], backend: any Backend) -> (sum: Double, count: Int) {
        let losses = backend.crossEntropy(logits: logits, targets: targets).floats()
        var total = 0.0, count = 0
        for (i, target) in targets.enumerated() where target != -100 { total += Double(losses[i]); count += 1 }
        return (total, count)
    }
}
