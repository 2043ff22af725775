// `tailor eval --task preference`: a model (with --adapter: against the base without it) on preference pairs.
import ArgumentParser
import Foundation
import TailorData
import TailorEval
import TailorKernels
import TailorModels
import TailorTraining

extension EvalModelCommand {
    /// Reward accuracy and margin of the adapter against the base (DPO's implicit rewards, β = --beta), and the
    /// chosen/rejected completion log-probs; without an adapter, how often the chosen reply is the more likely one.
    /// Rows with a `"check": {"regex": PATTERN}` also count how often the greedy reply to the prompt passes it.
    func runPreference() throws {
        let loaded = try chat.model.load()
        let tokenizer = try? loaded.checkpoint.tokenizer()
        let maxLength = 4096
        var pairs = try readPreferencePairs(data, tokenizer: tokenizer, vocabularySize: loaded.model.configuration.vocabSize,
                                            maxLength: maxLength, skipBad: false)
        var checks = try DataReader.read(URL(fileURLWithPath: data)).records.map { try ReplyCheck(record: $0.value, path: data, line: $0.line) }
        if let limit { pairs = Array(pairs.prefix(max(limit, 0))); checks = Array(checks.prefix(max(limit, 0))) }
        let checked = checks.indices.filter { checks[$0] != nil }
        if !checked.isEmpty, tokenizer == nil { throw ValidationError("\(data): \"\(ReplyCheck.field)\" needs a model with a tokenizer to read replies") }
        let padID = Int32(loaded.checkpoint.config.padTokenID ?? loaded.checkpoint.config.eosTokenIDs.first ?? 0)
        let backend = CPUBackend()
        func score(_ model: LlamaModel) -> [PairLogProbs] {
            PreferenceEvaluation.logProbs(of: pairs, under: model, batchSize: batchSize, maxLength: maxLength, padID: padID, backend: backend)
        }
        let started = Date()
        let base = try loaded.withMatmulPrecision(chat.precision.precision())
        /// "passed/checked" of the greedy replies to the checked rows' prompts.
        func style(_ loaded: LoadedModel) throws -> String? {
            guard !checked.isEmpty else { return nil }
            let model = try ChatModel(loaded: loaded)
            let options = GenerationOptions(maxNewTokens: maxNewTokens, temperature: 0, stopTokens: model.stopTokens)
            let replies = BatchedGeneration.generate(prompts: checked.map { pairs[$0].promptIDs }, model: model.model, options: options,
                                                     batchSize: batchSize, backend: backend)
            let passed = zip(checked, replies).filter { i, ids in
                checks[i]?.matches(model.tokenizer.decode(ids.filter { !options.stopTokens.contains($0) }.map(Int.init), skipSpecialTokens: true)) ?? false
            }.count
            return String(format: "%.2f (%d/%d)", 100 * Double(passed) / Double(checked.count), passed, checked.count)
        }
        let baseScores = chat.adapter == nil || compareBase ? score(base.model) : nil
        let baseStyle = chat.adapter == nil || compareBase ? try style(base) : nil
        let tuned = try chat.adapter.map { try base.applyingAdapter(at: URL(fileURLWithPath: $0)) }
        let tunedScores = tuned.map { score($0.model) }
        let tunedStyle = try tuned.flatMap { try style($0) }
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
            if let tunedStyle, let baseStyle { table.add("greedy reply passes check (%)", tunedStyle, baseStyle) }
        } else {
            let m = PreferenceEvaluation.metrics(policy: tunedScores ?? baseScores ?? [], reference: nil, beta: beta)
            table.add("chosen more likely (%)", String(format: "%.2f", 100 * m.rewardsAccuracies))
            table.add("logps/chosen", String(format: "%.3f", m.logpsChosen))
            table.add("logps/rejected", String(format: "%.3f", m.logpsRejected))
            if let style = tunedStyle ?? baseStyle { table.add("greedy reply passes check (%)", style) }
        }
        print(table.render())
        if tunedScores != nil && baseScores == nil {
            print("(rewards against the base: add --compare-base)")
        } else if tunedScores != nil {
            print(String(format: "rewards: β·(log π_tuned − log π_base), β = %g (DPO's implicit reward; TRL's rewards/* names)", beta))
        }
    }
}
