// swift-tools-version:6.0
// Fuzz targets for rnnode's input readers, one libFuzzer executable each. Built apart from the main package
// (the sanitizer flags apply to every module): see README.md here or `make fuzz` at the repository root.
import PackageDescription

let targets = ["expression", "problem-file", "matrix-file", "checkpoint", "csv"]

let package = Package(
    name: "rnnode-fuzz",
    platforms: [.macOS(.v13)],
    // Named explicitly: SwiftPM would otherwise call the root package after its checkout's folder.
    dependencies: [.package(name: "rnnode", path: "..")],
    targets: [.target(name: "FuzzSupport")] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [
                "FuzzSupport",
                .product(name: "Problems", package: "rnnode"),
                .product(name: "Recurrent", package: "rnnode"),
                .product(name: "Experiments", package: "rnnode"),
            ],
            path: "Sources/\(name)"
        )
    }
)
