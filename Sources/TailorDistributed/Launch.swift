// Which communicator a command runs on: MPI when a launcher started the process (or `--distributed` insists),
// else one process alone.
import Foundation

public enum Communicators {
    /// The communicator of this process.
    ///
    /// - Parameter insist: `--distributed`: fail instead of running alone when no launcher is detected.
    /// - Throws: `CommunicationError.notLaunched` when `insist` is set but there is no launcher (or no MPI in this
    ///   build), or a transport error when MPI cannot start.
    public static func detect(insist: Bool) throws(CommunicationError) -> any Communicator {
        #if canImport(CMPI)
        if MPICommunicator.isLaunched { return try MPICommunicator() }
        if insist { throw .notLaunched(hint: "start it with `mpirun -np N tailor …`") }
        #else
        if insist { throw .notLaunched(hint: "this build has no MPI (Linux with libopenmpi-dev only)") }
        #endif
        return SingleProcessCommunicator()
    }
}
