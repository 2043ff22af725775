// The preference step of the trainer (DPO, ORPO, SimPO): each micro-batch of pairs runs as one batch of
// [chosen…, rejected…] rows; the loss is a function of per-row sums of completion log-probs, so its gradient reaches
// the model as a per-token weight on the token NLL gradient (the same fused cross-entropy backward as SFT).
import Foundation
import TailorData
import TailorModels
import TailorTensor

/// Where DPO's reference log-probs come from.
enum PreferenceReference {
    /// ORPO, SimPO, reference-free DPO.
    case none
    /// A frozen view of the starting weights: the base with its adapters switched off (a new adapter), the starting
    /// adapter (`init_adapter`, as TRL's "ref" adapter copy), or for full fine-tuning a frozen copy of the model (TRL's
    /// `ref_model`). Tensors are shared with the trained weights until they change: a trained adapter is copied, and
    /// full fine-tuning copies each weight at its first update (one more copy of the model in memory).
    case weights(LlamaWeights)
    /// One pass before training, cached in the run folder (`precompute_ref_log_probs`).
    case cached(chosen: [Double], rejected: [Double])
}

/// The reference log-probs as cached in the run folder.
struct ReferenceLogProbsFile: Codable {
    var chosen: [Double]
    var rejected: [Double]
}

extension TrainingConfiguration {
    /// The preference loss this configuration describes.
    public var preferenceObjective: PreferenceObjective {
        PreferenceObjective(objective: objective, lossType: lossType, beta: beta, labelSmoothing: labelSmoothing,
                            simpoGamma: simpoGamma, referenceFree: referenceFree)
    }
}

extension Trainer {
    static let referenceFileName = "reference_logps.json"

    /// The model's starting weights as DPO's reference.
    var startingWeightsAsReference: LlamaWeights {
        var weights = model.weights
        if configuration.method.trainsAdapters, configuration.initAdapter == nil { weights.updateEachLinear { $0.lora = nil } }
        weights.refreshComputeCopies()   // the products the policy's first step uses (bf16 copies of the adapters)
        return weights
    }

    /// Sets up the reference before any weight changes (and before a resume restores trained weights).
    mutating func prepareReference(resume: Bool) throws {
        guard configuration.objective.usesPairs, configuration.preferenceObjective.needsReference else { reference = .none; return }
        guard configuration.precomputeRefLogProbs else {
            reference = .weights(startingWeightsAsReference)
            return
        }
        let url = outputDirectory.appendingPathComponent(Self.referenceFileName)
        if resume, let data = FileManager.default.contents(atPath: url.path) {
            guard let cached = try? JSONDecoder().decode(ReferenceLogProbsFile.self, from: data),
                  cached.chosen.count == pairs.count, cached.rejected.count == pairs.count else {
                throw TrainingError.checkpoint(path: url.path, message: "not the reference log-probs of these \(pairs.count) pairs; delete it to recompute")
            }
            reference = .cached(chosen: cached.chosen, rejected: cached.rejected)
            return
        }
        let weights = startingWeightsAsReference
        var chosen: [Double] = [], rejected: [Double] = []
        for start in stride(from: 0, to: pairs.count, by: configuration.batchSize) {
            let batch = preferenceBatch(Array(start..<min(start + configuration.batchSize, pairs.count)))
            let sums = referenceLogProbs(batch, weights: weights)
            chosen += sums.prefix(batch.pairCount)
            rejected += sums.suffix(batch.pairCount)
        }
        let encoder = JSONEncoder()
        try encoder.encode(ReferenceLogProbsFile(chosen: chosen, rejected: rejected)).write(to: url, options: .atomic)
        reference = .cached(chosen: chosen, rejected: rejected)
    }

    func preferenceBatch(_ rows: [Int]) -> PreferenceBatch {
        PreferenceBatch(rows.map { pairs[$0] }, maxLength: configuration.maxLength, truncation: configuration.truncationMode, padID: padID,
                        trainsPrompt: configuration.objective == .orpo)
    }

    /// Summed completion log-probs of every row of `batch` under `weights`, without gradients.
    func referenceLogProbs(_ batch: PreferenceBatch, weights: LlamaWeights) -> [Double] {
        batch.logProbs(under: LlamaModel(configuration: model.configuration, weights: weights), backend: backend).sums
    }

    /// Forward and backward of one optimizer step's micro-batches of pairs: adds the gradient of the step's loss (the
    /// mean of the micro-batches' mean pair losses) into `gradients`. Returns the loss, TRL's metrics and the tokens.
    func accumulatePreferenceGradients(step: Int, into gradients: inout LlamaGradients) -> (loss: Double, metrics: PreferenceMetrics, tokens: Int) {
        let objective = configuration.preferenceObjective
        let micro = microBatches(ofStep: step)
        let scale = 1 / Double(max(micro.count, 1))
        var loss = 0.0, tokens = 0, parts: [PreferenceMetrics] = []
        for (i, rows) in micro.enumerated() {
            let batch = preferenceBatch(rows)
            let p = batch.pairCount
            tokens += batch.batch.segments.filter { $0 >= 0 }.count
            let ref: [Double]
            switch reference {
            case .none: ref = [Double](repeating: 0, count: 2 * p)
            case .weights(let w): ref = referenceLogProbs(batch, weights: w)
            case .cached(let c, let r): ref = rows.map { c[$0] } + rows.map { r[$0] }
            }
            var pairLosses: [PairLoss] = [], nll = 0.0
            let options = TrainingPassOptions(gradientCheckpointing: configuration.resolvedGradientCheckpointing,
                                              seed: configuration.seed ^ UInt64(step &* 1_000_003 &+ i),
                                              neftuneAlpha: Float(configuration.neftuneNoiseAlpha))
            _ = model.accumulateGradients(batch: batch.batch, lossScale: 0, into: &gradients, options: options, backend: backend) { losses in
                let (sums, counts) = batch.completionSums(tokenLosses: losses)
                pairLosses = (0..<p).map {
                    objective.pairLoss(PairLogProbs(chosen: sums[$0], rejected: sums[p + $0], referenceChosen: ref[$0],
                                                    referenceRejected: ref[p + $0], chosenTokens: counts[$0], rejectedTokens: counts[p + $0]))
                }
                let t = losses.count / max(batch.batch.batch, 1)
                var d = [Float](repeating: 0, count: losses.count)
                for k in 0..<losses.count where batch.completion[k] {
                    let row = k / t, pair = pairLosses[row % p]
                    d[k] = Float(-(row < p ? pair.dChosen : pair.dRejected) * scale / Double(p))   // ∂L/∂NLL = −∂L/∂logp
                }
                if objective.objective == .orpo {
                    // ORPO adds the mean NLL of the chosen rows over prompt and completion (ORPOTrainer.concatenated_forward).
                    let chosenTargets = (0..<(p * t)).filter { batch.batch.targets[$0] != -100 }
                    nll = chosenTargets.reduce(0.0) { $0 + Double(losses[$1]) } / Double(max(chosenTargets.count, 1))
                    for k in chosenTargets { d[k] += Float(scale / Double(max(chosenTargets.count, 1))) }
                }
                return d
            }
            loss += (pairLosses.reduce(0.0) { $0 + $1.loss } / Double(max(p, 1)) + nll) * scale
            parts.append(PreferenceMetrics(pairLosses))
        }
        return (loss, PreferenceMetrics.mean(parts), tokens)
    }
}
