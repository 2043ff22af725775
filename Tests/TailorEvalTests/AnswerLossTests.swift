// Which tokens the answer loss scores: the reply the answered conversation adds after the prompt, through the first
// end-of-turn token.
import TailorEval
import XCTest

final class AnswerLossTests: XCTestCase {
    /// ChatML as ids: prompt "… <|im_start|>assistant\n" (ends 5, 6), answered "… 5, 6, reply 40 41, <|im_end|> 2, "\n" 7".
    func testReplyEndsAtTheFirstStopToken() {
        let prompt: [Int32] = [1, 10, 11, 2, 7, 5, 6]
        let conversation: [Int32] = prompt + [40, 41, 2, 7]
        XCTAssertEqual(AnswerLoss.replyTokens(prompt: prompt, conversation: conversation, stopTokens: [2, 0]), [40, 41, 2])
    }

    func testReplyWithoutStopTokenIsEverythingAfterThePrompt() {
        XCTAssertEqual(AnswerLoss.replyTokens(prompt: [1, 2], conversation: [1, 2, 9, 8], stopTokens: [0]), [9, 8])
    }

    /// A template that renders the answered turn differently from the generation prompt gives no reply (the caller
    /// then falls back to the reference tokenized on its own), and so does a conversation that adds nothing.
    func testConversationThatDoesNotExtendThePromptGivesNil() {
        XCTAssertNil(AnswerLoss.replyTokens(prompt: [1, 2, 3], conversation: [1, 2, 4, 5], stopTokens: [0]))
        XCTAssertNil(AnswerLoss.replyTokens(prompt: [1, 2, 3], conversation: [1, 2, 3], stopTokens: [0]))
        XCTAssertNil(AnswerLoss.replyTokens(prompt: [1, 2, 3], conversation: [1, 2], stopTokens: [0]))
    }
}
