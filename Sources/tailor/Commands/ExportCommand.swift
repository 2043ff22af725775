// `tailor export gguf`: a model (optionally with an adapter merged in) or a LoRA adapter alone as a GGUF file for
// llama.cpp, written by Tailor and checked by reading it back.
import ArgumentParser
import Foundation
import TailorExport

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model or adapter to another format.",
        subcommands: [GGUF.self])

    struct GGUF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gguf",
            abstract: "Write a GGUF v3 file llama.cpp loads (model, or with --lora-only an adapter for --lora).")

        @Option(help: "Base model: a Hugging Face folder or a .gguf file.") var model: String
        @Option(help: "PEFT adapter folder to merge in (or to export alone with --lora-only).") var adapter: String?
        @Option(help: "Output .gguf file (an existing one is kept unless --force).") var out: String
        @Option(help: "f32 | f16 | bf16 | q8_0 | q4_0") var type = "f16"
        @Flag(help: "Write only the adapter as a GGUF LoRA (llama.cpp --lora).") var loraOnly = false
        @Flag(help: "Replace an existing --out file, once the new one is written and checked.") var force = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let precision = try GGUFExport.precision(named: type)
            let base = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
            guard FileManager.default.fileExists(atPath: base.path) else { throw ValidationError("--model \(model): no such file or folder") }
            if loraOnly && adapter == nil { throw ValidationError("--lora-only needs --adapter") }
            let request = GGUFExportRequest(base: base, adapter: adapter.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) },
                                            output: URL(fileURLWithPath: (out as NSString).expandingTildeInPath),
                                            precision: precision, loraOnly: loraOnly, overwrite: force)
            try printExportResult(try ExportPipeline.exportGGUF(request), json: json)
        }
    }
}
