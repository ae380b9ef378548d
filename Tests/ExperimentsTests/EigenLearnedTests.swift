// The learned iteration (trains in seconds on tiny settings, is cached and reloaded bit for bit) and the outputs:
// the fixed CSV header, errors.csv rows, the plot script, and same seed → same numbers.
import Foundation
import Problems
import Testing
@testable import Experiments

/// A few epochs on a few 6 × 6 matrices: enough to test the plumbing, not the quality (README reports that).
func tinyLearnedOptions() -> LearnedIterationOptions {
    var options = LearnedIterationOptions()
    options.dimension = 6; options.trainingMatrices = 6; options.validationMatrices = 2
    options.unroll = 8; options.hiddenSize = 6; options.epochs = 3; options.rounds = 2; options.candidates = 1
    return options
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-eigen-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct EigenLearnedTests {
    @Test func trainedModelIsCachedAndReloadsToTheSameIterates() throws {
        let directory = try temporaryDirectory()
        let options = tinyLearnedOptions()
        let trained = try LearnedIteration.loadOrTrain(options: options, directory: directory)
        #expect(!trained.loadedFromCache && !trained.history.isEmpty)
        #expect(FileManager.default.fileExists(atPath: LearnedIteration.checkpointURL(in: directory, options: options).path))
        let loaded = try LearnedIteration.loadOrTrain(options: options, directory: directory)
        #expect(loaded.loadedFromCache && loaded.targetScale == trained.targetScale)
        #expect(loaded.network.parameters == trained.network.parameters)

        let matrix = SparseSymmetricMatrix(entries: RandomSymmetricFamily(dimension: 6).member(seed: 77), dimension: 6)
        var settings = IterationSettings(); settings.maximumProducts = 40
        let start = normalised([1, 2, 3, 4, 5, 6])
        let a = trained.run(ScaledOperator(matrix, largest: true), start: start, settings: settings, probe: nil, angleTarget: 1e-3)
        let b = loaded.run(ScaledOperator(matrix, largest: true), start: start, settings: settings, probe: nil, angleTarget: 1e-3)
        #expect(a.vector == b.vector && a.products == b.products)
        #expect(a.products <= 40)
        #expect(a.vector.allSatisfy(\.isFinite) ? abs(norm(a.vector) - 1) < 1e-12 : true)
    }

    @Test func optionsChangeTheCacheFile() {
        var other = tinyLearnedOptions(); other.hiddenSize = 7
        let directory = URL(fileURLWithPath: "/tmp/models")
        #expect(LearnedIteration.checkpointURL(in: directory, options: other) != LearnedIteration.checkpointURL(in: directory, options: tinyLearnedOptions()))
    }

    @Test func heldOutEvaluationCountsEveryMethodOnEveryMatrix() throws {
        var eigen = EigenConfiguration()
        eigen.learned = tinyLearnedOptions()
        eigen.learnedMomentum.trainingMatrices = 3; eigen.learnedMomentum.generations = 1; eigen.learnedMomentum.pairs = 1
        eigen.learnedMomentum.unroll = 20
        var held = HeldOutConfiguration()
        held.count = 4; held.budget = 300; held.angleTargets = [1e-3]
        let rows = try HeldOutEvaluation.run(methods: EigenMethod.allCases, eigen: eigen, heldOut: held, modelDirectory: nil)
        #expect(rows.count == 4 * EigenMethod.allCases.count)
        let summaries = HeldOutEvaluation.summarise(rows)
        #expect(summaries.count == EigenMethod.allCases.count)
        // Power iteration on 6 × 6 random matrices reaches 1e-3 rad within 300 products on every held-out matrix.
        let power = summaries.first { $0.method == .power }!
        #expect(power.failures == 0 && power.medianProducts! > 1)
        for row in rows where row.productsToAngle != nil { #expect(row.productsToAngle! <= held.budget) }
    }
}

@Suite struct EigenOutputTests {
    @Test func csvErrorsPlotAndManifest() throws {
        let directory = try temporaryDirectory()
        let matrix = try catalogMatrix("pairing")
        var c = configuration([.yi, .power], .lowest(2))
        c.seed = 3
        let report = try runEigenExperiment(matrix, configuration: c, modelDirectory: nil)
        let result = try EigenOutput.write(report, to: directory, command: "test")
        let csv = try CSVTable.read(from: directory.appendingPathComponent("pairing-eigen.csv"))
        #expect(csv.header.joined(separator: ",") == "index,method,eigenvalue,gsl_eigenvalue,exact_eigenvalue,abs_error,rel_error,vector_angle,iterations,seconds")
        #expect(csv.rows.map { $0[0] + $0[1] } == ["0yi", "1yi", "0power", "1power"])
        #expect(csv.rows.allSatisfy { $0[4].isEmpty }, "the pairing file has no exact formula")
        let errors = try ErrorLog(directory: directory).read()
        #expect(errors.allSatisfy { $0.experiment == "eigen" && $0.problem == "pairing" && $0.seed == 3 })
        #expect(errors.contains { $0.model == "yi" && $0.metric == "rel_error_k1" && $0.value < 1e-9 })
        #expect(errors.contains { $0.model == "power" && $0.metric == "iterations" })
        let script = try String(contentsOf: directory.appendingPathComponent("pairing-eigen-convergence.gp"), encoding: .utf8)
        #expect(script.contains("'yi k=0'") && script.contains("'power k=1'"))
        #expect(result.files.contains { $0.lastPathComponent == "pairing-eigen.manifest.json" })
        // Appending a second run keeps one header.
        try EigenOutput.write(report, to: directory, command: "test")
        #expect(try ErrorLog(directory: directory).read().count == 2 * errors.count)
    }

    @Test func sameSeedSameNumbers() throws {
        let matrix = try catalogMatrix("random-symmetric")
        let c = configuration([.yi, .yiDiscrete, .power], .extremes)
        let a = EigenOutput.table(try runEigenExperiment(matrix, configuration: c, modelDirectory: nil))
        let b = EigenOutput.table(try runEigenExperiment(matrix, configuration: c, modelDirectory: nil))
        #expect(a.rows.map { $0.dropLast() } == b.rows.map { $0.dropLast() }, "all columns but seconds")
    }
}
