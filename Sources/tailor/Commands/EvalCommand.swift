// `tailor eval`: task metrics. `eval run` (the default) evaluates a model on a data file; `eval score` scores
// existing outputs against references, no model needed.
import ArgumentParser
import Foundation
import TailorMetrics

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a model (or existing outputs) with the metrics the field uses.",
        discussion: "`tailor eval --model M --data F --task T` runs `eval run`; `tailor eval score` scores files of outputs.",
        subcommands: [EvalModelCommand.self, EvalScore.self], defaultSubcommand: EvalModelCommand.self)
}

struct EvalScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score predictions against references (JSONL or one example per line).",
        discussion: "Metrics: \(EvalMetric.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Option(help: "Predictions: JSONL with \"prediction\" fields (or strings), or plain text one per line.")
    var predictions: String
    @Option(help: "References: JSONL with \"reference\"/\"references\" fields (or strings), or plain text.")
    var references: String
    @Option(help: "accuracy | f1 | em | rouge | bleu | chrf | json") var metric: String
    @Option(help: "JSON Schema file for --metric json.") var schema: String?
    @Flag(help: "ROUGE with the Porter stemmer (rouge-score's use_stemmer).") var rougeStemmer = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let chosen = EvalMetric(rawValue: metric) else {
            throw ValidationError("--metric \(metric): unknown; choose one of \(EvalMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let report = try MetricFileScorer.score(
            predictionsURL: URL(fileURLWithPath: predictions), referencesURL: URL(fileURLWithPath: references),
            metric: chosen, schemaURL: schema.map { URL(fileURLWithPath: $0) },
            options: ScoringOptions(rougeStemmer: rougeStemmer))
        if json { return try printJSON(report) }
        print(report.renderTable())
    }
}
