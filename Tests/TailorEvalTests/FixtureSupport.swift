// Locating and decoding the test fixtures written by tools/reference/eval_mc.py.
import Foundation
import TailorModels
import XCTest

enum Fixtures {
    static var root: URL {
        get throws {
            try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "Fixtures folder missing")
        }
    }

    static func url(_ name: String) throws -> URL { try root.appendingPathComponent(name) }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    static func tinyModel(_ name: String) throws -> LoadedModel { try LoadedModel.load(from: url(name)) }

    /// The SmolLM2 GGUF when TAILOR_SMOLLM2_GGUF names an existing file.
    static func smolLM2() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"],
              FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF to the SmolLM2-135M-Instruct GGUF to run this test")
        }
        return URL(fileURLWithPath: path)
    }

    /// A temporary file with `text`.
    static func temporary(_ text: String, name: String = "data.jsonl") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }
}

/// mc_tiny.json
struct TinyMCFixture: Decodable {
    struct Question: Decodable {
        var context: [Int32]
        var choices: [[Int32]]
        var loglikelihoods: [Double]
        var is_greedy: [Bool]
        var argmax: Int
    }
    struct Model: Decodable { var model: String; var questions: [Question] }
    var models: [Model]
}

/// mc_smollm2.json
struct SmolMCFixture: Decodable {
    struct Question: Decodable {
        var line: Int
        var question: String
        var choices: [String]
        var answer: Int
        var contexts: [[Int32]]
        var continuations: [[Int32]]
        var loglikelihoods: [Double]
    }
    struct FullSet: Decodable { var count: Int; var acc: Double; var acc_norm: Double }
    var questions: [Question]
    var full_set: FullSet
}
