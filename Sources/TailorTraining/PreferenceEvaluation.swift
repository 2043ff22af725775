// Scoring a model on preference pairs (`tailor eval --task preference`): summed completion log-probs of chosen and
// rejected replies, and DPO's implicit rewards against a reference (the base without the adapter).
import TailorData
import TailorModels
import TailorTensor

public enum PreferenceEvaluation {
    /// Each pair's summed completion log-probs under `model` (reference fields 0), in batches of `batchSize` pairs.
    public static func logProbs(of pairs: [PreferencePair], under model: LlamaModel, batchSize: Int, maxLength: Int,
                                truncation: TruncationMode = .keepStart, padID: Int32, backend: any Backend) -> [PairLogProbs] {
        var out: [PairLogProbs] = []
        for start in stride(from: 0, to: pairs.count, by: max(batchSize, 1)) {
            let batch = PreferenceBatch(Array(pairs[start..<min(start + max(batchSize, 1), pairs.count)]), maxLength: maxLength,
                                        truncation: truncation, padID: padID)
            let (sums, counts) = batch.logProbs(under: model, backend: backend)
            let p = batch.pairCount
            out += (0..<p).map { PairLogProbs(chosen: sums[$0], rejected: sums[p + $0], chosenTokens: counts[$0], rejectedTokens: counts[p + $0]) }
        }
        return out
    }

    /// TRL's DPO metrics of `policy` against `reference` (same pairs), or against zero reference log-probs when nil:
    /// then rewards/accuracies is how often the chosen reply is the more likely one.
    public static func metrics(policy: [PairLogProbs], reference: [PairLogProbs]?, beta: Double) -> PreferenceMetrics {
        let objective = PreferenceObjective(objective: .dpo, beta: beta, referenceFree: reference == nil)
        return PreferenceMetrics(policy.enumerated().map { i, p in
            var q = p
            q.referenceChosen = reference?[i].chosen ?? 0
            q.referenceRejected = reference?[i].rejected ?? 0
            return objective.pairLoss(q)
        })
    }
}
