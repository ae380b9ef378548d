// `rnnode merge`: combine the output folders of `rnnode compare --shard` runs into one report.
import ArgumentParser
import Experiments
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine comparison folders (e.g. shards) into one report.",
        discussion: "Copies every cell of each folder into --out (an ok cell wins over a failed one) and rebuilds errors.csv, the summaries, the plots and index.html there."
    )

    @Argument(help: "Comparison folders written by `rnnode compare`, or folders holding only an errors.csv (the peers' rows).")
    var folders: [String]
    @Option(help: "Output folder (may be one of the inputs).")
    var out = "results/compare"

    func validate() throws {
        try OptionLimits.checkPath("--out", out)
        guard !folders.isEmpty else { throw ValidationError("give at least one folder to merge") }
        guard !folders.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ValidationError("a folder to merge is an empty name")
        }
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("no such folder: \(folder)")
            }
            guard FileManager.default.fileExists(atPath: folder + "/cells") || FileManager.default.fileExists(atPath: folder + "/errors.csv")
            else {
                throw ValidationError("\(folder) is neither a comparison folder (cells/) nor a folder with errors.csv")
            }
        }
    }

    func run() throws {
        let outcomes = try ComparisonReport.merge(folders.map { URL(fileURLWithPath: $0, isDirectory: true) },
                                                  into: URL(fileURLWithPath: out, isDirectory: true))
        if let summary = try? String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("summary.md"), encoding: .utf8) {
            try Console.print(summary)
        }
        let failed = outcomes.filter { $0.status == .failed }.count
        try Console.report("merged \(outcomes.count) cells (\(failed) failed) into \(out)")
    }
}
