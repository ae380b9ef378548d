// The comparison report: summary.csv (long format), summary.md (one table per problem or matrix) and
// index.html (the tables and every plot on one static page, openable from disk).
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
        out += "beyond 10× the training range) before the horizon; `–`: no value.\n"
        out += overview(tables)
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
                        guard let s = table.values[metric.name]?[model] else { return "–" }
                        let text = cellText(s)
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

    /// A static page with the summary tables and the plots (SVG files in the same folder, linked relatively).
    public static func html(_ tables: [ComparisonTable], plots: [(title: String, file: String)], failures: [CellOutcome] = [],
                            title: String = "rnnode comparison") -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em auto;padding:0 1em;max-width:1100px;color:#222}
        table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}td.best{font-weight:bold;background:#e8f4e8}
        figure{margin:1em 0}figure img{width:900px;max-width:100%;border:1px solid #ddd}
        .failed{color:#a00}
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p>Median over seeds (interquartile range in brackets); the best value of each row is highlighted.
        Raw rows: <a href="errors.csv">errors.csv</a>, summary: <a href="summary.csv">summary.csv</a>.</p>

        """
        for table in tables {
            out += "<h2>\(escape(table.experiment == "solve" ? "Problem" : "Matrix")): \(escape(table.subject))</h2>\n<table>\n"
            out += "<tr><th>metric</th>" + table.models.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for metric in table.metrics {
                let best = table.best(metric)
                let unit = table.units[metric.name].flatMap { $0.isEmpty ? nil : " (\($0))" } ?? ""
                out += "<tr><td>\(escape(metric.name + unit))</td>"
                for model in table.models {
                    if let s = table.values[metric.name]?[model] {
                        out += best.contains(model) ? "<td class=\"best\">\(escape(cellText(s)))</td>" : "<td>\(escape(cellText(s)))</td>"
                    } else {
                        out += "<td>–</td>"
                    }
                }
                out += "</tr>\n"
            }
            out += "</table>\n"
        }
        if !plots.isEmpty {
            out += "<h2>Plots</h2>\n"
            for plot in plots {
                out += "<figure><img src=\"\(escape(plot.file))\" alt=\"\(escape(plot.title))\"><figcaption>\(escape(plot.title))</figcaption></figure>\n"
            }
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

    /// One table per key metric across subjects: problems (matrices) as rows, models (methods) as columns.
    static func overview(_ tables: [ComparisonTable]) -> String {
        var out = ""
        let views: [(experiment: String, title: String, metrics: [SummaryMetric])] = [
            ("solve", "Valid prediction time (Lyapunov times where the problem has an exponent, marked λ; else time units)",
             [SummaryMetric("vpt_lyapunov", higherIsBetter: true), SummaryMetric("vpt", higherIsBetter: true)]),
            ("solve", "Relative L2 error at the horizon", [SummaryMetric("rel_l2_final")]),
            ("eigen", "Products with A per eigenpair", [SummaryMetric("iterations")]),
            ("eigen", "Relative eigenvalue error against GSL", [SummaryMetric("rel_error")]),
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
                let mark = metric.name == "vpt_lyapunov" ? " λ" : ""
                table.append([subject.subject] + columns.map { model in
                    guard let s = subject.values[metric.name]?[model] else { return "–" }
                    let text = formatValue(s.median) + mark + (subject.failedMostly(model) ? " (failed)" : "")
                    return best.contains(model) ? "**\(text)**" : text
                })
            }
            guard !table.rows.isEmpty else { continue }
            out += "\n## \(view.title)\n\n" + table.markdown
        }
        return out
    }

    static func cellText(_ s: SummaryStatistic) -> String {
        s.count > 1 ? "\(formatValue(s.median)) [\(formatValue(s.q25)), \(formatValue(s.q75))]" : formatValue(s.median)
    }


    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
