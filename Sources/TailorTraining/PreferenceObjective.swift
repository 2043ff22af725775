// Preference losses over per-sequence completion log-probabilities, with their derivatives, exactly as TRL 1.16.0:
// DPO from trl/trainer/dpo_trainer.py (`DPOTrainer._compute_loss`), ORPO from trl/experimental/orpo/orpo_trainer.py
// (`odds_ratio_loss`), SimPO from trl/experimental/cpo/cpo_trainer.py (`cpo_loss`, loss_type "simpo", cpo_alpha 0).
import Foundation

/// What a training run minimises.
public enum TrainingObjective: String, Codable, Sendable, CaseIterable {
    /// Supervised fine-tuning: mean token negative log-likelihood.
    case sft
    /// Direct preference optimisation against a frozen reference.
    case dpo
    /// Odds-ratio preference optimisation: chosen NLL − β·log σ(log odds ratio), no reference.
    case orpo
    /// Simple preference optimisation: length-normalised log-probs with a margin γ, no reference.
    case simpo

    /// DPO, ORPO and SimPO train on preference pairs.
    public var usesPairs: Bool { self != .sft }
}

/// TRL's DPO `loss_type`s.
public enum DPOLossType: String, Codable, Sendable, CaseIterable {
    case sigmoid, ipo, hinge, robust
}

/// One pair's summed completion log-probabilities (policy and reference) and completion lengths.
public struct PairLogProbs: Sendable, Equatable {
    public var chosen: Double
    public var rejected: Double
    public var referenceChosen: Double
    public var referenceRejected: Double
    public var chosenTokens: Int
    public var rejectedTokens: Int

    public init(chosen: Double, rejected: Double, referenceChosen: Double = 0, referenceRejected: Double = 0,
                chosenTokens: Int, rejectedTokens: Int) {
        self.chosen = chosen
        self.rejected = rejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
    }
}

/// One pair's loss, its derivatives with respect to the summed chosen and rejected log-probs, and what TRL logs.
public struct PairLoss: Sendable, Equatable {
    public var loss: Double
    public var dChosen: Double
    public var dRejected: Double
    public var rewardChosen: Double
    public var rewardRejected: Double
    /// The log-prob TRL logs: the sum for DPO, the per-token mean for ORPO and SimPO.
    public var loggedChosen: Double
    public var loggedRejected: Double
}

/// A preference objective's hyperparameters and its per-pair loss.
public struct PreferenceObjective: Sendable, Equatable {
    public var objective: TrainingObjective
    public var lossType: DPOLossType
    public var beta: Double
    public var labelSmoothing: Double
    public var simpoGamma: Double
    /// DPO against a reference whose log-probs are all 0 (older TRL's `reference_free`).
    public var referenceFree: Bool

    public init(objective: TrainingObjective, lossType: DPOLossType = .sigmoid, beta: Double = 0.1,
                labelSmoothing: Double = 0, simpoGamma: Double = 0.5, referenceFree: Bool = false) {
        self.objective = objective
        self.lossType = lossType
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.simpoGamma = simpoGamma
        self.referenceFree = referenceFree
    }

    /// Whether the loss needs reference log-probs.
    public var needsReference: Bool { objective == .dpo && !referenceFree }

    /// log σ(x), stable for large |x|.
    static func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    /// log(1 − eˣ) for x < 0, as ORPO's `log1mexp` (branch at −ln 2).
    static func log1mexp(_ x: Double) -> Double { x < -0.6931471805599453 ? log1p(-exp(x)) : log(-expm1(x)) }

    /// The loss of one pair and its derivatives with respect to the summed completion log-probs.
    public func pairLoss(_ p: PairLogProbs) -> PairLoss {
        let b = beta, e = labelSmoothing
        switch objective {
        case .sft, .dpo:
            let refC = referenceFree ? 0 : p.referenceChosen, refR = referenceFree ? 0 : p.referenceRejected
            let delta = (p.chosen - refC) - (p.rejected - refR)
            var loss: Double, dDelta: Double   // dChosen = dDelta, dRejected = −dDelta, except IPO
            var dC: Double? = nil, dR: Double? = nil
            switch lossType {
            case .sigmoid:
                loss = -Self.logSigmoid(b * delta)
                dDelta = -b * Self.sigmoid(-b * delta)
            case .hinge:
                loss = max(0, 1 - b * delta)
                dDelta = 1 - b * delta > 0 ? -b : 0
            case .robust:
                loss = (-(1 - e) * Self.logSigmoid(b * delta) + e * Self.logSigmoid(-b * delta)) / (1 - 2 * e)
                dDelta = (-(1 - e) * b * Self.sigmoid(-b * delta) - e * b * Self.sigmoid(b * delta)) / (1 - 2 * e)
            case .ipo:
                // Per-token normalised: scores divided by completion lengths (clamped to ≥ 1).
                let nc = Double(max(p.chosenTokens, 1)), nr = Double(max(p.rejectedTokens, 1))
                let d = (p.chosen - refC) / nc - (p.rejected - refR) / nr - 1 / (2 * b)
                loss = d * d
                dDelta = 0
                dC = 2 * d / nc
                dR = -2 * d / nr
            }
            return PairLoss(loss: loss, dChosen: dC ?? dDelta, dRejected: dR ?? -dDelta,
                            rewardChosen: b * (p.chosen - refC), rewardRejected: b * (p.rejected - refR),
                            loggedChosen: p.chosen, loggedRejected: p.rejected)
        case .orpo:
            // −β·log σ(log odds), log odds = (c − r) − (log(1 − eᶜ) − log(1 − eʳ)) over mean log-probs c, r.
            // The chosen NLL term is added per token by the caller.
            let nc = Double(max(p.chosenTokens, 1)), nr = Double(max(p.rejectedTokens, 1))
            let c = p.chosen / nc, r = p.rejected / nr
            let odds = (c - r) - (Self.log1mexp(c) - Self.log1mexp(r))
            let dOdds = -b * Self.sigmoid(-odds)
            return PairLoss(loss: -b * Self.logSigmoid(odds), dChosen: dOdds / (1 - exp(c)) / nc,
                            dRejected: -dOdds / (1 - exp(r)) / nr, rewardChosen: b * c, rewardRejected: b * r,
                            loggedChosen: c, loggedRejected: r)
        case .simpo:
            let nc = Double(max(p.chosenTokens, 1)), nr = Double(max(p.rejectedTokens, 1))
            let c = p.chosen / nc, r = p.rejected / nr
            let x = b * (c - r - simpoGamma / b)
            let loss = -Self.logSigmoid(x) * (1 - e) - Self.logSigmoid(-x) * e
            let dx = -(1 - e) * Self.sigmoid(-x) + e * Self.sigmoid(x)
            return PairLoss(loss: loss, dChosen: dx * b / nc, dRejected: -dx * b / nr, rewardChosen: b * c,
                            rewardRejected: b * r, loggedChosen: c, loggedRejected: r)
        }
    }
}

/// TRL's logged preference metrics for a batch of pairs: the means of each pair's values.
public struct PreferenceMetrics: Sendable, Equatable, Codable {
    public var rewardsChosen = 0.0
    public var rewardsRejected = 0.0
    public var rewardsAccuracies = 0.0
    public var rewardsMargins = 0.0
    public var logpsChosen = 0.0
    public var logpsRejected = 0.0

    public init() {}

    /// Means over `pairs`.
    public init(_ pairs: [PairLoss]) {
        let n = Double(max(pairs.count, 1))
        for p in pairs {
            rewardsChosen += p.rewardChosen / n
            rewardsRejected += p.rewardRejected / n
            rewardsAccuracies += (p.rewardChosen > p.rewardRejected ? 1 : 0) / n
            rewardsMargins += (p.rewardChosen - p.rewardRejected) / n
            logpsChosen += p.loggedChosen / n
            logpsRejected += p.loggedRejected / n
        }
    }

    /// The mean of several micro-batches' metrics (as TRL averages what it logged since the last log).
    public static func mean(_ parts: [PreferenceMetrics]) -> PreferenceMetrics {
        var m = PreferenceMetrics()
        let n = Double(max(parts.count, 1))
        for p in parts {
            m.rewardsChosen += p.rewardsChosen / n
            m.rewardsRejected += p.rewardsRejected / n
            m.rewardsAccuracies += p.rewardsAccuracies / n
            m.rewardsMargins += p.rewardsMargins / n
            m.logpsChosen += p.logpsChosen / n
            m.logpsRejected += p.logpsRejected / n
        }
        return m
    }

    enum CodingKeys: String, CodingKey {
        case rewardsChosen = "rewards/chosen", rewardsRejected = "rewards/rejected"
        case rewardsAccuracies = "rewards/accuracies", rewardsMargins = "rewards/margins"
        case logpsChosen = "logps/chosen", logpsRejected = "logps/rejected"
    }
}
