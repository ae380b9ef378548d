// The comparison charts, as gnuplot scripts kept beside their SVGs under DIR/plots/: normalised error E(t)
// of every model per problem, and valid prediction time of every problem × model.
import Foundation

enum ComparisonPlots {
    /// Writes the scripts, renders those it can, and returns the SVGs that exist (paths relative to `directory`).
    static func render(directory: URL, outcomes: [CellOutcome], tables: [ComparisonTable]) -> [(title: String, file: String)] {
        let plotsFolder = directory.appendingPathComponent("plots")
        try? FileManager.default.createDirectory(at: plotsFolder, withIntermediateDirectories: true)
        var scripts: [(title: String, name: String, script: String)] = []

        // E(t) per problem: the first test trajectory of the lowest seed of each model.
        let solved = outcomes.filter { $0.status == .ok && $0.cell.experiment == .solve }
        for problem in orderedUnique(solved.map(\.cell.subject)) {
            var series: [(model: String, file: String, column: Int)] = []
            let models = Set(solved.filter { $0.cell.subject == problem }.map(\.cell.model))
            for model in SummaryMetric.columnOrder("solve").filter(models.contains) + models.subtracting(SummaryMetric.columnOrder("solve")).sorted() {
                guard let cell = solved.filter({ $0.cell.subject == problem && $0.cell.model == model })
                        .min(by: { $0.cell.seed < $1.cell.seed })?.cell else { continue }
                // `<problem>-<model>[-seed<S>]-trajectory.csv`, as `rnnode solve` names it.
                let run = directory.appendingPathComponent("runs/\(cell.key)")
                let files = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
                guard let file = files.sorted().first(where: { $0.hasPrefix("\(problem)-\(model)") && $0.hasSuffix("-trajectory.csv") })
                else { continue }
                let relative = "runs/\(cell.key)/\(file)"
                guard let column = csvColumn(named: "error", in: directory.appendingPathComponent(relative)) else { continue }
                series.append((model, relative, column))
            }
            guard !series.isEmpty else { continue }
            let plot = series.map { "\(Gnuplot.quote("../" + $0.file)) every ::1 using 1:\($0.column) with lines lw 1.5 title \(Gnuplot.quote($0.model)) noenhanced" }
            scripts.append(("\(problem): normalised error E(t)", "\(problem)-error", """
                set datafile separator ","
                set logscale y
                set format y "10^{%L}"
                set xlabel "t"
                set ylabel "E(t)"
                set key outside right
                set grid
                set title \(Gnuplot.quote("\(problem): normalised error E(t) of each model (first test trajectory)")) noenhanced
                plot \(plot.joined(separator: ", \\\n     "))

                """))
        }

        // Convergence of every method per matrix: angle to GSL's eigenvector vs products with A.
        let eigenRuns = outcomes.filter { $0.status == .ok && $0.cell.experiment == .eigen }
        for matrix in orderedUnique(eigenRuns.map(\.cell.subject)) {
            var series: [String] = []
            for method in orderedUnique(eigenRuns.filter { $0.cell.subject == matrix }.map(\.cell.model)) {
                guard let cell = eigenRuns.filter({ $0.cell.subject == matrix && $0.cell.model == method })
                        .min(by: { $0.cell.seed < $1.cell.seed })?.cell else { continue }
                let relative = "runs/\(cell.key)/\(matrix)-eigen-convergence.csv"
                guard let table = try? CSVTable.read(from: directory.appendingPathComponent(relative)),
                      let indexColumn = table.header.firstIndex(of: "index") else { continue }
                // Only integer indices reach the script (the file is data, the script is code).
                for index in orderedUnique(table.rows.map { $0[indexColumn] }).compactMap({ Int($0) }) {
                    series.append("\(Gnuplot.quote("../" + relative)) every ::1 using ($3 + 1):(($2 == \(index)) ? $4 : 1/0) with lines lw 1.5 title \(Gnuplot.quote("\(method) k=\(index)")) noenhanced")
                }
            }
            guard !series.isEmpty else { continue }
            scripts.append(("\(matrix): convergence of each method", "\(matrix)-convergence", """
                set datafile separator ","
                set logscale xy
                set format y "10^{%L}"
                set xlabel "products with A, plus one"
                set ylabel "angle to GSL's eigenvector (rad)"
                set key outside right
                set grid
                set title \(Gnuplot.quote("\(matrix): convergence of each method")) noenhanced
                plot \(series.joined(separator: ", \\\n     "))

                """))
        }

        // VPT of every problem × model (median over seeds), in Lyapunov times where the problem has an exponent.
        let solveTables = tables.filter { $0.experiment == "solve" }
        let models = orderedUnique(solveTables.flatMap(\.models))
        var data = "problem " + models.map(dataToken).joined(separator: " ") + "\n"
        var anyVPT = false
        for table in solveTables {
            let metric = headlineVPTMetrics(solveTables).first { table.values[$0.name] != nil } ?? .vpt
            let values = models.map { model -> String in
                guard let s = table.values[metric.name]?[model] else { return "NaN" }
                anyVPT = true
                return "\(s.median)"
            }
            data += dataToken(table.subject + (metric.unit == SummaryMetric.vptLyapunov.unit ? "(λ)" : "")) + " " + values.joined(separator: " ") + "\n"
        }
        if anyVPT {
            try? AtomicFile.write(data, to: plotsFolder.appendingPathComponent("vpt.dat"))
            let columns = models.indices.map { i in
                i == 0 ? "\"vpt.dat\" using \(i + 2):xtic(1) title columnheader" : "'' using \(i + 2) title columnheader"
            }
            scripts.append(("Valid prediction time", "vpt", """
                set style data histogram
                set style histogram clustered gap 1
                set style fill solid 0.8 border -1
                set xtics rotate by -40
                set logscale y
                set ylabel "VPT (Lyapunov times where marked (λ), else time units)"
                set key outside right
                set grid ytics
                set title "Valid prediction time (median over seeds\(vptThresholdNote(solveTables)))"
                plot \(columns.joined(separator: ", \\\n     "))

                """))
        }

        var rendered: [(title: String, file: String)] = []
        // A subject's name becomes part of a file name: one that is not a plain name gets no plot.
        for (title, name, body) in scripts where (try? OutputName.component(name, what: "plot")) != nil {
            let script = """
                # \(title). Written by `rnnode compare`; edit and rerun `gnuplot \(name).gp` in this folder.
                set terminal svg size 900,480 dynamic enhanced font "sans,11" background "white"
                set output \(Gnuplot.quote(name + ".svg"))
                \(body)
                """
            let svg = plotsFolder.appendingPathComponent("\(name).svg")
            let outcome = try? Gnuplot.render(script: script, scriptURL: plotsFolder.appendingPathComponent("\(name).gp"), svg: svg)
            if case .rendered = outcome { rendered.append((title, "plots/\(name).svg")) }
        }
        return rendered
    }

    /// A label as one whitespace-separated column of a gnuplot data file: blanks, quotes and `#` become `_`.
    static func dataToken(_ text: String) -> String {
        String(text.map { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "#" ? "_" : $0 })
    }

    static func orderedUnique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    /// 1-based index of a column in a CSV file's header.
    static func csvColumn(named name: String, in file: URL) -> Int? {
        guard let table = try? CSVTable.read(from: file) else { return nil }
        return table.header.firstIndex(of: name).map { $0 + 1 }
    }
}
