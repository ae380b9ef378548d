// swift-tools-version:6.0
// rnnode: recurrent networks that learn to step ODEs and iterate toward eigenvectors,
// checked against GNU GSL. Imports flow one way: rnnode → Experiments → {Problems, Reference, Recurrent}.
import PackageDescription


let package = Package(
    name: "rnnode",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rnnode", targets: ["rnnode"]),
        .library(name: "Problems", targets: ["Problems"]),
        .library(name: "Reference", targets: ["Reference"]),
        .library(name: "Recurrent", targets: ["Recurrent"]),
        .library(name: "Experiments", targets: ["Experiments"]),
    ],
    dependencies: [
        // Pinned exactly: TOMLKit is 0.x (any minor may break), and CI must build what was tested.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        // MARK: C libraries (one module each: GSL's and OpenBLAS's CBLAS headers clash)
        .systemLibrary(name: "CGSL", path: "Sources/CGSL"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),

        // MARK: Small utilities every module shares: hashes (SHA-256 from OpenSSL), the seeded generator, child processes
        .target(name: "CSupport", path: "Sources/CSupport"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .target(name: "Support", dependencies: ["CSupport", "COpenSSL"]),

        // MARK: Problem files, the expression language, symbolic Jacobians
        .target(
            name: "Problems",
            dependencies: ["Support", .product(name: "TOMLKit", package: "TOMLKit")]
        ),

        // MARK: Ground truth: GSL odeiv2 integrators and symmetric eigensolvers
        .target(name: "Reference", dependencies: ["CGSL"]),

        // MARK: Recurrent networks on OpenBLAS: cells, BPTT, optimizers, checkpoints, ESN
        .target(name: "Recurrent", dependencies: ["CBLAS", "Support"]),

        // MARK: Datasets, training runs, rollouts, metrics, CSV and plots
        .target(
            name: "Experiments",
            dependencies: [
                "Problems", "Reference", "Recurrent", "Support",
            ],
        ),

        // MARK: The command-line tool
        .executableTarget(
            name: "rnnode",
            dependencies: [
                "Experiments", "Support",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
        ),

        // MARK: Tests
        .target(name: "TestSupport", path: "Sources/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "ProblemsTests", dependencies: ["Problems", "Support", "TestSupport"]),
        .testTarget(name: "ReferenceTests", dependencies: ["Reference", "Problems", "Experiments", "TestSupport"]),
        .testTarget(name: "RecurrentTests", dependencies: ["Recurrent", "Support", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Problems", "Recurrent", "Support", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["rnnode", "TestSupport"]),
    ]
)
