// What an eigen run leaves on disk: DIR/<matrix>-eigen.csv (fixed header), rows appended to DIR/errors.csv,
// the convergence data and its gnuplot script/SVG, and a manifest. Every file is written atomically.
import Foundation

public enum EigenOutput {
    public static let header = ["index", "method", "eigenvalue", "gsl_eigenvalue", "exact_eigenvalue", "abs_error",
                                "rel_error", "vector_angle", "iterations", "seconds"]
    public static let experiment = "eigen"

    public static func csvURL(_ directory: URL, matrix: String) -> URL { directory.appendingPathComponent("\(matrix)-eigen.csv") }

    /// The rows of `<matrix>-eigen.csv`.
    public static func table(_ report: EigenReport) -> CSVTable {
        var table = CSVTable(header: header)
        for row in report.rows {
            table.append([String(row.index), row.method.rawValue, CSV.format(row.eigenvalue), CSV.format(row.gslEigenvalue),
                          row.exactEigenvalue.map(CSV.format) ?? "", CSV.format(row.absoluteError), CSV.format(row.relativeError),
                          CSV.format(row.vectorAngle), String(row.iterations), CSV.format(row.seconds)])
        }
        return table
    }

    /// Long-format rows for errors.csv: per eigenpair `<metric>_k<index>`; per method `rel_error`, `abs_error`,
    /// `vector_angle` (worst over the pairs), `iterations`, `seconds` (totals) and `failure_rate`.
    public static func errorRows(_ report: EigenReport) -> [ErrorRow] {
        let seed = report.configuration.seed
        var rows: [ErrorRow] = []
        // Names and units from the metric catalog (SummaryMetric), per pair with the suffix `_k<index>`.
        func add(_ model: String, _ metric: SummaryMetric, _ value: Double, suffix: String = "") {
            rows.append(ErrorRow(experiment: experiment, problem: report.matrixName, model: model, seed: seed,
                                 metric: metric.name + suffix, value: value, unit: metric.unit))
        }
        for row in report.rows {
            let model = row.method.rawValue, k = "_k\(row.index)"
            add(model, .eigenvalue, row.eigenvalue, suffix: k)
            add(model, .absoluteError, row.absoluteError, suffix: k)
            add(model, .relativeError, row.relativeError, suffix: k)
            add(model, .vectorAngle, row.vectorAngle, suffix: k)
            add(model, .iterations, Double(row.iterations), suffix: k)
            add(model, .eigenSeconds, row.seconds, suffix: k)
            add(model, .converged, row.converged ? 1 : 0, suffix: k)
            add(model, .productsToAngle, row.productsToAngle.map(Double.init) ?? .infinity, suffix: k)
            if let time = row.flowTime {
                add(model, .flowTime, time, suffix: k)
                add(model, .flowSteps, Double(row.steps), suffix: k)
            }
            if row.method == .yiDiscrete { add(model, .finalNorm, row.finalNorm, suffix: k) }
        }
        for method in report.configuration.methods {
            let mine = report.rows.filter { $0.method == method }
            guard !mine.isEmpty else { continue }
            let model = method.rawValue
            // Un-suffixed: over the pairs of this run, the worst error and angle, the total products, the share not converged.
            add(model, .relativeError, mine.map(\.relativeError).max()!)
            add(model, .absoluteError, mine.map(\.absoluteError).max()!)
            add(model, .vectorAngle, mine.map(\.vectorAngle).max()!)
            add(model, .iterations, Double(mine.map(\.iterations).reduce(0, +)))
            add(model, .eigenSeconds, mine.map(\.seconds).reduce(0, +))
            add(model, .failureRate, Double(mine.filter { !$0.converged }.count) / Double(mine.count))
            if method == .lstm, let seconds = report.learnedTrainingSeconds { add(model, .trainingSeconds, seconds) }
        }
        add("gsl", .eigenSeconds, report.gslSeconds)
        return rows
    }

    /// The terminal table.
    public static func summary(_ report: EigenReport) -> SummaryTable {
        var table = SummaryTable(header: ["k", "method", "eigenvalue", report.referenceName, "exact", "rel error", "angle", "matvecs", "to angle", "seconds", "conv"])
        for row in report.rows {
            table.append([String(row.index), row.method.rawValue, String(format: "%.12g", row.eigenvalue),
                          String(format: "%.12g", row.gslEigenvalue), row.exactEigenvalue.map { String(format: "%.6g", $0) } ?? "",
                          SummaryTable.format(row.relativeError, significantDigits: 2), SummaryTable.format(row.vectorAngle, significantDigits: 2),
                          String(row.iterations), row.productsToAngle.map(String.init) ?? "-", SummaryTable.format(row.seconds, significantDigits: 3), row.converged ? "yes" : "no"])
        }
        return table
    }

    /// The histories plotted: all of them when few, else the first eigenpair of each search direction.
    static func plottedHistories(_ report: EigenReport) -> [ConvergenceHistory] {
        if report.histories.count <= 12 { return report.histories }
        let firsts = Set(report.configuration.selection.chains(dimension: report.dimension).compactMap(\.indices.first))
        return report.histories.filter { firsts.contains($0.index) }
    }

    /// Writes every output of `report` into `directory`; returns the files written (errors.csv appended).
    @discardableResult
    public static func write(_ report: EigenReport, to directory: URL, command: String) throws -> (files: [URL], plot: Gnuplot.Outcome) {
        let name = try OutputName.component(report.matrixName, what: "matrix name")
        let csv = csvURL(directory, matrix: name)
        try table(report).write(to: csv)
        try ErrorLog(directory: directory).append(errorRows(report))

        var convergence = CSVTable(header: ["method", "index", "iterations", "angle"])
        let plotted = plottedHistories(report)
        for history in plotted {
            for point in history.points {
                convergence.append([history.method.rawValue, String(history.index), String(point.products), CSV.format(max(point.angle, 1e-17))])
            }
        }
        let data = directory.appendingPathComponent("\(name)-eigen-convergence.csv")
        try convergence.write(to: data)
        let svg = directory.appendingPathComponent("\(name)-eigen-convergence.svg")
        var script = Gnuplot.preamble(svgName: svg.lastPathComponent, title: "\(report.matrixTitle): convergence toward GSL's eigenvectors")
        script += """
            set logscale y
            set logscale x
            set xlabel 'products with A, plus one (log scale)'
            set yrange [:2]
            set ylabel 'angle to GSL eigenspace (rad)'
            set format y '10^{%T}'

            """
        let series = plotted.map { history in
            "\(Gnuplot.quote(data.lastPathComponent)) every ::1 using ($3 + 1):((strcol(1) eq \(Gnuplot.quote(history.method.rawValue)) && $2 == \(history.index)) ? $4 : 1/0) with lines lw 2 title \(Gnuplot.quote("\(history.method.rawValue) k=\(history.index)")) noenhanced"
        }
        script += series.isEmpty ? "" : "plot " + series.joined(separator: ", \\\n     ") + "\n"
        let scriptURL = directory.appendingPathComponent("\(name)-eigen-convergence.gp")
        let plot = series.isEmpty ? Gnuplot.Outcome.skipped("no convergence history") : try Gnuplot.render(script: script, scriptURL: scriptURL, svg: svg)

        let configuration = report.configuration
        let manifestURL = directory.appendingPathComponent("\(name)-eigen.manifest.json")
        var files = [csv, directory.appendingPathComponent(ErrorLog.fileName), data, scriptURL]
        if case .rendered(let url) = plot { files.append(url) }
        let settings: [String: String] = [
            "matrix": name, "dimension": String(report.dimension),
            "methods": configuration.methods.map(\.rawValue).joined(separator: ","),
            "which": configuration.selection.description, "tol": CSV.format(configuration.tolerance),
            "step": CSV.format(configuration.step), "angle": CSV.format(configuration.angleTarget),
            "max_products": String(configuration.maximumProducts), "lstm_budget": String(configuration.learnedBudget),
            "stepper": configuration.flow.stepper.rawValue, "integrator_tolerance": CSV.format(configuration.flow.integratorTolerance),
            "gershgorin": "[\(report.gershgorin.lowerBound), \(report.gershgorin.upperBound)]",
            "lstm_options": configuration.learned.fingerprint,
            "reference": report.referenceName,
            "learned_options": configuration.learnedMomentum.fingerprint,
            "learned_training_family": configuration.learnedMomentum.familyDescription,
        ]
        let manifest = Manifest.collect(command: command, configuration: settings, seed: configuration.seed,
                                        outputs: (files + [manifestURL]).map(\.lastPathComponent))
        try manifest.write(to: manifestURL)
        return (files + [manifestURL], plot)
    }
}
