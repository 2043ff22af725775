// swift-tools-version:6.0
// Tailor: full fine-tuning, LoRA and QLoRA for open LLMs, in Swift.
import PackageDescription

/// Linux links Debian's OpenBLAS (f32 matrix-vector products) through the CBLAS system-library target and oneDNN (f32
/// and bf16 matrix products) through CDNNL; macOS uses Accelerate (bf16 products are then emulated in f32).
let blasDependency: [Target.Dependency] = [
    .target(name: "CBLAS", condition: .when(platforms: [.linux])),
    .target(name: "CDNNL", condition: .when(platforms: [.linux])),
]

let package = Package(
    name: "Tailor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tailor", targets: ["TailorCLI"]),
        /// `import Tailor`: one module that re-exports every library target.
        .library(name: "Tailor", targets: ["Tailor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // Open MPI (Linux) for data-parallel training; macOS builds run as one process.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "TailorDistributed", dependencies: [.target(name: "CMPI", condition: .when(platforms: [.linux]))]),
        .target(name: "TailorTensor"),
        /// Text formats (JSON reading and writing, JSON Lines, HTML escaping): a leaf every other target may use.
        .target(name: "TailorText"),
        .target(name: "TailorReport", dependencies: ["TailorText"]),
        /// AVX-512 inference kernels in C (Swift compiles for baseline x86-64), chosen at run time.
        .target(name: "CTailorKernels"),
        .target(name: "TailorKernels", dependencies: ["TailorTensor", "CTailorKernels"] + blasDependency),
        .target(name: "TailorFormats", dependencies: ["TailorTensor", "TailorText"]),
        .target(name: "TailorTokenizers", dependencies: ["TailorText"]),
        .target(name: "TailorChat", dependencies: ["TailorTokenizers", "TailorText"]),
        .target(name: "TailorModels", dependencies: [
            "TailorTensor", "TailorKernels", "TailorFormats", "TailorQuantization", "TailorTokenizers", "TailorChat",
        ]),
        .target(name: "TailorMetrics", dependencies: ["TailorText"]),
        .target(name: "TailorQuantization", dependencies: ["TailorTensor", "TailorText"]),
        .target(name: "TailorOptim", dependencies: ["TailorTensor", "CTailorKernels"]),
        .target(name: "TailorTraining", dependencies: ["TailorTensor", "TailorText", "TailorModels", "TailorOptim", "TailorFormats", "TailorQuantization",
                                                  "TailorDistributed", "TailorReport", "TailorData", "TailorPlan", "TailorChat", "TailorTokenizers",
                                                  .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "TailorPlan", dependencies: ["TailorFormats"]),
        .target(name: "TailorData", dependencies: ["TailorTensor", "TailorText", "TailorTokenizers", "TailorChat", "TailorReport"]),
        .target(name: "TailorExport", dependencies: [
            "TailorTensor", "TailorText", "TailorFormats", "TailorModels", "TailorQuantization", "TailorTokenizers", "TailorKernels",
        ]),
        .target(name: "TailorEval", dependencies: [
            "TailorTensor", "TailorText", "TailorKernels", "TailorModels", "TailorChat", "TailorTokenizers", "TailorMetrics", "TailorReport",
        ]),
        .target(name: "TailorServe", dependencies: [
            "TailorTensor", "TailorKernels", "TailorModels", "TailorChat", "TailorTokenizers",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "TailorTestSupport", dependencies: ["TailorTensor", "TailorFormats"]),
        /// The umbrella module (`import Tailor`); its folder has another name than the CLI's `Sources/tailor`, which
        /// a case-insensitive file system could not tell apart.
        .target(name: "Tailor", dependencies: [
            "TailorTensor", "TailorKernels", "TailorFormats", "TailorTokenizers", "TailorChat",
            "TailorModels", "TailorMetrics", "TailorQuantization", "TailorOptim", "TailorTraining", "TailorPlan",
            "TailorData", "TailorExport", "TailorEval", "TailorDistributed", "TailorReport", "TailorServe", "TailorText",
        ], path: "Sources/TailorUmbrella"),
        /// Two small programs on the library alone, built with the package so they never go stale.
        .executableTarget(name: "FineTuneExample", dependencies: ["Tailor"], path: "Examples/FineTune"),
        .executableTarget(name: "GenerateExample", dependencies: ["Tailor"], path: "Examples/Generate"),
        /// The `tailor` command: flags, printing and exit codes over the library.
        .executableTarget(name: "TailorCLI", dependencies: [
            "Tailor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/tailor"),
        .testTarget(name: "TailorTensorTests", dependencies: ["TailorTensor", "TailorTestSupport"]),
        .testTarget(name: "TailorKernelsTests", dependencies: ["TailorKernels", "TailorTestSupport"]),
        .testTarget(name: "TailorFormatsTests", dependencies: ["TailorFormats", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorTokenizersTests", dependencies: ["TailorTokenizers", "TailorText"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorChatTests", dependencies: ["TailorChat", "TailorTokenizers", "TailorText"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorModelsTests", dependencies: ["TailorModels", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorMetricsTests", dependencies: ["TailorMetrics"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorQuantizationTests", dependencies: ["TailorQuantization", "TailorTestSupport", "TailorText"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorOptimTests", dependencies: ["TailorOptim", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorTrainingTests", dependencies: ["TailorTraining", "TailorTestSupport", "TailorQuantization", "TailorPlan"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorPlanTests", dependencies: ["TailorPlan"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorDataTests", dependencies: ["TailorData", "TailorTokenizers", "TailorChat"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorExportTests", dependencies: ["TailorExport", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorEvalTests", dependencies: ["TailorEval", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorServeTests", dependencies: [
            "TailorServe", "TailorTestSupport", "TailorModels", "TailorFormats", "TailorTensor", "TailorKernels", "TailorTokenizers",
        ]),
        .testTarget(name: "TailorCLITests", dependencies: ["TailorTestSupport"]),
        .testTarget(name: "TailorDistributedTests", dependencies: ["TailorDistributed", "TailorTensor", "TailorTestSupport"]),
        .testTarget(name: "TailorReportTests", dependencies: ["TailorReport", "TailorText"]),
        .testTarget(name: "TailorTextTests", dependencies: ["TailorText"]),
        .testTarget(name: "TailorPropertyTests", dependencies: [
            "TailorChat", "TailorTraining", "TailorData", "TailorFormats",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
