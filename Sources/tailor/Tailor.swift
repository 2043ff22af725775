// The `tailor` command: a thin layer over the Tailor libraries.
import ArgumentParser
import Foundation
import Tailor

@main
struct TailorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailor",
        abstract: "Fine-tune open LLMs with full fine-tuning, LoRA or QLoRA, and measure which one fits.",
        version: TailorVersion.string,
        subcommands: [InspectCommand.self, TokenizeCommand.self, TemplateCommand.self, GenerateCommand.self, ChatCommand.self, ScoreCommand.self, PrepareCommand.self, TrainCommand.self, CompareCommand.self, QuantizeCommand.self, MergeCommand.self, ExportCommand.self, PlanCommand.self, EvalCommand.self, BenchCommand.self, ServeCommand.self])

    /// As ArgumentParser's `main`, with every message's control characters escaped (see `TerminalText`).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = TerminalText.escaped(FileErrorText.message(for: error, default: fullMessage(for: error)))
            if code == .success {
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty {
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
