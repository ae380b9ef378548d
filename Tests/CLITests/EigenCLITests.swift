// `rnnode eigen` as a user runs it: the outputs of a good run, and for every kind of bad input a clear message,
// a non-zero exit and nothing written.
import Foundation
import Testing

@Suite struct EigenCLITests {
    /// Runs `rnnode eigen …` in a fresh folder; returns the result and the folder's files afterwards.
    func eigen(_ arguments: [String], files: [String: String] = [:]) throws -> (CommandResult, [String]) {
        let folder = try RNNodeBinary.temporaryFolder()
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let result = try RNNodeBinary.run(["eigen"] + arguments + ["--out", "out"], in: folder)
        let written = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out").path)) ?? []
        return (result, written.sorted())
    }

    @Test func pairingAllPairsWritesCSVErrorsAndPlotScript() throws {
        let (result, files) = try eigen(["pairing", "--method", "yi,power", "--which", "all"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(files.contains("pairing-eigen.csv") && files.contains("errors.csv") && files.contains("pairing-eigen-convergence.gp"))
        #expect(result.stdout.contains("5.5"), "the degenerate pair is printed")
        #expect(result.stdout.contains("rel error"))
    }

    @Test func matrixMarketFileDirectly() throws {
        let (result, files) = try eigen(["m.mtx", "--method", "yi", "--which", "smallest"],
                                        files: ["m.mtx": "%%MatrixMarket matrix coordinate real symmetric\n2 2 3\n1 1 2\n2 1 -1\n2 2 2\n"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(files.contains("m-eigen.csv"))
    }

    @Test(arguments: [
        (["nonexistent-matrix"], "unknown matrix 'nonexistent-matrix'"),
        (["pairing", "--which", "biggest"], "--which"),
        (["pairing", "--which", "0"], "--which"),
        (["pairing", "--method", "arnoldi"], "unknown method 'arnoldi'"),
        (["pairing", "--tol", "-1"], "--tol"),
        (["pairing", "--step", "0"], "--step"),
        (["pairing", "--held-out", "5"], "random-symmetric"),
        (["absent.mtx"], "absent.mtx"),
        (["ns.mtx"], "not symmetric"),
        (["nan.toml"], "finite"),
        (["ragged.toml"], "row 2"),
    ])
    func badInputIsAClearErrorAndWritesNothing(arguments: [String], message: String) throws {
        let (result, files) = try eigen(arguments, files: [
            "ns.mtx": "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 1\n2 1 3\n",
            "nan.toml": "kind = \"dense\"\nrows = [[1, nan], [nan, 1]]\n",
            "ragged.toml": "kind = \"dense\"\nrows = [[1, 2], [2]]\n",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(files.isEmpty, "wrote \(files)")
    }
}
