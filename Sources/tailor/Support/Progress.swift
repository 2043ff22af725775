// Progress on the terminal: a redrawn bar on a TTY, plain log lines otherwise.
import Foundation
import TailorReport
import TailorTraining

/// Prints training progress: step/total, epoch, loss, grad norm, learning rate, tokens/s, elapsed and ETA. Time
/// spent evaluating counts neither into tokens/s nor into elapsed and ETA.
struct ProgressPrinter {
    let interactive = isatty(STDOUT_FILENO) != 0
    let started = Date()
    var evaluating = 0.0
    var loggedTokens = 0
    var loggedSeconds = 0.0

    mutating func update(_ r: StepRecord, total: Int, firstStep: Int) {
        evaluating += r.evalSeconds ?? 0
        loggedTokens += r.tokens
        loggedSeconds += r.seconds
        let elapsed = max(0, Date().timeIntervalSince(started) - evaluating)
        let done = r.step - firstStep, left = total - r.step
        let eta = done > 0 ? elapsed / Double(done) * Double(left) : 0
        let rate = loggedSeconds > 0 ? Double(loggedTokens) / loggedSeconds : 0
        var fields = String(format: "step %d/%d  epoch %.2f  loss %.4f  grad_norm %.3f  lr %.2e  %@ tok/s  elapsed %@  ETA %@",
                            r.step, total, r.epoch, r.loss, r.gradNorm, r.learningRate, ReportFormat.decimal(rate, 0),
                            Self.clock(elapsed), Self.clock(eta))
        if let e = r.evalLoss { fields += String(format: "  eval_loss %.4f (%@)", e, ReportFormat.duration(r.evalSeconds ?? 0)) }
        if let c = r.communicationSeconds { fields += String(format: "  comm %.3fs", c) }
        if let m = r.preference { fields += preferenceProgress(m) }
        if interactive {
            let width = 24, filled = total > 0 ? width * r.step / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            print("\r\u{1B}[2K\(bar) \(fields)", terminator: r.step == total ? "\n" : "")
            fflush(nil)   // all output streams (stdout is shared mutable state to Swift 6)
        } else {
            print(fields)
        }
    }

    /// Prints a line without breaking the bar.
    func note(_ text: String) {
        print(interactive ? "\r\u{1B}[2K\(text)" : text)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
