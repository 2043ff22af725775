// `tailor train --objective dpo|orpo|simpo`: progress lines and reading preference pairs.
import ArgumentParser
import Foundation
import TailorChat
import TailorData
import TailorTokenizers
import TailorTraining

/// Progress-line suffix with TRL's reward metrics.
func preferenceProgress(_ m: PreferenceMetrics) -> String {
    String(format: "  rewards c %.3f r %.3f acc %.2f margin %.3f  logps c %.2f r %.2f", m.rewardsChosen, m.rewardsRejected,
           m.rewardsAccuracies, m.rewardsMargins, m.logpsChosen, m.logpsRejected)
}

/// `TrainingRows.readPairs`, saying how many bad rows were skipped.
func readPreferencePairs(_ path: String, tokenizer: Tokenizer?, vocabularySize: Int, maxLength: Int, skipBad: Bool) throws -> [PreferencePair] {
    let read = try TrainingRows.readPairs(path, tokenizer: tokenizer, vocabularySize: vocabularySize, maxLength: maxLength, skipBad: skipBad)
    if read.skipped > 0 { print("\(path): skipped \(read.skipped) bad rows") }
    return read.pairs
}
