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

/// After a data-parallel run: what the collectives cost and how the optimizer state was split.
func printCommunicationSummary(_ trainer: Trainer, steps: Int) throws {
    let perRank = try trainer.optimizerStateBytesPerRank()
    let statistics = trainer.parallelism.communicator.statistics
    let steps = max(1, steps)
    print("communication (rank 0): \(ReportFormat.bytes(statistics.bytesSent / steps)) handed to collectives per step, "
          + String(format: "%.3f s waiting per step", statistics.seconds / Double(steps)))
    let whole = trainer.parallelism.zero == .optimizerState ? perRank.reduce(0, +) : perRank.first ?? 0
    print("optimizer state per rank: " + perRank.map(ReportFormat.bytes).joined(separator: ", ")
          + " (one process: \(ReportFormat.bytes(whole)); largest rank \(String(format: "%.2f", Double(perRank.max() ?? 0) / Double(max(whole, 1)))) of it)")
}
