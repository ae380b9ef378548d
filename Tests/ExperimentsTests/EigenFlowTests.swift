// The Yi–Fu–Tang flow and its discrete form: the norm is conserved (flow) or grows by exactly h²‖ẋ‖² per step
// (discrete); the must-show accuracies against GSL; deflation through degenerate eigenvalues; the O(h²) error.
import Foundation
import Problems
import Reference
import Testing
@testable import Experiments
import Support

let eigenCatalog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("problems/eigen")

func catalogMatrix(_ name: String) throws -> MatrixProblem {
    try MatrixCatalog.load(eigenCatalog.appendingPathComponent(name + ".toml").path)
}

func configuration(_ methods: [EigenMethod], _ selection: EigenSelection, tolerance: Double = 1e-10) -> EigenConfiguration {
    var c = EigenConfiguration()
    c.methods = methods; c.selection = selection; c.tolerance = tolerance
    return c
}

@Suite struct EigenNormTests {
    /// d‖x‖²/dt = 2 xᵀ(‖x‖² M x − (xᵀMx) x) = 0 at any x, for any symmetric M.
    @Test func flowVelocityIsOrthogonalToTheState() {
        let matrix = SparseSymmetricMatrix(entries: RandomSymmetricFamily(dimension: 9).member(seed: 5), dimension: 9)
        let m = ScaledOperator(matrix, largest: true)
        var generator = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let scale = 0.1 + 3 * generator.nextUniform()
            let x = (0..<9).map { _ in scale * generator.nextNormal() }
            let my = m.matrixApply(x)
            var velocity = [Double](repeating: 0, count: 9)
            x.withUnsafeBufferPointer { xp in my.withUnsafeBufferPointer { mp in velocity.withUnsafeMutableBufferPointer {
                yiVelocity(x: xp.baseAddress!, my: mp.baseAddress!, into: $0.baseAddress!, count: 9)
            } } }
            let rate = 2 * zip(x, velocity).reduce(0) { $0 + $1.0 * $1.1 }
            let size = dot(x, x) * norm(velocity) * norm(x)
            #expect(abs(rate) <= 1e-13 * max(size, 1e-300), "d‖x‖²/dt = \(rate)")
        }
    }

    /// Integrated from ‖x(0)‖ = 2, the flow keeps ‖x‖ = 2 and ends on an eigenvector of norm 2 (not 1).
    @Test func flowKeepsTheInitialNorm() throws {
        let entries = RandomSymmetricFamily(dimension: 8).member(seed: 2)
        let m = ScaledOperator(SparseSymmetricMatrix(entries: entries, dimension: 8), largest: true)
        let start = normalised((0..<8).map { Double($0) - 3.5 }).map { 2 * $0 }
        var norms: [Double] = []
        let system = ODESystem(dimension: 8) { _, x, dxdt in
            var my = [Double](repeating: 0, count: 8)
            my.withUnsafeMutableBufferPointer { m.apply(x, into: $0.baseAddress!) }
            my.withUnsafeBufferPointer { yiVelocity(x: x, my: $0.baseAddress!, into: dxdt, count: 8) }
        }
        let solution = Reference.solve(system, initial: start, from: 0, until: 200) { _, x in
            norms.append((0..<8).reduce(0) { $0 + x[$1] * x[$1] }.squareRoot()); return false
        }
        #expect(solution.failure == nil)
        #expect(norms.count > 10)
        #expect(norms.allSatisfy { abs($0 - 2) < 1e-8 }, "worst \(norms.map { abs($0 - 2) }.max()!)")
        let outcome = runYiFlow(m, start: start, settings: YiFlowSettings(), probe: nil, angleTarget: 1e-6)
        #expect(outcome.converged)
        #expect(abs(norm(outcome.vector) - 2) < 1e-8)
        let gsl = try symmetricEigen(entries, dimension: 8)
        let v = gsl.vectors[7]
        #expect(abs(abs(dot(v, outcome.vector)) - 2) < 1e-8)
    }

    /// Discrete form without renormalisation: ‖x_{k+1}‖² = ‖x_k‖² + h²‖ẋ_k‖², since ẋ_k ⟂ x_k.
    @Test func discreteNormGrowsByTheStepSquared() {
        let entries = RandomSymmetricFamily(dimension: 10).member(seed: 4)
        let m = ScaledOperator(SparseSymmetricMatrix(entries: entries, dimension: 10), largest: true)
        var x = normalised((0..<10).map { sin(Double($0) + 1) })
        let h = 0.5
        for _ in 0..<30 {
            let my = m.matrixApply(x)
            var velocity = [Double](repeating: 0, count: 10)
            x.withUnsafeBufferPointer { xp in my.withUnsafeBufferPointer { mp in velocity.withUnsafeMutableBufferPointer {
                yiVelocity(x: xp.baseAddress!, my: mp.baseAddress!, into: $0.baseAddress!, count: 10)
            } } }
            let next = (0..<10).map { x[$0] + h * velocity[$0] }
            let predicted = dot(x, x) + h * h * dot(velocity, velocity)
            #expect(abs(dot(next, next) - predicted) < 1e-14 * predicted)
            x = next
        }
        #expect(norm(x) > 1 && norm(x) < 1.5)
        // The runner reports the same final norm.
        let outcome = runDiscreteYi(m, start: normalised((0..<10).map { sin(Double($0) + 1) }), step: h, settings: IterationSettings(), probe: nil, angleTarget: 1e-6)
        #expect(outcome.converged && norm(outcome.vector) > 1)
    }
}

@Suite struct EigenAccuracyTests {
    /// Must show: largest and smallest within 1e-9 relative of GSL, 100 × 100 tridiagonal Toeplitz.
    @Test func yiFlowOnTridiagonalToeplitz() throws {
        let report = try runEigenExperiment(try catalogMatrix("tridiagonal-toeplitz"), configuration: configuration([.yi], .extremes), modelDirectory: nil)
        #expect(report.rows.map(\.index) == [0, 99])
        for row in report.rows {
            #expect(row.converged)
            #expect(row.relativeError < 1e-9, "k = \(row.index): \(row.relativeError)")
            #expect(row.vectorAngle < 1e-6)
            #expect(abs(row.eigenvalue - row.exactEigenvalue!) < 1e-9 * abs(row.exactEigenvalue!))
        }
    }

    /// Must show: the radial oscillator, n = 400 (Gershgorin half-width ≈ 3270, so the flow runs on A/3270).
    @Test func yiFlowOnRadialOscillator() throws {
        let report = try runEigenExperiment(try catalogMatrix("radial-oscillator"), configuration: configuration([.yi], .extremes), modelDirectory: nil)
        for row in report.rows {
            #expect(row.converged, "\(row.failure ?? "")")
            #expect(row.relativeError < 1e-9, "k = \(row.index): \(row.relativeError)")
        }
        #expect(abs(report.rows[0].eigenvalue - 3) < 0.01)
    }

    /// Must show: all eigenpairs by deflation, the pairing Hamiltonian's degenerate 5.5 pair included: both vectors
    /// lie in GSL's two-dimensional eigenspace and together span it.
    @Test func allPairsOfThePairingHamiltonian() throws {
        let report = try runEigenExperiment(try catalogMatrix("pairing"), configuration: configuration([.yi, .power, .yiDiscrete], .all), modelDirectory: nil)
        #expect(abs(report.gsl.values[2] - 5.5) < 1e-12 && abs(report.gsl.values[3] - 5.5) < 1e-12)
        for method in [EigenMethod.yi, .power, .yiDiscrete] {
            let rows = report.rows.filter { $0.method == method }
            #expect(rows.map(\.index) == Array(0..<6))
            for row in rows {
                #expect(row.relativeError < 1e-9, "\(method) k = \(row.index): \(row.relativeError)")
                #expect(row.vectorAngle < 1e-6, "\(method) k = \(row.index): angle \(row.vectorAngle)")
            }
            // The two found vectors of the pair: projections onto GSL's eigenspace form an orthogonal 2×2 matrix.
            let space = [report.gsl.vectors[2], report.gsl.vectors[3]]
            let found = [rows[2].vector, rows[3].vector]
            let gram = found.map { f in space.map { dot($0, f) } }
            let determinant = gram[0][0] * gram[1][1] - gram[0][1] * gram[1][0]
            #expect(abs(abs(determinant) - 1) < 1e-9, "\(method): the pair does not span the eigenspace (det \(determinant))")
            #expect(abs(dot(found[0], found[1])) < 1e-12)
        }
    }

    /// All 16 pairs of the 2-D Laplacian (degenerate pairs and a four-fold λ = 4) and of a random 20 × 20 matrix.
    @Test func allPairsWithManyDegeneracies() throws {
        let laplacian = try catalogMatrix("laplacian-2d")
        var random = RandomSymmetricFamily(dimension: 20).problem(seed: 9)
        random.name = "random-20"
        for matrix in [laplacian, random] {
            let report = try runEigenExperiment(matrix, configuration: configuration([.yi], .all), modelDirectory: nil)
            #expect(report.rows.count == matrix.dimension)
            for row in report.rows {
                #expect(row.relativeError < 1e-9, "\(matrix.name) k = \(row.index): \(row.relativeError)")
                #expect(row.vectorAngle < 1e-6, "\(matrix.name) k = \(row.index): \(row.vectorAngle)")
            }
        }
    }

    /// The radial oscillator's lowest three eigenvalues approach 3, 7, 11 with O(h²) error: halving h divides it by 4.
    @Test func radialOscillatorErrorIsSecondOrder() throws {
        func lowest(_ n: Int) throws -> [Double] {
            let matrix = try MatrixCatalog.parse("""
                kind = "schrodinger1d"
                n = \(n)
                interval = [0.0, 10.0]
                potential = "x^2"
                exact = "4*k + 3"
                """, file: "radial-\(n).toml")
            let report = try runEigenExperiment(matrix, configuration: configuration([.yi], .lowest(3)), modelDirectory: nil)
            #expect(report.rows.allSatisfy { $0.converged && $0.relativeError < 1e-9 })
            return report.rows.map { $0.eigenvalue - $0.exactEigenvalue! }
        }
        let coarse = try lowest(99), fine = try lowest(199)   // h = 0.1, 0.05
        for k in 0..<3 {
            #expect(coarse[k] < 0 && fine[k] < 0, "the central difference underestimates: \(coarse[k]), \(fine[k])")
            let ratio = coarse[k] / fine[k]
            #expect(abs(ratio - 4) < 0.05, "k = \(k): error ratio \(ratio)")
        }
    }

    /// Power iteration and discrete Yi agree with GSL too, and count their products.
    @Test func baselinesOnTridiagonal() throws {
        let matrix = try MatrixCatalog.parse("kind = \"tridiagonal\"\nn = 20\ndiagonal = \"2 + 0.1*i\"\noff_diagonal = -1\n", file: "t20.toml")
        let report = try runEigenExperiment(matrix, configuration: configuration([.power, .yiDiscrete], .extremes), modelDirectory: nil)
        for row in report.rows {
            #expect(row.converged && row.relativeError < 1e-9)
            #expect(row.iterations == row.steps + 1, "one product per iteration plus the final test")
            #expect(row.productsToAngle != nil && row.productsToAngle! < row.iterations)
        }
    }
}
