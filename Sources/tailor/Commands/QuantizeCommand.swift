// `tailor quantize`: a 4-bit model folder in the layout transformers + bitsandbytes load.
import ArgumentParser
import Foundation
import TailorReport
import TailorExport
import TailorFormats
import TailorModels
import TailorQuantization
import TailorTensor

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model's decoder linear layers to 4-bit (bitsandbytes NF4/FP4) and write a Hugging Face folder.")

    @OptionGroup var model: ModelOption
    @Option(help: "Output folder.") var out: String
    @Option(help: "nf4 | fp4") var type = "nf4"
    @Flag(help: "Store block scales in f32 instead of double-quantizing them.") var noDoubleQuant = false
    @Option(help: "Elements per quantization block (a power of two, 32 to 4096).") var blocksize = 64
    @Flag(help: "Replace an existing --out folder (the old one stays until the new one is complete).") var force = false

    func run() throws {
        guard let kind = FourBitType(rawValue: type) else { throw ValidationError("--type must be nf4 or fp4, got \(type)") }
        guard blocksize.nonzeroBitCount == 1, (32...4096).contains(blocksize) else {
            throw ValidationError("--blocksize must be a power of two from 32 to 4096, got \(blocksize)")
        }
        let quantizer = FourBitQuantizer(type: kind, blockSize: blocksize, doubleQuant: !noDoubleQuant)
        let destination = URL(fileURLWithPath: out)
        try AtomicOutput.checkWritable(destination, isFolder: true, overwrite: force)
        let loaded = try model.load()
        var weights = loaded.model.weights
        try weights.quantizeLinearLayers(with: quantizer)
        try AtomicOutput.writeFolder(destination, overwrite: force) { folder in
            let storage: DType = switch loaded.checkpoint.config.torchDtype {
            case "bfloat16": .bf16
            case "float16": .f16
            default: .f32
            }
            try SafeTensorsWriter.write(weights.quantizedStateDict(otherDType: storage), metadata: ["format": "pt"],
                                        to: folder.appendingPathComponent("model.safetensors"))
            // config.json with the quantization_config transformers writes for a 4-bit model.
            var config = loaded.checkpoint.config
            config.torchDtype = storage == .bf16 ? "bfloat16" : storage == .f16 ? "float16" : "float32"
            // Spliced in as text: the quantization_config must keep Python's float spellings (6.0), which a round trip
            // through JSONSerialization would turn into integers that transformers rejects.
            var text = String(decoding: try config.jsonData(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.hasSuffix("}") else { throw ValidationError("internal: config.json is not a JSON object") }
            text.removeLast()
            text = text.trimmingCharacters(in: .whitespacesAndNewlines) + ",\n  \"quantization_config\": "
                + BitsAndBytesConfig(quantizer: quantizer, computeDType: "float32").pythonJSON(indent: 2, level: 1) + "\n}\n"
            try Data(text.utf8).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try MergedFolder.writeTokenizer(of: loaded.checkpoint, into: folder)
        }
        let bytes = weights.layers.reduce(0) { total, layer in
            total + layer.presentLinears.reduce(0) { $0 + (layer[linear: $1]?.weightByteCount ?? 0) }
        }
        print("wrote \(destination.path): decoder linear weights \(ReportFormat.bytes(bytes)) in \(type)\(noDoubleQuant ? "" : " with double quantization"), block \(blocksize)")
    }
}
