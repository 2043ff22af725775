// `import Tailor`: the whole library in one import. Each module stays importable on its own.
@_exported import TailorTensor
@_exported import TailorKernels
@_exported import TailorFormats
@_exported import TailorTokenizers
@_exported import TailorChat
@_exported import TailorModels
@_exported import TailorMetrics
@_exported import TailorQuantization
@_exported import TailorOptim
@_exported import TailorTraining
@_exported import TailorPlan
@_exported import TailorData
@_exported import TailorExport
@_exported import TailorEval
@_exported import TailorDistributed
@_exported import TailorReport
@_exported import TailorServe
@_exported import TailorText

/// The version of this Tailor build, as `tailor --version` prints it (semantic versioning).
public enum TailorVersion {
    /// "major.minor.patch".
    public static let string = "0.3.0"
}
