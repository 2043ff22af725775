// Running a command on every rank of an MPI job: only rank 0 prints, and an error on any rank stops them all,
// naming the rank that failed.
import ArgumentParser
import Foundation
import TailorDistributed
import TailorReport
import TailorTraining

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on this rank. Ranks other than 0 write nothing to standard output. With several ranks, an error
/// is printed as `error on rank r of N: …` and every rank is stopped (MPI_Abort), so none waits forever in a
/// collective; one rank alone throws it as usual. An `ExitCode` (only an interrupted run throws one, on every rank
/// after the same step) ends every rank with that status.
func runOnRanks(_ communicator: any Communicator, _ body: () throws -> Void) throws {
    if communicator.size > 1, communicator.rank != 0 {
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 { dup2(null, STDOUT_FILENO) }
    }
    do {
        try body()
    } catch let exit as ExitCode {
        // A stop every rank takes after the same step (an interrupt the ranks agreed on): leave the group, exit with it.
        communicator.finish()
        throw exit
    } catch {
        guard communicator.size > 1 else { throw error }
        FileHandle.standardError.write(Data("error on rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
        fflush(nil)
        communicator.abort(code: 1)
    }
    communicator.finish()
}

/// After a data-parallel run: what the collectives cost and how the training state was split.
func printCommunicationSummary(_ trainer: Trainer, steps: Int) throws {
    let perRank = try trainer.trainingStateBytesPerRank()
    let statistics = trainer.parallelism.communicator.statistics
    let steps = max(1, steps)
    print("communication (rank 0): \(ReportFormat.bytes(statistics.bytesSent / steps)) handed to collectives per step, "
          + String(format: "%.3f s waiting per step", statistics.seconds / Double(steps)))
    let sharded = trainer.parallelism.zero == .optimizerState
    /// "a, b (one process: c; largest rank f of it)": under ZeRO-1 the ranks' parts add up to one process's whole.
    func line(_ name: String, _ values: [Int]) {
        let whole = sharded ? values.reduce(0, +) : values.first ?? 0
        print("\(name) per rank: " + values.map(ReportFormat.bytes).joined(separator: ", ")
              + " (one process: \(ReportFormat.bytes(whole)); largest rank \(String(format: "%.2f", Double(values.max() ?? 0) / Double(max(whole, 1)))) of it)")
    }
    line("optimizer state", perRank.map(\.moments))
    line("split state (AdamW moments + f32 masters only bf16 products read)", perRank.map(\.partitioned))
    print("f32 \(trainer.configuration.method == .full ? "masters" : "adapters") per rank: " + perRank.map { ReportFormat.bytes($0.masters) }.joined(separator: ", ")
          + "; bf16 working copies per rank: " + perRank.map { ReportFormat.bytes($0.workingCopies) }.joined(separator: ", "))
}
