// Parity with the tokenizers library: every corpus string encodes to the same ids and every id list decodes to
// the same text, for one trained tokenizer per pre-tokenizer family and for SmolLM2's tokenizer.
import Foundation
import TailorText
import XCTest
@testable import TailorTokenizers

final class FixtureParityTests: XCTestCase {
    /// Compares encode/decode against `<name>/expected.json`; returns the number of comparisons made.
    @discardableResult
    func checkFamily(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let tokenizer = try Tokenizer(directory: Fixtures.url(name))
        let expected = try Fixtures.object("\(name)/expected.json")
        guard let encoded = Fixtures.intLists(expected["encode"]),
              let decodeOfEncode = Fixtures.strings(expected["decode_of_encode"]),
              let decodeSkipOfEncode = Fixtures.strings(expected["decode_skip_of_encode"]),
              let decodeInputs = Fixtures.intLists(expected["decode_inputs"]),
              let decoded = Fixtures.strings(expected["decode"])?.compactMap({ $0 }),
              let decodedSkip = Fixtures.strings(expected["decode_skip"])?.compactMap({ $0 })
        else { throw FixtureError.shape("\(name)/expected.json") }
        let corpus = try Fixtures.corpus()
        XCTAssertEqual(corpus.count, encoded.count)
        var mismatches = 0
        var checks = 0
        func report(_ message: String) {
            mismatches += 1
            if mismatches <= 15 { XCTFail("[\(name)] " + message, file: file, line: line) }
        }
        for (index, text) in corpus.enumerated() {
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            checks += 1
            if ids != encoded[index] {
                report("encode #\(index) \"\(visible(text))\"\n  got      \(ids)\n  expected \(encoded[index])")
            }
            let wantText = decodeOfEncode[index] ?? text
            let wantSkip = decodeSkipOfEncode[index] ?? text
            let gotText = tokenizer.decode(encoded[index], skipSpecialTokens: false)
            let gotSkip = tokenizer.decode(encoded[index], skipSpecialTokens: true)
            checks += 2
            if gotText != wantText { report("decode #\(index) got \"\(visible(gotText))\" expected \"\(visible(wantText))\"") }
            if gotSkip != wantSkip { report("decode(skip) #\(index) got \"\(visible(gotSkip))\" expected \"\(visible(wantSkip))\"") }
        }
        if let plain = Fixtures.intLists(expected["encode_plain"]) {
            for (index, want) in plain.enumerated() {
                let ids = tokenizer.encode(corpus[index], addSpecialTokens: false)
                checks += 1
                if ids != want { report("encode(no specials) #\(index) \"\(visible(corpus[index]))\" got \(ids) expected \(want)") }
            }
        }
        if let offsets = expected["offsets"]?.arrayValue {
            for (index, entry) in offsets.enumerated() {
                let want = (entry.arrayValue ?? []).compactMap { Fixtures.ints($0) }.map { $0[0]..<$0[1] }
                let got = tokenizer.encodeWithOffsets(corpus[index], addSpecialTokens: true)
                checks += 1
                if got.map(\.id) != encoded[index] || got.map(\.utf8Range) != want {
                    report("offsets #\(index) \"\(visible(corpus[index]))\" got \(got.map { [$0.utf8Range.lowerBound, $0.utf8Range.upperBound] }) expected \(want.map { [$0.lowerBound, $0.upperBound] })")
                }
            }
        }
        for (index, ids) in decodeInputs.enumerated() {
            let got = tokenizer.decode(ids, skipSpecialTokens: false)
            let gotSkip = tokenizer.decode(ids, skipSpecialTokens: true)
            checks += 2
            if got != decoded[index] { report("decode ids \(ids) got \"\(visible(got))\" expected \"\(visible(decoded[index]))\"") }
            if gotSkip != decodedSkip[index] {
                report("decode(skip) ids \(ids) got \"\(visible(gotSkip))\" expected \"\(visible(decodedSkip[index]))\"")
            }
        }
        // 100% identical is required: any mismatch fails (the first 15 are listed with their strings).
        XCTAssertEqual(mismatches, 0, "[\(name)] \(mismatches) mismatches out of \(checks) checks", file: file, line: line)
        print("[\(name)] \(checks) checks, \(mismatches) mismatches")
        return checks
    }

    /// Encode-only variants of the trained models with other pipeline settings.
    func checkVariant(_ name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url(name))
        guard let encoded = Fixtures.intLists(try Fixtures.object("\(name)/expected.json")["encode"]) else {
            throw FixtureError.shape("\(name)/expected.json")
        }
        var mismatches = 0
        for (index, text) in try Fixtures.corpus().enumerated() where tokenizer.encode(text) != encoded[index] {
            mismatches += 1
            if mismatches <= 10 { XCTFail("[\(name)] encode #\(index) \"\(visible(text))\" got \(tokenizer.encode(text)) expected \(encoded[index])") }
        }
        XCTAssertEqual(mismatches, 0)
        print("[\(name)] \(encoded.count) strings, \(mismatches) mismatches")
    }

    func testGPT2Family() throws { try checkFamily("gpt2") }
    func testGPT2AddPrefixSpace() throws { try checkVariant("gpt2_prefix_space") }
    func testMetaspaceSplitAlways() throws { try checkVariant("sp_metaspace_split") }
    func testSmolLMDigitsFamily() throws { try checkFamily("smollm") }
    func testLlama3Family() throws { try checkFamily("llama3") }
    func testQwen2NFCFamily() throws { try checkFamily("qwen2") }
    func testSentencePieceLegacy() throws { try checkFamily("sp_legacy") }
    func testSentencePieceMetaspace() throws { try checkFamily("sp_metaspace") }
    func testSmolLM2TokenizerJSON() throws { try checkFamily("smollm2") }
}
