// The loss of the reference answers: the mean negative log-likelihood of each reference reply (its tokens and the
// end-of-turn token) given its prompt. On chat rows this is the validation loss `tailor train --eval-data` reports
// for the same rows, so one evaluation shows the loss and the accuracy of a held-out set, before and after training.
import Foundation
import TailorChat
import TailorModels
import TailorTensor

/// Scores reference replies with teacher forcing (no generation).
public enum AnswerLoss {
    /// The tokens a reference reply is scored on. `prompt` is the conversation rendered with the generation prompt
    /// (what generation starts from); `conversation` is the same conversation with the reference appended as the
    /// assistant turn, rendered without a generation prompt. The reply is what `conversation` adds after `prompt`,
    /// up to and including the first stop token: what a trainer learns for an assistant turn (content and
    /// end-of-turn; the template's text after the end-of-turn, such as a newline, is not part of the answer).
    /// - Returns: nil when `conversation` does not extend `prompt` (a template that renders the last turn
    ///   differently once it is answered).
    public static func replyTokens(prompt: [Int32], conversation: [Int32], stopTokens: Set<Int32>) -> [Int32]? {
        guard conversation.count > prompt.count, conversation.starts(with: prompt) else { return nil }
        let reply = conversation[prompt.count...]
        if let end = reply.firstIndex(where: { stopTokens.contains($0) }) { return Array(reply[...end]) }
        return Array(reply)
    }

    /// One scoring request per example: its prompt as the context, its first reference as the reply.
    /// - Throws: ``ModelError`` from the chat template.
    public static func requests(for examples: [EvalExample], model: ChatModel) throws -> [ContinuationRequest] {
        try examples.map { example in
            let prompt = try model.promptIDs(for: example.messages)
            let reference = example.references.first ?? ""
            let answered = example.messages + [ChatMessage(role: "assistant", content: reference)]
            let conversation = try model.promptIDs(for: answered, addGenerationPrompt: false)
            if let reply = replyTokens(prompt: prompt, conversation: conversation, stopTokens: model.stopTokens) {
                return ContinuationRequest(context: prompt, continuation: reply)
            }
            // The template does not render the answered turn as prompt + reply: score the reference tokenized on
            // its own, then EOS, which is what generation would have to produce.
            var reply = model.tokenizer.encode(reference, addSpecialTokens: false).map(Int32.init)
            if let eos = model.tokenizer.eosTokenID { reply.append(Int32(eos)) }
            return ContinuationRequest(context: prompt, continuation: reply)
        }
    }

    /// The token-weighted mean negative log-likelihood (nats) of the examples' first references, and how many
    /// tokens were scored.
    /// - Throws: ``ModelError`` from the chat template, ``EvalError/invalidRequest(_:)`` for a reply with no tokens.
    public static func compute(_ examples: [EvalExample], model: ChatModel,
                               backend: any Backend) throws -> (meanNLL: Double, tokenCount: Int) {
        let scores = try LogLikelihood.score(requests(for: examples, model: model), model: model.model, backend: backend)
        let tokens = scores.reduce(0) { $0 + $1.tokenCount }
        let logLikelihood = scores.reduce(0.0) { $0 + $1.logLikelihood }
        return (-logLikelihood / Double(max(tokens, 1)), tokens)
    }
}
