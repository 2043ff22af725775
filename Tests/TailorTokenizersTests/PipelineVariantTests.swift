// Other pre-tokenizer and normalizer settings (every Split behavior with and without invert, regex splits with
// non-isolated behaviors, Digits runs, WhitespaceSplit, Strip/Replace/Prepend) on the gpt2 vocabulary, against
// ids from the tokenizers library (Fixtures/pipeline_variants.json).
import Foundation
import XCTest
@testable import TailorTokenizers

final class PipelineVariantTests: XCTestCase {
    func testVariantsMatchTokenizersLibrary() throws {
        let base = try String(contentsOf: Fixtures.url("gpt2/tokenizer.json"), encoding: .utf8)
        let originals = [
            "pre_tokenizer": #""pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}"#,
            "normalizer": #""normalizer":null"#,
        ]
        guard let variants = try Fixtures.json("pipeline_variants.json").arrayValue else {
            throw FixtureError.shape("pipeline_variants.json")
        }
        let corpus = try Fixtures.corpus()
        var total = 0
        for variant in variants {
            guard let object = variant.objectValue, let key = object["key"]?.stringValue,
                  let component = object["component"]?.stringValue, let original = originals[key],
                  let expected = Fixtures.intLists(object["encode"]) else { throw FixtureError.shape("pipeline_variants.json") }
            XCTAssertTrue(base.contains(original))
            let json = base.replacingOccurrences(of: original, with: "\"\(key)\":\(component)")
            let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
            var mismatches = 0
            for (index, want) in expected.enumerated() {
                let got = tokenizer.encode(corpus[index])
                total += 1
                if got != want {
                    mismatches += 1
                    if mismatches <= 3 { XCTFail("\(component) #\(index) \"\(visible(corpus[index]))\" got \(got) expected \(want)") }
                }
            }
            XCTAssertEqual(mismatches, 0, component)
        }
        print("[pipeline variants] \(variants.count) variants, \(total) strings")
    }
}
