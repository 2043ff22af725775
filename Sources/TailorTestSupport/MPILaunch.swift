// Starting test programs under Open MPI's `mpirun` (several ranks on this machine, as root in CI).
import Foundation

public enum MPILaunch {
    /// `mpirun` from PATH, or nil when Open MPI is not installed.
    public static var mpirun: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Arguments of `mpirun` for `ranks` processes on this machine: more ranks than cores allowed, root allowed (CI
    /// runs as root), TCP and self transports only (shared-memory single copy needs ptrace, which containers deny).
    public static func arguments(ranks: Int) -> [String] {
        ["-np", "\(ranks)", "--oversubscribe", "--allow-run-as-root", "--mca", "btl", "self,tcp", "--bind-to", "none"]
    }

    /// Whether this process was started by `mpirun`.
    public static var isRank: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }
}
