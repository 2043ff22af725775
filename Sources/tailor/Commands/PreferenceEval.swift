// `tailor eval --task preference`: a model (with --adapter: against the base without it) on preference pairs.
import ArgumentParser
import Foundation
import TailorKernels
import TailorModels
import TailorTraining

extension EvalModelCommand {
    /// Reward accuracy and margin of the adapter against the base (DPO's implicit rewards, β = --beta), and the
    /// chosen/rejected completion log-probs; without an adapter, how often the chosen reply is the more likely one.
    func runPreference() throws {
        let loaded = try chat.model.load()
        let tokenizer = try? loaded.checkpoint.tokenizer()
        let maxLength = 4096
        var pairs = try readPreferencePairs(data, tokenizer: tokenizer, vocabularySize: loaded.model.configuration.vocabSize,
                                            maxLength: maxLength, skipBad: false)
        if let limit { pairs = Array(pairs.prefix(max(limit, 0))) }
        let padID = Int32(loaded.checkpoint.config.padTokenID ?? loaded.checkpoint.config.eosTokenIDs.first ?? 0)
        let backend = CPUBackend()
        func score(_ model: LlamaModel) -> [PairLogProbs] {
            PreferenceEvaluation.logProbs(of: pairs, under: model, batchSize: batchSize, maxLength: maxLength, padID: padID, backend: backend)
        }
        let started = Date()
        let base = try loaded.withMatmulPrecision(chat.precision.precision())
        let baseScores = chat.adapter == nil || compareBase ? score(base.model) : nil
        let tunedScores = try chat.adapter.map { try score(base.applyingAdapter(at: URL(fileURLWithPath: $0)).model) }
        FileHandle.standardError.write(Data(String(format: "%d pairs in %.1f s\n", pairs.count, Date().timeIntervalSince(started)).utf8))
        var table = TextTable("metric", tunedScores == nil ? "model" : "tuned")
        if let tunedScores, let baseScores {
            table.header.append("base")
            let tuned = PreferenceEvaluation.metrics(policy: tunedScores, reference: nil, beta: beta)
            let b = PreferenceEvaluation.metrics(policy: baseScores, reference: nil, beta: beta)
            let rewards = PreferenceEvaluation.metrics(policy: tunedScores, reference: baseScores, beta: beta)
            table.add("chosen more likely (%)", String(format: "%.2f", 100 * tuned.rewardsAccuracies), String(format: "%.2f", 100 * b.rewardsAccuracies))
            table.add("logps/chosen", String(format: "%.3f", tuned.logpsChosen), String(format: "%.3f", b.logpsChosen))
            table.add("logps/rejected", String(format: "%.3f", tuned.logpsRejected), String(format: "%.3f", b.logpsRejected))
            table.add("rewards/accuracies (%)", String(format: "%.2f", 100 * rewards.rewardsAccuracies), "")
            table.add("rewards/margins", String(format: "%.4f", rewards.rewardsMargins), "")
        } else {
            let m = PreferenceEvaluation.metrics(policy: tunedScores ?? baseScores ?? [], reference: nil, beta: beta)
            table.add("chosen more likely (%)", String(format: "%.2f", 100 * m.rewardsAccuracies))
            table.add("logps/chosen", String(format: "%.3f", m.logpsChosen))
            table.add("logps/rejected", String(format: "%.3f", m.logpsRejected))
        }
        print(table.render())
        if tunedScores != nil && baseScores == nil {
            print("(rewards against the base: add --compare-base)")
        } else if tunedScores != nil {
            print(String(format: "rewards: β·(log π_tuned − log π_base), β = %g (DPO's implicit reward; TRL's rewards/* names)", beta))
        }
    }
}
