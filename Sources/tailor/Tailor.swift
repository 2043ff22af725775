// The `tailor` command: a thin layer over the Tailor libraries.
import ArgumentParser
import Tailor

@main
struct TailorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailor",
        abstract: "Fine-tune open LLMs with full fine-tuning, LoRA or QLoRA, and measure which one fits.",
        version: TailorVersion.string,
        subcommands: [InspectCommand.self, TokenizeCommand.self, TemplateCommand.self, GenerateCommand.self, ChatCommand.self, ScoreCommand.self, PrepareCommand.self, TrainCommand.self, CompareCommand.self, QuantizeCommand.self, MergeCommand.self, ExportCommand.self, PlanCommand.self, EvalCommand.self, BenchCommand.self, ServeCommand.self])
}
