// swift-tools-version:6.0
// Tailor: full fine-tuning, LoRA and QLoRA for open LLMs, in Swift.
import PackageDescription

/// Linux links Debian's OpenBLAS through the CBLAS system-library target and oneDNN (bf16 matrix products) through
/// CDNNL; macOS uses Accelerate (bf16 products are then emulated in f32).
let blasDependency: [Target.Dependency] = [
    .target(name: "CBLAS", condition: .when(platforms: [.linux])),
    .target(name: "CDNNL", condition: .when(platforms: [.linux])),
]

let package = Package(
    name: "Tailor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tailor", targets: ["tailor"]),
        .library(name: "Tailor", targets: [
            "TailorTensor", "TailorKernels", "TailorFormats", "TailorTokenizers", "TailorChat",
            "TailorModels", "TailorMetrics", "TailorQuantization", "TailorOptim", "TailorTraining", "TailorPlan",
            "TailorData", "TailorExport", "TailorEval",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "TailorTensor"),
        .target(name: "TailorKernels", dependencies: ["TailorTensor"] + blasDependency),
        .target(name: "TailorFormats", dependencies: ["TailorTensor"]),
        .target(name: "TailorTokenizers"),
        .target(name: "TailorChat", dependencies: ["TailorTokenizers"]),
        .target(name: "TailorModels", dependencies: [
            "TailorTensor", "TailorKernels", "TailorFormats", "TailorQuantization", "TailorTokenizers", "TailorChat",
        ]),
        .target(name: "TailorMetrics"),
        .target(name: "TailorQuantization", dependencies: ["TailorTensor"]),
        .target(name: "TailorOptim", dependencies: ["TailorTensor"]),
        .target(name: "TailorTraining", dependencies: ["TailorTensor", "TailorModels", "TailorOptim", "TailorFormats", "TailorQuantization"]),
        .target(name: "TailorPlan", dependencies: ["TailorFormats"]),
        .target(name: "TailorData", dependencies: ["TailorTensor", "TailorTokenizers", "TailorChat"]),
        .target(name: "TailorExport", dependencies: [
            "TailorTensor", "TailorFormats", "TailorModels", "TailorQuantization", "TailorTokenizers", "TailorKernels",
        ]),
        .target(name: "TailorEval", dependencies: [
            "TailorTensor", "TailorKernels", "TailorModels", "TailorChat", "TailorTokenizers", "TailorMetrics",
        ]),
        .target(name: "TailorTestSupport", dependencies: ["TailorTensor", "TailorFormats"]),
        .executableTarget(name: "tailor", dependencies: [
            "TailorTensor", "TailorKernels", "TailorFormats", "TailorTokenizers", "TailorChat",
            "TailorModels", "TailorMetrics", "TailorQuantization", "TailorOptim", "TailorTraining", "TailorPlan",
            "TailorData", "TailorExport", "TailorEval",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "TailorTensorTests", dependencies: ["TailorTensor", "TailorTestSupport"]),
        .testTarget(name: "TailorKernelsTests", dependencies: ["TailorKernels", "TailorTestSupport"]),
        .testTarget(name: "TailorFormatsTests", dependencies: ["TailorFormats", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorTokenizersTests", dependencies: ["TailorTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorChatTests", dependencies: ["TailorChat", "TailorTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorModelsTests", dependencies: ["TailorModels", "TailorTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorMetricsTests", dependencies: ["TailorMetrics"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TailorQuantizationTests", dependencies: ["TailorQuantization", "TailorTestSupport"],
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
        .testTarget(name: "TailorCLITests", dependencies: ["TailorTestSupport"]),
        .testTarget(name: "TailorPropertyTests", dependencies: [
            "TailorChat", "TailorTraining", "TailorData", "TailorFormats",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
