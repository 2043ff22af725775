// The end-of-run numbers (HF Trainer's train_runtime, train_loss, samples/s, …) computed from the step records
// that metrics.jsonl holds, so the terminal summary and the file can never disagree.
import Foundation
import TailorReport

extension StepRecord {
    /// The records of a metrics.jsonl file, in order; a line that is not a record names the file and line.
    public static func readLog(_ url: URL) throws -> [StepRecord] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        var records: [StepRecord] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do { records.append(try JSONDecoder().decode(StepRecord.self, from: Data(line))) } catch {
                throw TrainingError.invalidConfiguration(key: "\(url.path):\(i + 1)", message: "not a metrics record (\(error))")
            }
        }
        return records
    }
}

/// What a finished (or interrupted) run did, from its step records.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var epoch: Double
    public var tokens: Int
    public var samples: Int
    /// Seconds spent in optimizer steps; evaluation excluded.
    public var trainSeconds: Double
    /// Seconds spent evaluating.
    public var evalSeconds: Double
    /// Mean training loss over the steps (HF's train_loss) and the last step's.
    public var meanTrainLoss: Double
    public var finalTrainLoss: Double
    public var bestTrainLoss: (step: Int, loss: Double)?
    public var finalEvalLoss: Double?
    public var bestEvalLoss: (step: Int, loss: Double)?
    public var peakMemoryBytes: Int?

    /// Tokens and samples per second of training time.
    public var tokensPerSecond: Double { trainSeconds > 0 ? Double(tokens) / trainSeconds : 0 }
    public var samplesPerSecond: Double { trainSeconds > 0 ? Double(samples) / trainSeconds : 0 }

    /// Sums and extremes of `records` (nil when there are none).
    public init?(records: [StepRecord]) {
        guard let last = records.last else { return nil }
        steps = last.step
        epoch = last.epoch
        tokens = records.reduce(0) { $0 + $1.tokens }
        samples = records.reduce(0) { $0 + ($1.samples ?? 0) }
        trainSeconds = records.reduce(0) { $0 + $1.seconds }
        evalSeconds = records.reduce(0) { $0 + ($1.evalSeconds ?? 0) }
        meanTrainLoss = records.reduce(0) { $0 + $1.loss } / Double(records.count)
        finalTrainLoss = last.loss
        bestTrainLoss = records.min { $0.loss < $1.loss }.map { ($0.step, $0.loss) }
        let evaluated = records.compactMap { r in r.evalLoss.map { (step: r.step, loss: $0) } }
        finalEvalLoss = evaluated.last?.loss
        bestEvalLoss = evaluated.min { $0.loss < $1.loss }
        peakMemoryBytes = records.compactMap(\.peakMemoryBytes).max()
    }


    /// "name  value" lines for the terminal; `wallSeconds` is the whole command's time when known.
    public func lines(wallSeconds: Double?) -> [(String, String)] {
        let d = ReportFormat.decimal
        var out: [(String, String)] = []
        if let wallSeconds { out.append(("runtime", ReportFormat.duration(wallSeconds))) }
        out += [
            ("training time", ReportFormat.duration(trainSeconds) + (evalSeconds > 0 ? " (+ \(ReportFormat.duration(evalSeconds)) evaluating)" : "")),
            ("steps", "\(ReportFormat.integer(steps)) (epoch \(d(epoch, 2)))"),
            ("tokens", ReportFormat.integer(tokens)),
            ("samples", ReportFormat.integer(samples)),
            ("train loss", "mean \(d(meanTrainLoss, 4)), final \(d(finalTrainLoss, 4))"
                + (bestTrainLoss.map { ", best \(d($0.loss, 4)) at step \(ReportFormat.integer($0.step))" } ?? "")),
        ]
        if let finalEvalLoss, let best = bestEvalLoss {
            out.append(("eval loss", "final \(d(finalEvalLoss, 4)), best \(d(best.loss, 4)) at step \(ReportFormat.integer(best.step))"))
        }
        out += [("samples/s", d(samplesPerSecond, 2)), ("tokens/s", d(tokensPerSecond, 1))]
        if let peakMemoryBytes { out.append(("peak memory", ReportFormat.bytes(peakMemoryBytes) + " resident")) }
        return out
    }
}
