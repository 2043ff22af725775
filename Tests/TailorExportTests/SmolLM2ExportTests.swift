// Integration on the real SmolLM2-135M-Instruct Q4_1 GGUF (skipped unless TAILOR_SMOLLM2_GGUF names the file):
// merge into a Hugging Face folder with tokenizer files written from the GGUF tokenizer, export GGUF, LoRA GGUF.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import TailorTokenizers
import XCTest

final class SmolLM2ExportTests: XCTestCase {
    func smolLM2() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf")
        }
        return URL(fileURLWithPath: path)
    }

    /// A rank-8 adapter on q/v with seeded nonzero B, saved in PEFT's layout.
    func makeAdapter(base: LoadedModel, at url: URL) throws {
        var weights = base.model.weights
        try weights.attachLoRA(LoRAConfiguration(r: 8, loraAlpha: 16, loraDropout: 0, targetModules: .names(["q_proj", "v_proj"])), seed: 7)
        var rng = SplitMix64(seed: 11)
        for l in weights.layers.indices {
            for slot in [LinearSlot.q, .v] {
                guard var lora = weights.layers[l][linear: slot]?.lora else { continue }
                lora.b = Tensor(shape: lora.b.shape, values: (0..<lora.b.count).map { _ in Float.random(in: -0.02..<0.02, using: &rng) })
                weights.layers[l][linear: slot]?.lora = lora
            }
        }
        try PEFTAdapter.save(weights, config: LoRAConfiguration(r: 8, loraAlpha: 16, loraDropout: 0, targetModules: .names(["q_proj", "v_proj"])), to: url)
    }

    func testMergeExportAndTokenizerFromGGUF() throws {
        let gguf = try smolLM2()
        // TAILOR_EXPORT_KEEP=<folder> keeps the outputs for tools/reference/export_check_outputs.py.
        let keep = ProcessInfo.processInfo.environment["TAILOR_EXPORT_KEEP"].map { URL(fileURLWithPath: $0) }
        if let keep { try? FileManager.default.removeItem(at: keep); try FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true) }
        let temp = try keep ?? ExportFixtures.temporaryFolder(self)
        let base = try LoadedModel.load(from: gguf)
        let adapter = temp.appendingPathComponent("adapter")
        try makeAdapter(base: base, at: adapter)
        let sequences = [try base.tokenizer().encode("The capital of France is Paris, and 12345 + 678 = 13023.").map(Int32.init)]

        let merged = temp.appendingPathComponent("merged")
        let m = try ExportPipeline.merge(MergeRequest(base: gguf, adapters: [adapter], output: merged, dtype: .bf16, checkSequences: sequences))
        print("SmolLM2 merge bf16:", m.check?.summary ?? "-", "vanished", m.precision.total.vanishedFraction)
        // Perplexity is measured on the built-in English paragraph through the model's tokenizer: a language
        // model's value (tens), not the millions random tokens give.
        let check = try XCTUnwrap(m.check)
        XCTAssertEqual(check.textTokens, try base.tokenizer().encode(ExportCheck.referenceText, addSpecialTokens: true).count)
        XCTAssertLessThan(try XCTUnwrap(check.referencePerplexity), 200, check.summary)
        XCTAssertEqual(try XCTUnwrap(check.exportedPerplexity), try XCTUnwrap(check.referencePerplexity), accuracy: 0.05 * (check.referencePerplexity ?? 0))
        XCTAssertTrue(check.summary.contains("perplexity") && check.summary.contains("→") && check.summary.contains("%)"), check.summary)
        // The tokenizer written from the GGUF metadata tokenizes like the GGUF's own.
        let original = try base.tokenizer(), written = try Tokenizer(directory: merged)
        for text in ["Hello world!", "  spaces\tand\nnewlines 2024-11-29 3.14159", "<|im_start|>user\nHi<|im_end|>", "naïve café ünïcödé 日本語 🙂"] {
            XCTAssertEqual(written.encode(text), original.encode(text), text)
        }
        XCTAssertEqual(written.chatTemplate, original.chatTemplate)
        XCTAssertEqual(written.eosTokenID, original.eosTokenID)
        // And back: the GGUF tokenizer keys built from the written tokenizer.json equal the original GGUF's.
        let roundTrip = Dictionary(try GGUFTokenizerMetadata.keys(for: ModelCheckpoint.load(from: merged, eager: false)).map { ($0.key, $0.value) },
                                   uniquingKeysWith: { a, _ in a })
        let sourceMeta = try XCTUnwrap(base.checkpoint.gguf).metadata
        for key in ["tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                    "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.chat_template"] {
            XCTAssertEqual(roundTrip[key], sourceMeta[key], key)
        }

        for type in [ExportPrecision.q8_0, .f16] {
            let out = temp.appendingPathComponent("smol-\(type.rawValue).gguf")
            let e = try ExportPipeline.exportGGUF(GGUFExportRequest(base: gguf, adapter: adapter, output: out, precision: type, checkSequences: sequences))
            print("SmolLM2 export \(type.rawValue):", e.check?.summary ?? "-")
            let file = try GGUFFile(url: out)
            XCTAssertEqual(file.metadata["tokenizer.ggml.pre"], .string("smollm"))
            XCTAssertNotNil(file.metadata["tokenizer.chat_template"])
            XCTAssertNil(file.info("output.weight"), "SmolLM2 ties its embeddings")
        }
        _ = try ExportPipeline.exportGGUF(GGUFExportRequest(base: gguf, adapter: adapter, output: temp.appendingPathComponent("lora.gguf"), loraOnly: true))
    }
}
