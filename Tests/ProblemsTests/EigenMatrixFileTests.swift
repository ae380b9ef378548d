// Matrix files (problems/eigen): every kind builds the matrix its equations say, every shipped file parses, and
// every kind of bad input (non-symmetric, NaN/inf, wrong size, unreadable, malformed) is an error naming the place.
import Foundation
import Problems
import Testing

private let eigenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("problems/eigen")

private func parse(_ text: String, file: String = "/tmp/test-matrix.toml") throws -> MatrixProblem {
    try MatrixCatalog.parse(text, file: file)
}

/// Writes `text` to a fresh temporary file and returns its URL.
private func temporaryFile(_ name: String, _ text: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-eigen-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// The error thrown by `body`, as a ProblemError (fails the test when none or another type is thrown).
private func problemError(_ body: () throws -> Any) -> ProblemError? {
    do { _ = try body() } catch let error as ProblemError { return error } catch {
        Issue.record("expected a ProblemError, got \(error)"); return nil
    }
    Issue.record("expected an error, none thrown")
    return nil
}

@Suite struct EigenMatrixKindTests {
    @Test func tridiagonalFromNumbersAndExpressions() throws {
        let m = try parse("""
            kind = "tridiagonal"
            n = 5
            diagonal = "2 + i"
            off_diagonal = -1
            exact = "k + n"
            """)
        #expect(m.dimension == 5 && m.kind == .tridiagonal && m.name == "test-matrix")
        for i in 0..<5 {
            #expect(m[i, i] == Double(i + 3))
            if i < 4 { #expect(m[i, i + 1] == -1 && m[i + 1, i] == -1) }
            if i < 3 { #expect(m[i, i + 2] == 0) }
        }
        #expect(m.exactEigenvalue(2) == 7)
    }

    @Test func schrodingerMatrixHasTheFiniteDifferenceEntries() throws {
        let m = try parse("""
            kind = "schrodinger1d"
            n = 9
            interval = [-1.0, 1.0]
            potential = "3*x^2"
            exact = "4*k + 3"
            """)
        let h = 2.0 / 10
        for i in 0..<9 {
            let x = -1 + Double(i + 1) * h
            #expect(abs(m[i, i] - (2 / (h * h) + 3 * x * x)) < 1e-12 * m[i, i])
            if i < 8 { #expect(m[i, i + 1] == -1 / (h * h)) }
        }
        #expect(m.exactEigenvalue(1) == 7)
    }

    @Test func randomSymmetricIsSeededSymmetricAndInRange() throws {
        let text = { (seed: Int, distribution: String) in "kind = \"random-symmetric\"\nn = 7\nseed = \(seed)\ndistribution = \"\(distribution)\"" }
        let a = try parse(text(3, "uniform")), b = try parse(text(3, "uniform")), c = try parse(text(4, "uniform"))
        let normal = try parse(text(3, "normal"))
        #expect(a.entries == b.entries)
        #expect(a.entries != c.entries)
        #expect(a.entries.allSatisfy { (-1...1).contains($0) })
        #expect(normal.entries.contains { abs($0) > 1 }, "49 normal draws should include one beyond ±1")
        for i in 0..<7 { for j in 0..<7 { #expect(a[i, j] == a[j, i]) } }
        #expect(a.family == RandomSymmetricFamily(dimension: 7, distribution: .uniform))
        #expect(a.family!.member(seed: 3) == a.entries)
    }

    @Test func denseRowsWithParameters() throws {
        let m = try parse("""
            kind = "dense"
            parameters = { g = 0.5 }
            rows = [[1, "-g"], ["-g", 2.5]]
            """)
        #expect(m.entries == [1, -0.5, -0.5, 2.5])
    }

    @Test func matrixMarketCoordinateArrayAndGeneral() throws {
        let coordinate = try temporaryFile("c.mtx", """
            %%MatrixMarket matrix coordinate real symmetric
            % a comment
            3 3 4
            1 1 2.0
            2 1 -1
            2 2 2
            3 3 5e-1
            """)
        let a = try MatrixCatalog.load(coordinate.path)
        #expect(a.name == "c" && a.kind == .matrixMarket)
        #expect(a.entries == [2, -1, 0, -1, 2, 0, 0, 0, 0.5])
        let array = try temporaryFile("a.mtx", "%%MatrixMarket matrix array real symmetric\n2 2\n1\n3\n4\n")
        #expect(try MatrixCatalog.load(array.path).entries == [1, 3, 3, 4])
        let general = try temporaryFile("g.mtx", "%%MatrixMarket matrix array real general\n2 2\n1 3\n3 4\n")
        #expect(try MatrixCatalog.load(general.path).entries == [1, 3, 3, 4])
        // Through a toml file, relative to it.
        let toml = coordinate.deletingLastPathComponent().appendingPathComponent("c.toml")
        try "kind = \"matrix-market\"\npath = \"c.mtx\"\nn = 3\n".write(to: toml, atomically: true, encoding: .utf8)
        #expect(try MatrixCatalog.load(toml.path).entries == a.entries)
    }

    @Test(arguments: ["tridiagonal-toeplitz", "radial-oscillator", "oscillator-1d", "pairing", "random-symmetric", "laplacian-2d"])
    func shippedFileParses(name: String) throws {
        let m = try MatrixCatalog.load(eigenFolder.appendingPathComponent(name + ".toml").path)
        #expect(m.name == name)
        #expect(m.entries.count == m.dimension * m.dimension)
        for i in 0..<m.dimension { for j in 0..<i { #expect(m[i, j] == m[j, i]) } }
    }

    @Test func shippedFilesHaveTheDocumentedSizesAndFormulas() throws {
        func load(_ name: String) throws -> MatrixProblem { try MatrixCatalog.load(eigenFolder.appendingPathComponent(name + ".toml").path) }
        let toeplitz = try load("tridiagonal-toeplitz"), radial = try load("radial-oscillator"), pairing = try load("pairing")
        #expect(toeplitz.dimension == 100 && radial.dimension == 400 && pairing.dimension == 6)
        #expect(abs(toeplitz.exactEigenvalue(0)! - (2 - 2 * cos(Double.pi / 101))) < 1e-15)
        #expect(radial.exactEigenvalue(2) == 11)
        #expect(pairing.entries[0] == 1.5 && pairing.entries[5] == 0 && pairing.entries[1] == -0.25 && pairing.entries[35] == 9.5)
        #expect(pairing.exactEigenvalue(0) == nil)
    }
}

@Suite struct EigenMatrixBadInputTests {
    @Test func nonSymmetricDenseNamesTheEntries() {
        let error = problemError { try parse("kind = \"dense\"\nrows = [[1, 2], [2.0000001, 1]]\n") }
        #expect(error?.file == "/tmp/test-matrix.toml")
        #expect(error?.key == "rows" && error?.line == 2)
        #expect(error?.message.contains("not symmetric") == true && error?.message.contains("(1, 2)") == true)
    }

    @Test func asymmetryBelowTheToleranceIsAcceptedAndSymmetrised() throws {
        let m = try parse("kind = \"dense\"\nrows = [[1, 2], [2.000000000000001, 1]]\n")
        #expect(m[0, 1] == m[1, 0])
    }

    @Test func nonSymmetricGeneralMatrixMarket() throws {
        let url = try temporaryFile("ns.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 1.0\n2 1 1.5\n")
        let error = problemError { try MatrixCatalog.load(url.path) }
        #expect(error?.file == url.path && error?.message.contains("not symmetric") == true)
    }

    @Test func nanAndInfiniteEntries() throws {
        let nan = problemError { try parse("kind = \"dense\"\nrows = [[1, nan], [nan, 1]]\n") }
        #expect(nan?.message.contains("finite") == true && nan?.key == "rows")
        let inf = problemError { try parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = inf\noff_diagonal = 1\n") }
        #expect(inf?.key == "diagonal" && inf?.line == 3)
        let overflow = problemError { try parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = \"exp(1000*i)\"\noff_diagonal = 1\n") }
        #expect(overflow?.message.contains("finite") == true)
        let url = try temporaryFile("inf.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n2 2 inf\n")
        let mtx = problemError { try MatrixCatalog.load(url.path) }
        #expect(mtx?.line == 4 && mtx?.message.contains("not finite") == true)
    }

    @Test func wrongSizes() throws {
        let ragged = problemError { try parse("kind = \"dense\"\nrows = [[1, 2], [2]]\n") }
        #expect(ragged?.message.contains("row 2 has 1 entries") == true)
        let mismatch = problemError { try parse("kind = \"dense\"\nn = 3\nrows = [[1, 2], [2, 1]]\n") }
        #expect(mismatch?.message.contains("n = 3") == true)
        let zero = problemError { try parse("kind = \"tridiagonal\"\nn = 0\ndiagonal = 1\noff_diagonal = 1\n") }
        #expect(zero?.key == "n")
        let count = try temporaryFile("count.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 3\n1 1 1\n2 2 1\n")
        #expect(problemError { try MatrixCatalog.load(count.path) }?.message.contains("promises 3 entries") == true)
        let range = try temporaryFile("range.mtx", "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n3 1 1\n")
        #expect(problemError { try MatrixCatalog.load(range.path) }?.line == 3)
        let square = try temporaryFile("rect.mtx", "%%MatrixMarket matrix array real general\n2 3\n1\n2\n3\n4\n5\n6\n")
        #expect(problemError { try MatrixCatalog.load(square.path) }?.message.contains("square") == true)
        let values = try temporaryFile("few.mtx", "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n")
        #expect(problemError { try MatrixCatalog.load(values.path) }?.message.contains("needs 3 values") == true)
        let toml = count.deletingLastPathComponent().appendingPathComponent("n.toml")
        let good = count.deletingLastPathComponent().appendingPathComponent("good.mtx")
        try "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n".write(to: good, atomically: true, encoding: .utf8)
        try "kind = \"matrix-market\"\npath = \"good.mtx\"\nn = 3\n".write(to: toml, atomically: true, encoding: .utf8)
        #expect(problemError { try MatrixCatalog.load(toml.path) }?.key == "n")
    }

    @Test func unreadableFiles() throws {
        let missing = problemError { try MatrixCatalog.load("/nonexistent/matrix.toml") }
        #expect(missing?.file == "/nonexistent/matrix.toml" && missing?.message == "cannot open the file: no such file")
        let mtx = problemError { try MatrixCatalog.load("/nonexistent/matrix.mtx") }
        #expect(mtx?.file == "/nonexistent/matrix.mtx")
        let toml = try temporaryFile("ref.toml", "kind = \"matrix-market\"\npath = \"absent.mtx\"\n")
        let referenced = problemError { try MatrixCatalog.load(toml.path) }
        #expect(referenced?.file?.hasSuffix("absent.mtx") == true)
        let notMatrixMarket = try temporaryFile("x.mtx", "1 2 3\n")
        #expect(problemError { try MatrixCatalog.load(notMatrixMarket.path) }?.line == 1)
        let complex = try temporaryFile("z.mtx", "%%MatrixMarket matrix coordinate complex hermitian\n1 1 1\n1 1 1 0\n")
        #expect(problemError { try MatrixCatalog.load(complex.path) }?.message.contains("complex") == true)
    }

    @Test func malformedFiles() {
        #expect(problemError { try parse("kind = \"dense\"\nrows = [[1, 2]\n") }?.line != nil, "TOML syntax error has a line")
        #expect(problemError { try parse("n = 3\n") }?.message.contains("missing 'kind'") == true)
        let kind = problemError { try parse("kind = \"sparse\"\n") }
        #expect(kind?.key == "kind" && kind?.message.contains("tridiagonal") == true)
        let unknown = problemError { try parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = 1\noff_diagonal = 1\ndiagnoal = 2\n") }
        #expect(unknown?.key == "diagnoal" && unknown?.line == 5)
        let missing = problemError { try parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = 1\n") }
        #expect(missing?.key == "off_diagonal")
        let name = problemError { try parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = \"2 + j\"\noff_diagonal = 1\n") }
        #expect(name?.key == "diagonal" && name?.column != nil)
        let interval = problemError { try parse("kind = \"schrodinger1d\"\nn = 3\ninterval = [1.0, 0.0]\npotential = 0\n") }
        #expect(interval?.key == "interval")
        let seed = problemError { try parse("kind = \"random-symmetric\"\nn = 3\nseed = -1\n") }
        #expect(seed?.key == "seed")
        let distribution = problemError { try parse("kind = \"random-symmetric\"\nn = 3\nseed = 1\ndistribution = \"cauchy\"\n") }
        #expect(distribution?.key == "distribution")
    }

    @Test func unknownCatalogName() {
        setenv("RNNODE_PROBLEMS", eigenFolder.deletingLastPathComponent().path, 1)
        let error = problemError { try MatrixCatalog.load("radial-osc") }
        #expect(error?.message.contains("unknown matrix 'radial-osc'") == true)
        #expect(error?.message.contains("radial-oscillator") == true)
    }
}
