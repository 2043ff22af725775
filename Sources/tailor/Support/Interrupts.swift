// Ctrl-C and SIGTERM during training: the first asks the trainer to stop after the current optimizer step (it
// writes a checkpoint), a second exits at once.
import Dispatch
import Foundation

/// The first SIGINT/SIGTERM received, shared between the signal sources and the trainer's poll.
final class Interrupts: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Installs the handlers; they stay installed for the life of the process.
    static func install() -> Interrupts {
        let interrupts = Interrupts()
        for signalNumber in [SIGINT, SIGTERM] {
            Foundation.signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { interrupts.receive(signalNumber) }
            source.resume()
            interrupts.sources.append(source)
        }
        return interrupts
    }

    private func receive(_ signalNumber: Int32) {
        lock.lock()
        let first = received == nil
        if first { received = signalNumber }
        lock.unlock()
        guard first else {
            FileHandle.standardError.write(Data("\nstopped at once (second interrupt); the last checkpoint is intact\n".utf8))
            exit(128 + signalNumber)
        }
        FileHandle.standardError.write(Data("\nfinishing the current step to write a checkpoint (interrupt again to stop at once)\n".utf8))
    }

    /// The first signal received, if any.
    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// The command line that resumes this run: the same arguments with `--resume`.
    static func resumeCommand() -> String {
        var arguments = CommandLine.arguments
        if !arguments.contains("--resume") { arguments.append("--resume") }
        return arguments.map { $0.contains(where: { " '\"$\\".contains($0) }) ? "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" : $0 }
            .joined(separator: " ")
    }
}
