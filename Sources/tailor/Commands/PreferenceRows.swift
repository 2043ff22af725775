// `tailor train --objective dpo|orpo|simpo`: the preference flags and reading preference pairs.
import ArgumentParser
import Foundation
import TailorChat
import TailorData
import TailorTokenizers
import TailorTraining

/// Preference-tuning flags of `tailor train` (TRL's names; also recipe keys).
struct PreferenceOptions: ParsableArguments {
    @Option(help: "sft | dpo | orpo | simpo (dpo/orpo/simpo read pairs: prompt, chosen, rejected)") var objective: String?
    @Option(help: "DPO β (KL strength), ORPO λ, SimPO β (0.1)") var beta: Double?
    @Option(help: "DPO loss: sigmoid | ipo | hinge | robust") var lossType: String?
    @Option(help: "Robust DPO / SimPO label smoothing in [0, 0.5)") var labelSmoothing: Double?
    @Option(help: "SimPO margin γ (0.5)") var simpoGamma: Double?
    @Option(help: "true | false: DPO against reference log-probs of 0") var referenceFree: Bool?
    @Option(help: "keep_start | keep_end: how pairs longer than --max-length are cut") var truncationMode: String?
    @Option(help: "true | false: compute the reference log-probs once before training instead of running the reference each step (the base with the adapter off, or for --method full a frozen copy of the model)") var precomputeRefLogProbs: Bool?
    @Flag(help: "Skip bad preference rows (counted) instead of stopping at the first one.") var skipBad = false

    var flagValues: [(String, Any?)] {
        [("objective", objective), ("beta", beta), ("loss_type", lossType), ("label_smoothing", labelSmoothing),
         ("simpo_gamma", simpoGamma), ("reference_free", referenceFree), ("truncation_mode", truncationMode),
         ("precompute_ref_log_probs", precomputeRefLogProbs)]
    }
}

/// Progress-line suffix with TRL's reward metrics.
func preferenceProgress(_ m: PreferenceMetrics) -> String {
    String(format: "  rewards c %.3f r %.3f acc %.2f margin %.3f  logps c %.2f r %.2f", m.rewardsChosen, m.rewardsRejected,
           m.rewardsAccuracies, m.rewardsMargins, m.logpsChosen, m.logpsRejected)
}

/// Preference pairs from JSONL: token ids ("prompt_ids", "chosen_ids", "rejected_ids"), or "prompt"/"chosen"/"rejected"
/// as strings or lists of messages (TRL's formats; an implicit prompt is the shared prefix). A bad row is an error
/// naming the file and line, or is counted and skipped with `skipBad`.
func readPreferencePairs(_ path: String, tokenizer: Tokenizer?, vocabularySize: Int, maxLength: Int, skipBad: Bool) throws -> [PreferencePair] {
    let url = URL(fileURLWithPath: path)
    guard let data = FileManager.default.contents(atPath: url.path) else { throw ValidationError("\(path): cannot read the file") }
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if let first = lines.first(where: { !$0.isEmpty }), let object = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any],
       object["prompt_ids"] != nil {
        let (pairs, skipped) = try PreferenceData.readTokenized(url, vocabularySize: vocabularySize, maxLength: maxLength, skipBad: skipBad)
        if skipped > 0 { print("\(path): skipped \(skipped) bad rows") }
        return pairs
    }
    guard let tokenizer else { throw ValidationError("\(path): text preference rows need a model with a tokenizer") }
    let encoder = PreferenceEncoder(tokenizer: tokenizer, template: try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) })
    let source = try DataReader.read(url, skipMalformed: skipBad)
    let (encoded, bad) = try PreferencePipeline.encode(source.records, path: path, encoder: encoder, maxLength: maxLength, skipBad: skipBad)
    let pairs = encoded.map(\.pair), skipped = bad.values.reduce(source.skipped.count, +)
    if skipped > 0 { print("\(path): skipped \(skipped) bad rows") }
    guard !pairs.isEmpty else { throw TrainingError.emptyDataset(file: path) }
    return pairs
}
