// Progress on the terminal: a redrawn bar on a TTY, plain log lines otherwise.
import Foundation

/// Prints training progress: step/total, loss, learning rate, tokens/s and ETA.
struct ProgressPrinter {
    let interactive = isatty(STDOUT_FILENO) != 0
    let started = Date()
    var tokens = 0

    mutating func update(step: Int, total: Int, firstStep: Int, loss: Double, learningRate: Double, tokensThisStep: Int,
                         extra: String = "") {
        tokens += tokensThisStep
        let elapsed = Date().timeIntervalSince(started)
        let done = step - firstStep, left = total - step
        let eta = done > 0 ? elapsed / Double(done) * Double(left) : 0
        let rate = elapsed > 0 ? Double(tokens) / elapsed : 0
        let fields = String(format: "step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %@%@", step, total, loss, learningRate,
                            rate, Self.clock(eta), extra)
        if interactive {
            let width = 24, filled = total > 0 ? width * step / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            print("\r\u{1B}[2K\(bar) \(fields)", terminator: step == total ? "\n" : "")
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
