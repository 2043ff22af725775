// The one door every prompt goes through before the kernels: ids inside the vocabulary, and the prompt plus the
import TailorFormats
// tokens to generate inside the model's context (the KV cache is sized from that sum).

extension ModelConfig {
    /// Throws `ModelError.invalidInput` naming the first id outside the vocabulary, or the lengths when
    /// `tokens.count + newTokens` exceeds `contextLength`. `what` names the input in the message.
    public func checkSequence(_ tokens: [Int32], newTokens: Int = 0, what: String = "the prompt") throws {
        if let p = tokens.firstIndex(where: { $0 < 0 || Int($0) >= vocabSize }) {
            throw ModelError.invalidInput("\(what): token \(tokens[p]) at position \(p) is outside the vocabulary (0..<\(vocabSize))")
        }
        guard newTokens >= 0 else { throw ModelError.invalidInput("the number of new tokens must be ≥ 0, got \(newTokens)") }
        let (total, overflow) = tokens.count.addingReportingOverflow(newTokens)
        guard !overflow, total <= contextLength else {
            throw ModelError.invalidInput("\(what) has \(tokens.count) tokens and \(newTokens) new tokens were asked for: more than the model's context of \(contextLength) tokens (shorten it, or lower --max-new-tokens)")
        }
    }
}
