// `rnnode compare` and `rnnode merge` as a user runs them: a real (small) grid end to end, resume, and bad input.
import Foundation
import Testing

@Suite struct CompareCLITests {
    @Test func smallEigenGridRunsResumesAndMerges() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let arguments = ["compare", "--problems", "none", "--matrices", "pairing", "--methods", "yi,power", "--quick", "--out", "grid"]
        let first = try RNNodeBinary.run(arguments, in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("[2/2]"))
        #expect(first.stdout.contains("### pairing"))
        for file in ["errors.csv", "summary.csv", "summary.md", "index.html", "cells/eigen-pairing-yi-s1.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("grid/\(file)").path), "\(file)")
        }
        let errors = try String(contentsOf: folder.appendingPathComponent("grid/errors.csv"), encoding: .utf8)
        #expect(errors.hasPrefix("experiment,problem,model,seed,metric,value,unit\n"))
        #expect(errors.contains("eigen,pairing,yi,1,rel_error,"))

        let second = try RNNodeBinary.run(arguments, in: folder)
        #expect(second.status == 0)
        #expect(second.stderr.contains("[2/2] cells already done"))
        #expect(second.stderr.contains("0 cells run"))

        let merged = try RNNodeBinary.run(["merge", "grid", "--out", "merged"], in: folder)
        #expect(merged.status == 0, "\(merged.stderr)")
        let mergedErrors = try String(contentsOf: folder.appendingPathComponent("merged/errors.csv"), encoding: .utf8)
        #expect(mergedErrors == errors)
    }

    @Test(arguments: [
        (["compare", "--problems", "lorenz63"], "unknown problem 'lorenz63'"),
        (["compare", "--models", "transformer"], "unknown model 'transformer'"),
        (["compare", "--methods", "qr"], "unknown method 'qr'"),
        (["compare", "--shard", "3/2"], "--shard takes I/N"),
        (["compare", "--seeds", "0"], "--seeds must be at least 1"),
        (["compare", "--jobs", "0"], "--jobs must be at least 1"),
        (["merge", "no-such-folder"], "no such folder: no-such-folder"),
    ])
    func badInputIsAClearError(arguments: [String], message: String) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let result = try RNNodeBinary.run(arguments + ["--out", "out"], in: folder)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }
}
