// Plots through gnuplot: the script is always written next to the output (so a user can restyle and rerun it);
// the SVG is rendered when gnuplot is on PATH, otherwise skipped with a note. A missing or failing gnuplot never
// fails a run.
import Foundation

public enum Gnuplot {
    public enum Outcome: Equatable, Sendable {
        case rendered(URL)
        /// Not rendered; the reason (gnuplot missing, or its error output).
        case skipped(String)
    }

    /// Writes `script` to `scriptURL` and runs `gnuplot scriptURL` in that directory when gnuplot is installed.
    /// The script is expected to `set output` to `svg` (a path relative to the script's directory works).
    @discardableResult
    public static func render(script: String, scriptURL: URL, svg: URL) throws -> Outcome {
        try AtomicFile.write(script, to: scriptURL)
        guard let gnuplot = ExternalTool.find("gnuplot") else {
            return .skipped("gnuplot not found on PATH; script kept at \(scriptURL.path)")
        }
        guard let result = ExternalTool.run(gnuplot, arguments: ["./" + scriptURL.lastPathComponent],
                                            in: scriptURL.deletingLastPathComponent()) else {
            return .skipped("gnuplot could not be started; script kept at \(scriptURL.path)")
        }
        guard result.status == 0, FileManager.default.fileExists(atPath: svg.path) else {
            let message = result.errors.trimmingCharacters(in: .whitespacesAndNewlines)
            return .skipped("gnuplot failed (status \(result.status)): \(message.suffix(400))")
        }
        return .rendered(svg)
    }

    /// Quotes a string for a gnuplot script ('…' with '' for a quote).
    public static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The usual preamble: SVG terminal of the given size, output file (relative name), grid and key.
    public static func preamble(svgName: String, width: Int = 900, height: Int = 600, title: String? = nil) -> String {
        var lines = [
            "set terminal svg size \(width),\(height) dynamic enhanced font 'Helvetica,12' background rgb 'white'",
            "set output \(quote(svgName))",
            "set datafile separator ','",
            "set grid",
            "set key outside right top",
        ]
        if let title { lines.append("set title \(quote(title)) noenhanced") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A line panel: GSL (column `column` of `csvName`) against the model (column `modelColumn`) over t.
    static func linePanel(csvName: String, column: Int, modelColumn: Int, modelTitle: String) -> String {
        "plot \(quote(csvName)) using 1:\(column) skip 1 with lines lw 2 lc rgb '#1f77b4' title 'GSL', "
            + "'' using 1:\(modelColumn) skip 1 with lines lw 1.5 dt 2 lc rgb '#d62728' title \(quote(modelTitle))\n"
    }

    /// Three heat-map panels of an array variable over (t, site) from a long-form CSV (t, site, ref, model,
    /// error): the GSL reference, the model's rollout (same colour range as the reference, model values beyond it
    /// clipped) and their difference (a symmetric range from its own extremes).
    static func spaceTimePanels(csvName: String, variable: String, sites: Int, modelTitle: String) -> [String] {
        let file = quote(csvName)
        let setup = "unset key\nset xlabel 't'\nset ylabel \(quote("site of \(variable)")) noenhanced\n"
            + "set yrange [-0.5:\(Double(sites) - 0.5)]\nset autoscale xfix\nset colorbox\n"
        let stats = "set autoscale y\nstats \(file) using 3 skip 1 nooutput prefix 'REF'\n"
            + "stats \(file) using 5 skip 1 nooutput prefix 'ERR'\n"
        let diverging = "set palette defined (0 '#3b4cc0', 1 '#f7f7f7', 2 '#b40426')\n"
        let range = "set cbrange [REF_min:REF_max]\n"
        let errorRange = "ERR_bound = (abs(ERR_min) > abs(ERR_max) ? abs(ERR_min) : abs(ERR_max))\n"
            + "set cbrange [-(ERR_bound > 0 ? ERR_bound : 1):(ERR_bound > 0 ? ERR_bound : 1)]\n"
        // stats before the y range: stats drops values outside the current range.
        return [
            stats + setup + diverging + range
                + "set title \(quote("\(variable): GSL reference")) noenhanced\nplot \(file) using 1:2:3 skip 1 with image\n",
            range + "set title \(quote("\(variable): \(modelTitle)")) noenhanced\nplot \(file) using 1:2:4 skip 1 with image\n",
            errorRange + "set title \(quote("\(variable): \(modelTitle) − GSL")) noenhanced\nplot \(file) using 1:2:5 skip 1 with image\n"
                + "unset title\nset autoscale x\nset autoscale y\nset autoscale cb\nset key outside right top\n",
        ]
    }
}
