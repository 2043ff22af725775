// What `tailor train` does with the trainer's events: the progress line, report.html at every evaluation and at
// the end, TensorBoard event files when asked, and the end-of-run summary read back from metrics.jsonl.
import Foundation
import TailorReport
import TailorTraining

struct TrainingMonitor {
    let out: URL
    /// The folder as the user wrote it, for printed paths.
    let outPath: String
    var report: TrainingReport
    var tensorBoard: TensorBoardWriter?
    var progress = ProgressPrinter()
    var firstStep = 0
    let started = Date()

    init(out outPath: String, report: TrainingReport, tensorBoard: Bool) throws {
        self.outPath = outPath
        out = URL(fileURLWithPath: outPath)
        self.report = report
        if tensorBoard {
            self.tensorBoard = try TensorBoardWriter(directory: URL(fileURLWithPath: outPath).appendingPathComponent("runs"))
            try self.tensorBoard?.addText(tag: "args", TrainingReport.configurationMarkdown(report.configuration))
        }
    }

    mutating func handle(_ event: TrainingEvent) throws {
        switch event {
        case .started(let total, let first, _):
            firstStep = first
            report.totalSteps = total
            if first > 0 { progress.note("resumed at step \(first)") }
            try writeReport(finished: false)
        case .step(let r, let total):
            progress.update(r, total: total, firstStep: firstStep)
            try tensorBoard?.add(r)
        case .evaluated: try writeReport(finished: false)
        case .checkpointed(let step, let directory): progress.note("step \(step): checkpoint \(directory.path)")
        case .skipped(let step, let reason): progress.note("step \(step) skipped: \(reason)")
        }
    }

    /// The final report and the summary, both from metrics.jsonl as written.
    mutating func finish() throws {
        try writeReport(finished: true)
        try tensorBoard?.close()
        guard let summary = TrainingSummary(records: report.records) else { return }
        print("\nrun summary (from \(outPath)/metrics.jsonl):")
        let lines = summary.lines(wallSeconds: Date().timeIntervalSince(started))
        let width = lines.map(\.0.count).max() ?? 0
        for (name, value) in lines { print("  " + name + String(repeating: " ", count: width - name.count) + "  " + value) }
        print("  report" + String(repeating: " ", count: max(0, width - 6)) + "  " + outPath + "/report.html")
        if tensorBoard != nil { print("  tensorboard" + String(repeating: " ", count: max(0, width - 11)) + "  tensorboard --logdir \(outPath)/runs") }
    }

    mutating func writeReport(finished: Bool) throws {
        report.records = try StepRecord.readLog(out.appendingPathComponent("metrics.jsonl"))
        report.finished = finished
        try report.write(to: out)
    }
}
