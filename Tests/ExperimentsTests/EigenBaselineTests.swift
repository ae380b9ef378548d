// The baselines and the learned momentum iteration: (β, γ) = (0, 0) is power iteration bit for bit; deflation
// survives a failed pair; the sparse operator equals the dense one; the generated Laplacian and its exact spectrum.
import Foundation
import Problems
import Reference
import Testing
@testable import Experiments
import Support

@Suite struct EigenBaselineTests {
    /// The learned update with its outputs fixed to (β, γ) = (0, 0) (no safeguard) is power iteration on M + I:
    /// the same iterates, products and history, compared with ==.
    @Test func zeroCoefficientsArePowerIteration() {
        let matrix = SparseSymmetricMatrix(entries: RandomSymmetricFamily(dimension: 10).member(seed: 3), dimension: 10)
        let start = startVector(dimension: 10, seed: 4, largest: true, index: 9)
        var settings = IterationSettings()
        settings.maximumProducts = 300
        let power = runPowerIteration(ScaledOperator(matrix, largest: true), start: start, settings: settings, probe: nil, angleTarget: 0)
        let learned = runMomentumPolicy(ScaledOperator(matrix, largest: true), start: start, settings: settings, probe: nil,
                                        angleTarget: 0, safeguard: false) { _ in (0, 0) }
        #expect(learned.outcome.vector == power.vector)
        #expect(learned.outcome.products == power.products && learned.outcome.steps == power.steps)
        #expect(learned.outcome.converged == power.converged)
        // t = −1 (the estimate before any Ritz value) maps to exactly (0, 0).
        let (beta, gamma) = momentumCoefficients(secondEigenvalue: -1)
        #expect(beta == 0 && gamma == 0)
    }

    /// A pair forced to fail (a 3-product budget for k = 1) is reported as not converged, and every later pair
    /// still matches GSL (angle ≤ 1e-6, eigenvalue within 1e-9 relative).
    @Test func deflationSurvivesAFailedPair() throws {
        let n = 8
        let matrix = RandomSymmetricFamily(dimension: n).problem(seed: 21)
        var c = configuration([.power, .momentumOracle], .all)
        c.budgetOverrides = [1: 3]
        let report = try runEigenExperiment(matrix, configuration: c, modelDirectory: nil)
        for method in [EigenMethod.power, .momentumOracle] {
            let rows = report.rows.filter { $0.method == method }
            #expect(rows.count == n)
            let failed = rows.first { $0.index == 1 }!
            #expect(!failed.converged && failed.failure?.contains("deflated with a Lanczos vector") == true)
            for row in rows where row.index != 1 {
                #expect(row.converged, "\(method) k=\(row.index)")
                #expect(row.vectorAngle <= 1e-6, "\(method) k=\(row.index) angle \(row.vectorAngle)")
                #expect(row.relativeError <= 1e-9, "\(method) k=\(row.index) error \(row.relativeError)")
            }
        }
    }

    /// CSR y = A x against the dense row sums: the stored products are summed in the same order and the dropped
    /// terms are exact zeros (0·x adds +0), so the results are equal, not close.
    @Test func sparseOperatorEqualsDense() throws {
        var generator = SplitMix64(seed: 9)
        for name in ["tridiagonal-toeplitz", "oscillator-1d", "radial-oscillator", "laplacian-2d", "pairing"] {
            let problem = try catalogMatrix(name)
            let n = problem.dimension
            let sparse = SparseSymmetricMatrix(problem)
            #expect(sparse.storedEntries == problem.entries.filter { $0 != 0 }.count)
            let x = (0..<n).map { _ in generator.nextNormal() }
            let y = sparse.multiply(x)
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<n { sum += problem.entries[i * n + j] * x[j] }
                #expect(y[i] == sum, "\(name) row \(i)")
            }
        }
        // The generated 4 × 4 grid Laplacian is the catalog's Matrix Market one, entry for entry.
        #expect(gridLaplacian(4).dense() == (try catalogMatrix("laplacian-2d")).entries)
    }

    /// The exact spectrum of the generated Laplacian agrees with GSL on a 7 × 7 grid (|Δλ| ≤ 8·n·ε·‖A‖, a backward-
    /// stable solver's bound), and each exact vector has a residual ‖Av − λv‖ at rounding level (5 terms per row).
    @Test func generatedLaplacianSpectrum() throws {
        let generated = GeneratedMatrix(name: "laplacian2d-7x7")!
        let a = generated.matrix()
        let gsl = try symmetricEigen(a.dense(), dimension: 49)
        let spectrum = generated.spectrum()
        let bound = 8 * 49 * Double.ulpOfOne * 8
        for (k, entry) in spectrum.enumerated() {
            #expect(abs(entry.value - gsl.values[k]) <= bound, "k=\(k)")
            let v = generated.eigenvector(p: entry.p, q: entry.q)
            let av = a.multiply(v)
            let residual = norm(zip(av, v).map { $0 - entry.value * $1 })
            #expect(residual <= 20 * Double.ulpOfOne * 8, "k=\(k) residual \(residual)")
        }
        #expect(GeneratedMatrix(name: "laplacian2d-100x100")?.dimension == 10_000)
        for bad in ["laplacian2d-3x4", "laplacian2d-1x1", "laplacian2d-x", "laplacian2d-5", "tridiagonal"] { #expect(GeneratedMatrix(name: bad) == nil) }
    }

    /// Lanczos and the oracle momentum iteration reach the GSL eigenpairs; Lanczos needs at most n + 1 products on a
    /// well-separated matrix, the momentum iteration fewer products than power iteration on tridiag(−1, 2, −1).
    @Test func baselinesAgreeWithGSL() throws {
        let report = try runEigenExperiment(try catalogMatrix("tridiagonal-toeplitz"),
                                            configuration: configuration([.power, .momentumOracle, .lanczos], .extremes), modelDirectory: nil)
        for row in report.rows {
            #expect(row.converged && row.vectorAngle <= 1e-6 && row.relativeError <= 1e-9, "\(row.method) k=\(row.index)")
        }
        for index in [0, 99] {
            let products = { (m: EigenMethod) in report.rows.first { $0.method == m && $0.index == index }!.iterations }
            #expect(products(.momentumOracle) < products(.power))
            #expect(products(.lanczos) <= 101 + 1)
        }
    }

    /// The bisection/inverse-iteration pair of a tridiagonal matrix equals GSL's largest eigenpair.
    @Test func tridiagonalLargestEigenpair() throws {
        var generator = SplitMix64(seed: 5)
        let m = 12
        let a = (0..<m).map { _ in generator.nextNormal() }, b = (0..<(m - 1)).map { _ in 0.1 + generator.nextUniform() }
        var dense = [Double](repeating: 0, count: m * m)
        for i in 0..<m { dense[i * m + i] = a[i]; if i + 1 < m { dense[i * m + i + 1] = b[i]; dense[(i + 1) * m + i] = b[i] } }
        let gsl = try symmetricEigen(dense, dimension: m)
        let (value, vector) = largestTridiagonalEigenpair(diagonal: a, offDiagonal: b)
        let scale = a.map(abs).max()! + 2
        #expect(abs(value - gsl.values[m - 1]) <= 4 * Double(m) * Double.ulpOfOne * scale)
        #expect(abs(abs(dot(vector, gsl.vectors[m - 1])) - 1) <= 1e-12)
    }

    /// Training is seeded (same options → same parameters) and the cache round-trips.
    @Test func learnedMomentumIsSeededAndCached() throws {
        var options = LearnedMomentumOptions()
        options.trainingMatrices = 3; options.generations = 2; options.pairs = 2; options.unroll = 30
        let a = LearnedMomentum.train(options: options), b = LearnedMomentum.train(options: options)
        #expect(a.network == b.network)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eigen-learned-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trained = try LearnedMomentum.loadOrTrain(options: options, directory: directory)
        let loaded = try LearnedMomentum.loadOrTrain(options: options, directory: directory)
        #expect(loaded.loadedFromCache && !trained.loadedFromCache)
        #expect(loaded.network == trained.network && trained.network == a.network)
    }
}
