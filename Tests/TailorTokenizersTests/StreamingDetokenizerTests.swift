// Streaming output concatenates to the reference decode and never ends a chunk inside a UTF-8 character.
import XCTest
@testable import TailorTokenizers

final class StreamingDetokenizerTests: XCTestCase {
    func checkStreaming(_ name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url(name))
        let expected = try Fixtures.object("\(name)/expected.json")
        guard let encoded = Fixtures.intLists(expected["encode"]),
              let decodedSkip = Fixtures.strings(expected["decode_skip_of_encode"]) else {
            throw FixtureError.shape("\(name)/expected.json")
        }
        let corpus = try Fixtures.corpus()
        var failures = 0
        for (index, ids) in encoded.enumerated() {
            var stream = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
            var text = ""
            for id in ids {
                let chunk = stream.append(id)
                // A chunk never ends in U+FFFD unless the reference text itself contains one.
                if chunk.unicodeScalars.last == "\u{FFFD}" && !(decodedSkip[index] ?? corpus[index]).contains("\u{FFFD}") {
                    XCTFail("[\(name)] #\(index) chunk ends in U+FFFD")
                }
                text += chunk
            }
            text += stream.finish()
            let want = decodedSkip[index] ?? corpus[index]
            if !text.unicodeScalars.elementsEqual(want.unicodeScalars) {
                failures += 1
                if failures <= 5 { XCTFail("[\(name)] #\(index) streamed \"\(visible(text))\" expected \"\(visible(want))\"") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    func testByteLevelStreaming() throws { try checkStreaming("smollm2") }
    func testSentencePieceStreaming() throws { try checkStreaming("sp_legacy") }

    func testHoldsIncompleteCharacter() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("sp_legacy"))
        let bytes = Array("€".utf8).map { ByteLevel.fallbackToken(Int($0)) }
        let ids = bytes.compactMap { tokenizer.id(for: $0) }
        XCTAssertEqual(ids.count, 3)
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        XCTAssertEqual(stream.append(ids[0]), "")
        XCTAssertEqual(stream.append(ids[1]), "")
        // The reference decode of these three byte tokens is "€" (ByteFallback joins valid UTF-8 runs).
        XCTAssertEqual(stream.append(ids[2]), tokenizer.decode(ids))
    }
}
