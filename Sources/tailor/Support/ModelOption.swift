// The --model option shared by commands that run a model.
import ArgumentParser
import Foundation
import TailorReport
import TailorFormats
import TailorModels
import TailorTensor
import TailorTokenizers

struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model folder (config.json + safetensors; a Hub cache snapshot folder models--ORG--NAME/snapshots/HASH works too) or a .gguf file.")
    var model: String

    var url: URL { URL(fileURLWithPath: (model as NSString).expandingTildeInPath) }

    func load() throws -> LoadedModel {
        try checkExists()
        return try LoadedModel.load(from: url)
    }

    /// The checkpoint's metadata and tokenizer without decoding the weights.
    func load(eager: Bool) throws -> ModelCheckpoint {
        try checkExists()
        return try ModelCheckpoint.load(from: url, eager: eager)
    }

    /// The model's tokenizer; a tokenizer-only folder (tokenizer.json without weights) is accepted too.
    func tokenizer() throws -> Tokenizer {
        try checkExists()
        return try Tokenizer.load(model: url)
    }

    func checkExists() throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("--model \(model): no such file or folder")
        }
    }
}

/// `--compute-dtype` for commands that run a model without training it.
struct InferencePrecisionOption: ParsableArguments {
    @Option(help: "f32 | bf16 | int8: precision of the products with the weights and of the weights as stored. bf16 halves the memory and the bytes each decoded token reads (logits move by bf16 rounding); int8 stores the decoder's linear layers as q8_0 blocks like llama.cpp (a quarter of f32).")
    var computeDtype = "f32"

    func precision() throws -> InferencePrecision {
        guard let precision = InferencePrecision(rawValue: computeDtype) else {
            throw ValidationError("--compute-dtype must be f32, bf16 or int8, not \(computeDtype)")
        }
        return precision
    }
}

/// Writes an Encodable value as pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
