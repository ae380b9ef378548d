// Scale-out as a user runs it: `rnnode compare --shard I/N` driven by GNU parallel, then `rnnode merge`, equals the
// unsharded grid cell for cell.
import Foundation
import Testing

/// GNU parallel, installed by `make deps`; the test is reported as skipped (not passed) without it.
private let gnuParallel: String? = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

@Suite struct ShardingCLITests {
    @Test(.enabled(if: gnuParallel != nil, "GNU parallel is not installed (make deps installs it)"))
    func gnuParallelShardsMergeIntoTheUnshardedGrid() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let grid = ["compare", "--problems", "none", "--matrices", "pairing,tridiagonal-toeplitz", "--methods", "yi,power", "--quick"]
        let whole = try RNNodeBinary.run(grid + ["--out", "whole"], in: folder)
        #expect(whole.status == 0, "\(whole.stderr)")

        // parallel runs the shards as separate processes, each into its own folder, as on a cluster.
        let binary = RNNodeBinary.url.path
        let command = ([binary] + grid + ["--shard", "{}/3", "--out", "shards/{}"]).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gnuParallel!)
        process.arguments = ["--will-cite", "--halt", "now,fail=1", "--jobs", "2", command, ":::", "1", "2", "3"]
        var environment = RNNodeBinary.environment
        environment["HOME"] = folder.path  // parallel keeps its state under ~/.parallel
        process.environment = environment
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "GNU parallel exited with \(process.terminationStatus)")

        let merged = try RNNodeBinary.run(["merge", "shards/1", "shards/2", "shards/3", "--out", "merged"], in: folder)
        #expect(merged.status == 0, "\(merged.stderr)")
        let expected = try deterministicRows(folder.appendingPathComponent("whole/errors.csv"))
        let got = try deterministicRows(folder.appendingPathComponent("merged/errors.csv"))
        #expect(!expected.isEmpty)
        #expect(got == expected, "merged shards differ from the whole grid: \(got.symmetricDifference(expected).sorted().prefix(5))")
        // Each cell ran in exactly one shard: every shard holds some rows, and no row key appears twice.
        for shard in 1...3 {
            let rows = try deterministicRows(folder.appendingPathComponent("shards/\(shard)/errors.csv"))
            #expect(!rows.isEmpty, "shard \(shard) ran no cell")
        }
    }
}

/// The rows of an errors.csv without the wall-clock measurements (metrics whose name holds `seconds`), which
/// differ between any two runs; every other value is deterministic for a given seed.
private func deterministicRows(_ url: URL) throws -> Set<String> {
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
    var rows = Set<String>()
    for line in lines {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 5, !fields[4].contains("seconds") else { continue }
        let (inserted, _) = rows.insert(String(line))
        precondition(inserted, "row twice: \(line)")
    }
    return rows
}
