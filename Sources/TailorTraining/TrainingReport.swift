// A training run's report.html: loss, eval loss, learning rate, grad norm, tokens/s and memory against steps (the
// epoch under each step), the resolved configuration with every value and the preflight findings.
import Foundation
import TailorText
import TailorReport

/// The inputs of a run's report; `html()` renders it and `write(to:)` replaces the file atomically.
public struct TrainingReport: Sendable {
    public var model: String
    public var data: String
    public var configuration: TrainingConfiguration
    public var preflight: [String]
    public var records: [StepRecord]
    public var totalSteps: Int
    public var finished: Bool

    public init(model: String, data: String, configuration: TrainingConfiguration, preflight: [String],
                records: [StepRecord], totalSteps: Int, finished: Bool) {
        self.model = model
        self.data = data
        self.configuration = configuration
        self.preflight = preflight
        self.records = records
        self.totalSteps = totalSteps
        self.finished = finished
    }

    /// Writes `report.html` into `directory` through a temporary file, so a reader never sees half a page.
    public func write(to directory: URL) throws {
        try Data(html().utf8).write(to: directory.appendingPathComponent("report.html"), options: .atomic)
    }

    public func html() -> String {
        var page = ReportPage(title: "Training run")
        let last = records.last
        page.facts([("model", model), ("data", data), ("method", configuration.method.rawValue),
                    ("status", finished ? "finished" : "running, step \(ReportFormat.integer(last?.step ?? 0)) of \(ReportFormat.integer(totalSteps))")])
        if let summary = TrainingSummary(records: records) {
            page.facts(summary.lines(wallSeconds: nil))
        }
        page.heading("Curves")
        page.charts(charts())
        page.heading("Configuration")
        page.keyValues(Self.flattened(configuration))
        page.heading("Preflight")
        if preflight.isEmpty { page.paragraph("No findings.") }
        else { page.html("<ul>" + preflight.map { "<li>\(HTMLText.escaped($0))</li>" }.joined() + "</ul>") }
        return page.render()
    }

    /// One chart per quantity, each against the optimizer step with the epoch under it.
    func charts() -> [String] {
        let epochPerStep = records.last.map { $0.step > 0 ? $0.epoch / Double($0.step) : 0 } ?? 0
        let epochLabel: @Sendable (Double) -> String? = { step in
            epochPerStep > 0 ? "ep " + ReportFormat.decimal(step * epochPerStep, step * epochPerStep < 10 ? 2 : 1) : nil
        }
        func line(_ title: String, _ y: String, _ series: [ChartSeries]) -> String {
            LineChart(title: title, xTitle: "optimizer step (epoch below)", yTitle: y, series: series, secondaryXLabel: epochLabel).svg()
        }
        func points(_ value: (StepRecord) -> Double?) -> [(x: Double, y: Double)] {
            records.compactMap { r in value(r).map { (Double(r.step), $0) } }
        }
        return [
            line("Loss", "loss (nats/token)", [ChartSeries("train/loss", points: points(\.loss)),
                                                ChartSeries("eval/loss", points: points(\.evalLoss), dashed: true)]),
            line("Learning rate", "learning rate", [ChartSeries("train/learning_rate", points: points(\.learningRate))]),
            line("Gradient norm", "L2 norm before clipping", [ChartSeries("train/grad_norm", points: points(\.gradNorm))]),
            line("Throughput", "tokens per second", [ChartSeries("tokens/s", points: points { $0.seconds > 0 ? Double($0.tokens) / $0.seconds : nil })]),
            line("Memory", "peak resident memory (MB)", [ChartSeries("peak memory", points: points { $0.peakMemoryBytes.map { Double($0) / 1e6 } })]),
        ]
    }

    /// Every key of the configuration with its value as saved in training_config.json ("none" for an unset
    /// optional), sorted by key.
    static func flattened(_ configuration: TrainingConfiguration) -> [(String, String)] {
        guard let data = try? JSONEncoder().encode(configuration),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return TrainingConfiguration.keys.sorted().map { key in
            guard let value = object[key], let text = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else {
                return (key, "none")
            }
            return (key, String(decoding: text, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
    }

    /// The configuration as a markdown table (TensorBoard's Text tab renders it).
    public static func configurationMarkdown(_ configuration: TrainingConfiguration) -> String {
        "| key | value |\n|---|---|\n" + flattened(configuration).map { "| \($0.0) | \($0.1) |" }.joined(separator: "\n")
    }
}
