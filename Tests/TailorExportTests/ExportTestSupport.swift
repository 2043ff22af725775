// Shared fixture access for the TailorExport tests.
import Foundation
import TailorExport
import TailorFormats
import TailorKernels
import TailorModels
import TailorTensor
import XCTest

enum ExportFixtures {
    static var root: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw XCTSkip("TailorExportTests fixtures missing")
            }
            return url
        }
    }

    /// The tiny base models (the TailorModels fixtures, copied into Fixtures/<model>/base).
    static func base(_ model: String) throws -> URL { try root.appendingPathComponent(model).appendingPathComponent("base") }
    static func adapter(_ model: String) throws -> URL { try root.appendingPathComponent(model).appendingPathComponent("adapter") }

    /// A tiny model of the TailorModels fixtures (`tiny-qwen3`, `tiny-gemma2`, …).
    static func tinyModel(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TailorModelsTests/Fixtures/\(name)").standardized
    }

    /// `base` merged with its `lora-init` adapter into `folder/merged` (f32); the merge's self-check must hold within
    /// 1e-4. Returns the merged folder.
    static func mergedWithInitAdapter(_ base: URL, in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let merged = folder.appendingPathComponent("merged")
        let merge = try ExportPipeline.merge(MergeRequest(base: base, adapters: [base.appendingPathComponent("lora-init")],
                                                          output: merged, dtype: .f32))
        let check = try XCTUnwrap(merge.check, file: file, line: line)
        XCTAssertLessThanOrEqual(check.maxLogitDifference, 1e-4, check.summary, file: file, line: line)
        return merged
    }

    /// `base` exported as an f32 GGUF at `out`; the export's self-check must hold within 1e-4 with 100% top-1
    /// agreement. Returns the written file.
    static func exportedF32GGUF(_ base: URL, to out: URL, file: StaticString = #filePath, line: UInt = #line) throws -> GGUFFile {
        let export = try ExportPipeline.exportGGUF(GGUFExportRequest(base: base, output: out, precision: .f32))
        let check = try XCTUnwrap(export.check, file: file, line: line)
        XCTAssertLessThanOrEqual(check.maxLogitDifference, 1e-4, check.summary, file: file, line: line)
        XCTAssertEqual(check.topOneAgreement, 1, file: file, line: line)
        return try GGUFFile(url: out)
    }

    /// A fresh temporary folder removed at the end of the test.
    static func temporaryFolder(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Reference logits `[sequence][position][vocab]` under `key` of a JSON fixture.
    static func logits(_ file: String, key: String? = nil) throws -> (sequences: [[Int32]], logits: [[[Float]]]) {
        let data = try Data(contentsOf: try root.appendingPathComponent(file))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let entry = key.map { object[$0] as? [String: Any] ?? [:] } ?? object
        let sequences = (entry["sequences"] as? [[Int]] ?? sequencesFallback).map { $0.map(Int32.init) }
        let logits = (entry["logits"] as? [[[Double]]] ?? []).map { $0.map { $0.map(Float.init) } }
        return (sequences, logits)
    }

    /// One field of an entry of a JSON fixture.
    static func field(_ file: String, key: String, _ name: String) throws -> Any? {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try root.appendingPathComponent(file))) as? [String: Any]
        return (object?[key] as? [String: Any])?[name]
    }

    /// The token sequences of tools/reference/export_fixtures.py.
    static let sequencesFallback = [[1, 17, 42, 99, 3, 250, 7, 64, 128, 5, 200, 33], [1, 2, 3, 4, 5, 6, 7, 8], [255, 0, 12, 77, 140, 9]]

    /// Tailor's logits of `model` on `tokens` as rows.
    static func rows(_ model: LlamaModel, _ tokens: [Int32]) -> [[Float]] {
        let flat = model.forward(tokens: tokens, batch: 1, backend: CPUBackend()).converted(to: .f32).floats()
        let v = flat.count / tokens.count
        return (0..<tokens.count).map { Array(flat[($0 * v)..<(($0 + 1) * v)]) }
    }

    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).reduce(0) { m, pair in zip(pair.0, pair.1).reduce(m) { max($0, abs($1.0 - $1.1)) } }
    }
}
