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
}
