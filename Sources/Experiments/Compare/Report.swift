// The comparison report: summary.csv (long format), summary.md (one table per problem or matrix) and
// index.html (the overview, the tables and every plot inlined: one self-contained page).
import Foundation

public enum SummaryReport {
    public static let csvHeader = "experiment,subject,metric,unit,model,median,q25,q75,seeds,best"

    /// One line per (table, metric, model): median and IQR over seeds, `best` = 1 on the best model of the row.
    public static func csv(_ tables: [ComparisonTable]) -> String {
        var lines = [csvHeader]
        for table in tables {
            for metric in table.metrics {
                let best = table.best(metric)
                for model in table.models {
                    guard let s = table.values[metric.name]?[model] else { continue }
                    let fields: [String] = [
                        table.experiment, table.subject, metric.name, table.units[metric.name] ?? "", model,
                        CSV.format(s.median), CSV.format(s.q25), CSV.format(s.q75), String(s.count), best.contains(model) ? "1" : "0",
                    ]
                    lines.append(CSV.line(fields).trimmingCharacters(in: .newlines))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Markdown: a heading and a table per problem or matrix; cells are `median [q25, q75]`, the best in bold.
    public static func markdown(_ tables: [ComparisonTable], failures: [CellOutcome] = [], title: String = "Summary") -> String {
        var out = "# \(title)\n\n"
        out += "Median over seeds, with the interquartile range in brackets when there is more than one seed; "
        out += "the best value of each row is in bold. `inf` is the error of rollouts that diverged (non-finite, or "
        out += "beyond 10× the range of the training data and its reference) before the horizon; a model that diverged on at least half of the test "
        out += "trajectories is never marked best, and its speed-up is `–`. `≥ x`: still valid at the end of the "
        out += "evaluation window (a lower bound); `†`: computed over the steps before divergence only; `–`: no value.\n"
        out += overview(tables)
        out += Standings.markdown(tables)
        for experiment in ["solve", "eigen"] {
            let selected = tables.filter { $0.experiment == experiment }
            guard !selected.isEmpty else { continue }
            out += experiment == "solve" ? "\n## Learned steppers\n" : "\n## Eigenproblems\n"
            for table in selected {
                out += "\n### \(table.subject)\n\n"
                out += "| metric | " + table.models.joined(separator: " | ") + " |\n"
                out += "|---|" + String(repeating: "---|", count: table.models.count) + "\n"
                for metric in table.metrics {
                    let best = table.best(metric)
                    let unit = table.units[metric.name].map { $0.isEmpty ? "" : " (\($0))" } ?? ""
                    let cells = table.models.map { model -> String in
                        let text = table.cellText(metric, model)
                        return best.contains(model) ? "**\(text)**" : text
                    }
                    out += "| \(metric.name)\(unit) | " + cells.joined(separator: " | ") + " |\n"
                }
            }
        }
        let failed = failures.filter { $0.status == .failed }
        if !failed.isEmpty {
            out += "\n## Failed cells\n\n| cell | message |\n|---|---|\n"
            for outcome in failed {
                out += "| \(outcome.cell.key) | \(outcome.message.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")) |\n"
            }
        }
        return out
    }

    /// One self-contained page: the overview (key metrics of every subject × model, coloured, best and diverged
    /// marked), then each subject's table with its plots beside it, the metric definitions and links to the raw
    /// CSV. Plots are inlined as SVG when `directory` holds them (the page then works when mailed alone), else
    /// linked by their relative path.
    public static func html(_ tables: [ComparisonTable], plots: [(title: String, file: String)], failures: [CellOutcome] = [],
                            title: String = "rnnode comparison", directory: URL? = nil) -> String {
        var inlineCount = 0
        func figure(_ plot: (title: String, file: String)) -> String {
            let caption = "<figcaption>\(escape(plot.title))</figcaption>"
            if let directory, let svg = try? String(contentsOf: directory.appendingPathComponent(plot.file), encoding: .utf8),
               let inlined = inlineSVG(svg, prefix: "p\(inlineCount)-") {
                inlineCount += 1
                return "<figure>\(inlined)\(caption)</figure>\n"
            }
            return "<figure><img src=\"\(escape(plot.file))\" alt=\"\(escape(plot.title))\">\(caption)</figure>\n"
        }
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em auto;padding:0 1em;max-width:1400px;color:#222}
        table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}td.best{font-weight:bold;background:#cdebd0}
        td.diverged{background:#f6d5d5;color:#700}td.censored{background:#eef3fb}
        figure{margin:0.5em 0}figure img,figure svg{width:640px;max-width:100%;height:auto;border:1px solid #ddd}
        .subject{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}.failed{color:#a00}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:0.2em 1em}dt{font-family:monospace;font-weight:bold}dd{margin:0}
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p>Median over seeds (interquartile range in brackets); the best value of each row is highlighted green. A model
        that diverged on at least half of the test trajectories is never marked best (red); <b>≥ x</b>: still valid at
        the end of the evaluation window (a lower bound, blue); <b>†</b>: computed over the steps before divergence
        only. Raw rows: <a href="errors.csv">errors.csv</a>, summary: <a href="summary.csv">summary.csv</a>.</p>

        """
        out += "<h2>Overview</h2>\n" + htmlOverview(tables)
        for (heading, table) in [("The best learned model against the linear baseline (valid prediction time)", Standings.againstLinear(tables)),
                                 ("Our models against their peers (valid prediction time)", Standings.againstPeers(tables))] {
            guard let table else { continue }
            out += "<h3>\(escape(heading))</h3>\n<table>\n<tr>" + table.header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for row in table.rows { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
            out += "</table>\n"
        }
        let overviewPlots = plots.filter { plot in !tables.contains { plot.file.hasPrefix("plots/\($0.subject)-") || plot.file.hasPrefix("\($0.subject)-") } }
        for plot in overviewPlots { out += figure(plot) }

        for (experiment, heading) in [("solve", "Learned steppers"), ("eigen", "Eigenproblems")] {
            let selected = tables.filter { $0.experiment == experiment }
            guard !selected.isEmpty else { continue }
            out += "<h2>\(heading)</h2>\n"
            for table in selected {
                out += "<h3 id=\"\(escape(table.experiment))-\(escape(table.subject))\">\(escape(table.subject))</h3>\n<div class=\"subject\"><table>\n"
                out += "<tr><th>metric</th>" + table.models.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
                for metric in table.metrics {
                    let best = table.best(metric)
                    let unit = table.units[metric.name].flatMap { $0.isEmpty ? nil : " (\($0))" } ?? ""
                    out += "<tr><td>\(escape(metric.name + unit))</td>"
                    for model in table.models {
                        out += "<td\(cellClass(table, metric, model, best: best))>\(escape(table.cellText(metric, model)))</td>"
                    }
                    out += "</tr>\n"
                }
                out += "</table>\n"
                for plot in plots where plot.file.hasPrefix("plots/\(table.subject)-") || plot.file.hasPrefix("\(table.subject)-") {
                    out += figure(plot)
                }
                out += "</div>\n"
            }
        }
        let shown = Set(tables.flatMap { $0.metrics.map(\.name) })
        let definitions = (SummaryMetric.solve + SummaryMetric.eigen).filter { shown.contains($0.name) && !$0.definition.isEmpty }
        if !definitions.isEmpty {
            out += "<h2>Metrics</h2>\n<dl>\n"
            for metric in definitions {
                out += "<dt>\(escape(metric.name))</dt><dd>\(escape(metric.definition))\(metric.rankable ? "" : " (shown, not ranked)")</dd>\n"
            }
            out += "</dl>\n<p>Every column of errors.csv and summary.csv is defined in the project's results/README.md.</p>\n"
        }
        let failed = failures.filter { $0.status == .failed }
        if !failed.isEmpty {
            out += "<h2 class=\"failed\">Failed cells</h2>\n<ul>\n"
            for outcome in failed { out += "<li><b>\(escape(outcome.cell.key))</b>: \(escape(outcome.message))</li>\n" }
            out += "</ul>\n"
        }
        out += "</body></html>\n"
        return out
    }

    /// The overview tables in HTML: subjects as rows, models as columns, one table per key metric.
    static func htmlOverview(_ tables: [ComparisonTable]) -> String {
        var out = ""
        let views: [(experiment: String, title: String, metrics: [SummaryMetric])] = [
            ("solve", "Valid prediction time (Lyapunov times where marked λ, else time units\(vptThresholdNote(tables)))",
             headlineVPTMetrics(tables)),
            ("eigen", "Products with A per eigenpair", [SummaryMetric.named("iterations")]),
        ]
        for view in views {
            let selected = tables.filter { $0.experiment == view.experiment }
            guard !selected.isEmpty else { continue }
            let order = SummaryMetric.columnOrder(view.experiment)
            let present = Set(selected.flatMap(\.models))
            let columns = order.filter(present.contains) + present.subtracting(order).sorted()
            out += "<h3>\(escape(view.title))</h3>\n<table>\n<tr><th>\(view.experiment == "solve" ? "problem" : "matrix")</th>"
                + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for subject in selected {
                guard let metric = view.metrics.first(where: { subject.values[$0.name] != nil }) else { continue }
                let best = subject.best(metric)
                let mark = metric.unit == SummaryMetric.vptLyapunov.unit ? " λ" : ""
                out += "<tr><td><a href=\"#\(escape(subject.experiment))-\(escape(subject.subject))\">\(escape(subject.subject))</a></td>"
                for model in columns {
                    let text = subject.values[metric.name]?[model] == nil ? "–" : overviewText(subject, metric, model, mark: mark)
                    out += "<td\(cellClass(subject, metric, model, best: best))>\(escape(text))</td>"
                }
                out += "</tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }

    /// The class attribute of a cell: best, diverged (a mostly failing model) or censored.
    static func cellClass(_ table: ComparisonTable, _ metric: SummaryMetric, _ model: String, best: Set<String>) -> String {
        guard table.values[metric.name]?[model] != nil else { return "" }
        if best.contains(model) { return " class=\"best\"" }
        if table.failedMostly(model) { return " class=\"diverged\"" }
        if table.isCensored(metric, model) { return " class=\"censored\"" }
        return ""
    }

    /// A gnuplot SVG made fit to sit inside HTML: the XML prolog and doctype dropped, and every id (and reference
    /// to one) prefixed, so several plots on one page do not share ids. Nil when the text holds no <svg> element.
    static func inlineSVG(_ svg: String, prefix: String) -> String? {
        guard let start = svg.range(of: "<svg"), let end = svg.range(of: "</svg>", options: .backwards) else { return nil }
        var body = String(svg[start.lowerBound..<end.upperBound])
        for (pattern, template) in [(##"id="([^"]+)""##, "id=\"\(prefix)$1\""), (##"href="#([^"]+)""##, "href=\"#\(prefix)$1\""),
                                    (##"url\(#([^)]+)\)"##, "url(#\(prefix)$1)")] {
            body = body.replacingOccurrences(of: pattern, with: template, options: .regularExpression)
        }
        return body
    }

    /// One table per key metric across subjects: problems (matrices) as rows, models (methods) as columns.
    static func overview(_ tables: [ComparisonTable]) -> String {
        var out = ""
        let views: [(experiment: String, title: String, metrics: [SummaryMetric])] = [
            ("solve", "Valid prediction time (Lyapunov times where the problem has an exponent, marked λ; else time units\(vptThresholdNote(tables)))",
             headlineVPTMetrics(tables)),
            ("solve", "Relative L2 error at the horizon", [SummaryMetric.relativeL2Final]),
            ("eigen", "Products with A per eigenpair", [SummaryMetric.named("iterations")]),
            ("eigen", "Relative eigenvalue error against GSL", [SummaryMetric.named("rel_error")]),
        ]
        for view in views {
            let selected = tables.filter { $0.experiment == view.experiment }
            guard !selected.isEmpty else { continue }
            let order = SummaryMetric.columnOrder(view.experiment)
            let present = Set(selected.flatMap(\.models))
            let withValues = present.filter { model in
                selected.contains { subject in view.metrics.contains { subject.values[$0.name]?[model] != nil } }
            }
            let columns = order.filter(withValues.contains) + withValues.subtracting(order).sorted()
            var table = SummaryTable(header: [view.experiment == "solve" ? "problem" : "matrix"] + columns)
            for subject in selected {
                guard let metric = view.metrics.first(where: { subject.values[$0.name] != nil }) else { continue }
                let best = subject.best(metric)
                let mark = metric.unit == SummaryMetric.vptLyapunov.unit ? " λ" : ""
                table.append([subject.subject] + columns.map { model in
                    guard subject.values[metric.name]?[model] != nil else { return "–" }
                    let text = overviewText(subject, metric, model, mark: mark)
                    return best.contains(model) ? "**\(text)**" : text
                })
            }
            guard !table.rows.isEmpty else { continue }
            out += "\n## \(view.title)\n\n" + table.markdown
        }
        return out
    }

    /// An overview cell: the median only, `≥` when censored, `(diverged)`/`(failed)` for a mostly failing model.
    static func overviewText(_ table: ComparisonTable, _ metric: SummaryMetric, _ model: String, mark: String = "") -> String {
        guard let s = table.values[metric.name]?[model] else { return "–" }
        var text = (table.isCensored(metric, model) ? "≥ " : "") + formatValue(s.median) + mark
        if table.failedMostly(model) { text += table.experiment == "solve" ? " (diverged)" : " (failed)" }
        return text
    }


    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
