// `rnnode eigen`: eigenpairs of a symmetric matrix by the Yi–Fu–Tang flow, its discrete form, power iteration and a
// learned LSTM iteration, each checked against GSL; CSV, errors.csv, a table and a convergence plot.
import ArgumentParser
import Experiments
import Foundation
import Problems

struct EigenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eigen",
        abstract: "Eigenpairs by recurrent dynamics (Yi flow, discrete Yi, power, learned LSTM), checked against GSL.",
        discussion: """
            MATRIX is a name under problems/eigen (see problems/README.md), a .toml matrix file or a .mtx file.
            Writes DIR/<matrix>-eigen.csv, appends to DIR/errors.csv, writes DIR/<matrix>-eigen-convergence.{csv,gp,svg}
            and a manifest; the learned model is cached under DIR/models/.
            """)

    @Argument(help: "Matrix: a catalog name, a .toml matrix file, a .mtx file, or laplacian2d-GxG (generated, sparse).")
    var matrix: String

    @Option(help: "yi | yi-discrete | power | momentum-oracle | lanczos | learned | lstm | all, or a comma-separated list.")
    var method = "all"

    @Option(help: "largest | smallest | extremes | all | K (the K lowest).")
    var which = "extremes"

    @Option(help: "Stop when ‖Mx − ρx‖/‖x‖ (the flow: ‖dx/dt‖/‖x‖) < T, with M = A scaled to [−1, 1].")
    var tol = 1e-10

    @Option(help: "Seed of the start vectors and of the learned model.")
    var seed: UInt64 = 0

    @Option(help: "Output directory.")
    var out = "results"

    @Option(help: "Step h of the discrete Yi iteration (scaled time).")
    var step = 0.5

    @Option(help: "Angle (radians) at which the products to converge are counted.")
    var angle = 1e-6

    @Option(help: "Product budget per eigenpair of yi-discrete and power.")
    var maxProducts = 2_000_000

    @Option(help: "Product budget per eigenpair of the learned iteration.")
    var lstmBudget = 2000

    @Option(help: "Also compare the methods on N held-out matrices of the learned model's family (largest eigenvalue).")
    var heldOut = 0

    @Option(help: "Product budget per held-out matrix.")
    var heldOutBudget = 1000

    @Option(help: "Learned iteration: training matrices of the family.")
    var lstmMatrices: Int?

    @Option(help: "Learned iteration: epochs per data round.")
    var lstmEpochs: Int?

    @Option(help: "Learned iteration: LSTM hidden size.")
    var lstmHidden: Int?

    @Option(help: "Learned iteration: data rounds (1: teacher trajectories only; more: add its own closed-loop trajectories).")
    var lstmRounds: Int?

    @Option(help: "Learned iteration: networks trained from different initial weights (the best in closed loop is kept).")
    var lstmCandidates: Int?

    @Flag(help: "Small settings for the comparison grid: a smaller, shorter-trained learned model and smaller budgets.")
    var quick = false

    /// The methods of `--method`, in order, each once; an empty or blank item (`--method ,`) is an error.
    func methods() throws -> [EigenMethod] {
        if method.trimmingCharacters(in: .whitespaces) == "all" { return EigenMethod.allCases }
        var seen = Set<EigenMethod>()
        return try OptionLimits.listItems("--method", method).compactMap { name in
            guard let m = EigenMethod(rawValue: name) else {
                throw ValidationError("unknown method '\(name)'; use \(EigenMethod.allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            return seen.insert(m).inserted ? m : nil
        }
    }

    func loadMatrix() throws -> MatrixProblem {
        do { return try MatrixCatalog.load(matrix) } catch let error as ProblemError {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        try OptionLimits.checkPath("--out", out)
        _ = try methods()
        guard EigenSelection(argument: which) != nil else {
            throw ValidationError("--which must be largest, smallest, extremes, all or a count K ≥ 1 (got '\(which)')")
        }
        guard tol.isFinite, tol > 0 else { throw ValidationError("--tol must be a positive number (got \(tol))") }
        guard step.isFinite, step > 0 else { throw ValidationError("--step must be a positive number (got \(step))") }
        guard angle.isFinite, angle > 0 else { throw ValidationError("--angle must be a positive number (got \(angle))") }
        try OptionLimits.check("--max-products", maxProducts, OptionLimits.products)
        try OptionLimits.check("--lstm-budget", lstmBudget, OptionLimits.products)
        try OptionLimits.check("--held-out", heldOut, OptionLimits.heldOut)
        try OptionLimits.check("--held-out-budget", heldOutBudget, OptionLimits.products)
        try OptionLimits.check("--lstm-matrices", lstmMatrices, OptionLimits.learnedMatrices)
        try OptionLimits.check("--lstm-epochs", lstmEpochs, OptionLimits.epochs)
        try OptionLimits.check("--lstm-hidden", lstmHidden, OptionLimits.hidden)
        try OptionLimits.check("--lstm-rounds", lstmRounds, OptionLimits.learnedRounds)
        try OptionLimits.check("--lstm-candidates", lstmCandidates, OptionLimits.learnedCandidates)
        if GeneratedMatrix(name: matrix) != nil {
            guard heldOut == 0 else { throw ValidationError("--held-out needs a random-symmetric matrix file; '\(matrix)' is generated") }
            return
        }
        let problem = try loadMatrix()
        if case .lowest(let k) = EigenSelection(argument: which)!, k > problem.dimension {
            throw ValidationError("--which \(k) asks for more eigenpairs than \(problem.name) has (n = \(problem.dimension))")
        }
        if heldOut > 0 && problem.family == nil {
            throw ValidationError("--held-out needs a random-symmetric matrix file (its family is the learned model's); '\(problem.name)' is \(problem.kind.rawValue)")
        }
        if try methods().contains(.lstm) {
            let n = Double(problem.dimension), h = Double(lstmHidden ?? EigenConfiguration().learned.hiddenSize)
            var estimate = OptionLimits.Estimate()
            estimate.add("the learned model's training matrices (--lstm-matrices × n²)",
                         Double(lstmMatrices ?? EigenConfiguration().learned.trainingMatrices), n, n, 8, 2)
            estimate.add("the learned model's parameters (--lstm-hidden²)", 4, h, 2 * h + 16, 8, 4)
            try estimate.check()
        }
    }

    func run() throws {
        let problem = GeneratedMatrix(name: matrix) == nil ? try loadMatrix() : nil
        var configuration = EigenConfiguration()
        configuration.methods = try methods()
        configuration.selection = EigenSelection(argument: which)!
        configuration.tolerance = tol
        configuration.seed = seed
        configuration.step = step
        configuration.angleTarget = angle
        configuration.maximumProducts = maxProducts
        configuration.learnedBudget = lstmBudget
        configuration.learned.seed = seed
        if quick {
            configuration.learned.trainingMatrices = 16
            configuration.learned.validationMatrices = 4
            configuration.learned.epochs = 8
            configuration.learned.unroll = 16
            configuration.learned.candidates = 2
            configuration.learnedBudget = min(lstmBudget, 500)
            configuration.maximumProducts = min(maxProducts, 200_000)
        }
        if let lstmMatrices { configuration.learned.trainingMatrices = lstmMatrices }
        if let lstmEpochs { configuration.learned.epochs = lstmEpochs }
        if let lstmHidden { configuration.learned.hiddenSize = lstmHidden }
        if let lstmRounds { configuration.learned.rounds = lstmRounds }
        if let lstmCandidates { configuration.learned.candidates = lstmCandidates }
        if let problem { configuration = configuration.adapted(to: problem) }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        let models = directory.appendingPathComponent("models", isDirectory: true)
        let command = (["rnnode"] + CommandLine.arguments.dropFirst()).joined(separator: " ")

        let (report, files, plot) = try runEigenPipeline(matrix: matrix, configuration: configuration,
                                                         outputDirectory: directory, command: command)
        try Console.print("\(report.matrixTitle): n = \(report.dimension), Gershgorin interval [\(report.gershgorin.lowerBound), \(report.gershgorin.upperBound)]")
        if let seconds = report.learnedTrainingSeconds {
            try Console.print(report.learnedFromCache == true ? "learned iteration: cached model \(report.learnedCheckpoint?.path ?? "")"
                  : String(format: "learned iteration: trained in %.1f s (closed-loop validation score %.1f products), cached at %@",
                           seconds, report.learnedValidationScore ?? .nan, report.learnedCheckpoint?.path ?? "-"))
        }
        if let seconds = report.momentumTrainingSeconds {
            try Console.print(report.momentumFromCache == true ? "learned: cached model (training loss \(report.momentumTrainingLoss.map { String(format: "%.2f", $0) } ?? "-"))"
                  : String(format: "learned: trained in %.1f s (mean log10 residual after the unroll %.2f)", seconds, report.momentumTrainingLoss ?? .nan))
        }
        try Console.print(EigenOutput.summary(report).text, terminator: "")
        for row in report.rows where row.failure != nil { try Console.print("note: \(row.method.rawValue) k=\(row.index): \(row.failure!)") }
        if case .skipped(let reason) = plot { try Console.print("plot: \(reason)") }
        try Console.print("wrote \(files.map(\.path).joined(separator: ", "))")

        if heldOut > 0, let problem {
            var held = HeldOutConfiguration()
            held.count = heldOut
            held.budget = heldOutBudget
            held.angleTargets = Array(Set([1e-3, angle])).sorted(by: >)
            let rows = try HeldOutEvaluation.run(methods: configuration.methods, eigen: configuration, heldOut: held, modelDirectory: models)
            let summaries = HeldOutEvaluation.summarise(rows)
            let url = directory.appendingPathComponent("\(problem.name)-heldout.csv")
            try HeldOutEvaluation.table(rows).write(to: url)
            try ErrorLog(directory: directory).append(HeldOutEvaluation.errorRows(summaries, problem: problem.name, seed: seed))
            try Console.print("\nheld-out: \(heldOut) matrices of the family, largest eigenvalue, budget \(heldOutBudget) products")
            try Console.print(HeldOutEvaluation.summaryTable(summaries, budget: heldOutBudget).text, terminator: "")
            try Console.print("wrote \(url.path)")
        }
    }
}
