// `tailor compare`'s HTML page in the shared report style: the terminal's table with every column, training and
// evaluation loss curves per method on step axes, and bars for memory, speed and the task metric.
import Foundation
import TailorReport

/// The comparison of training methods as a report page.
public enum ComparisonReport {
    public static func html(_ results: [MethodResult]) -> String {
        var page = ReportPage(title: "Full fine-tuning vs LoRA vs QLoRA")
        if let steps = results.map(\.losses.count).max() {
            page.facts([("methods", results.map(\.method.rawValue).joined(separator: ", ")), ("optimizer steps", ReportFormat.integer(steps))])
        }
        page.html(table(results).render())
        page.heading("Loss")
        let training = LineChart(title: "Training loss", xTitle: "optimizer step", yTitle: "loss (nats/token)",
                                 series: results.map { r in
                                     ChartSeries(r.method.rawValue, points: r.losses.enumerated().map { (Double($0 + 1), $1) })
                                 })
        let evaluation = LineChart(title: "Evaluation loss", xTitle: "optimizer step", yTitle: "eval loss (nats/token)",
                                   series: results.map { r in
                                       ChartSeries(r.method.rawValue, points: r.evalLosses.map { (Double($0.step), $0.loss) }, dashed: true)
                                   })
        page.charts([training.svg(), evaluation.svg()])
        page.heading("Cost")
        let methods = results.map(\.method.rawValue)
        var charts = [
            BarChart(title: "Peak tensor memory", xTitle: "method", yTitle: "MB", categories: methods,
                     series: [("peak memory", results.map { Double($0.peakBytes) / 1e6 })],
                     format: { ReportFormat.decimal($0, 0) }).svg(),
            BarChart(title: "Training speed", xTitle: "method", yTitle: "tokens per second", categories: methods,
                     series: [("tokens/s", results.map(\.tokensPerSecond))], format: { ReportFormat.decimal($0, 0) }).svg(),
        ]
        if results.contains(where: { $0.taskMetric != nil }) {
            charts.append(BarChart(title: "Task metric relative to full", xTitle: "method", yTitle: "% of full", categories: methods,
                                   series: [("% of full", results.map(\.taskMetricPercentOfFull))],
                                   format: { ReportFormat.decimal($0, 1) }).svg())
        }
        page.charts(charts)
        return page.render()
    }

    /// The same columns as the terminal table.
    static func table(_ results: [MethodResult]) -> ReportTable {
        var table = ReportTable(["method", "trainable parameters", "peak memory", "s/step", "tokens/s", "wall time",
                                 "eval loss", "perplexity vs full", "task metric", "% of full"])
        for r in results {
            table.add([.text(r.method.rawValue), .number(ReportFormat.integer(r.trainableParameters)),
                       .number(ReportFormat.bytes(r.peakBytes)), .number(ReportFormat.decimal(r.secondsPerStep, 2)),
                       .number(ReportFormat.decimal(r.tokensPerSecond, 0)), .number(ReportFormat.duration(r.wallSeconds)),
                       .number(ReportFormat.decimal(r.evalLoss, 4)),
                       .number(r.perplexityRatioToFull.map { ReportFormat.decimal($0, 3) + "×" } ?? "–"),
                       .number(r.taskMetric.map { "\($0.name) \(ReportFormat.decimal($0.value, 4))" } ?? "–"),
                       .number(r.taskMetricPercentOfFull.map { ReportFormat.decimal($0, 1) + "%" } ?? "–")])
        }
        return table
    }
}
