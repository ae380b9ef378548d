// The trajectory plot of `solve`: one line panel per variable for scalar problems, a space–time picture
// (GSL, model, difference as heat maps) per array variable for array problems, with its long-form data file.
import Foundation
import Problems
import Testing
@testable import Experiments

private func outputDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-plot-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A comparison of `steps` rows for a problem of dimension d: reference sin(t + k), prediction off by 0.01·k·t,
/// non-finite from row `diverged` on when given.
private func comparison(dimension d: Int, steps: Int, diverged: Int? = nil) -> RolloutComparison {
    let times = (0..<steps).map { Double($0) * 0.5 }
    var reference: [Double] = [], predicted: [Double] = []
    for (n, t) in times.enumerated() {
        for k in 0..<d {
            reference.append(sin(t + Double(k)))
            predicted.append(diverged.map { n >= $0 } == true ? .nan : sin(t + Double(k)) + 0.01 * Double(k) * t)
        }
    }
    return RolloutComparison(dimension: d, times: times, reference: reference, predicted: predicted,
                             divergedIndex: diverged, scale: [Double](repeating: 1, count: d))
}

@Test func arrayProblemsGetASpaceTimePictureInsteadOfOnePanelPerSite() throws {
    let problem = try Catalog.load("lorenz96")
    let sites = problem.arrayVariables[0].count, steps = 12, diverged = 9
    let directory = try outputDirectory("array")
    var notes: [String] = []
    let files = try SolvePipeline.writeTrajectory(comparison(dimension: sites, steps: steps, diverged: diverged), problem: problem,
                                                  model: .esn, stem: "l96", directory: directory, notes: &notes)
    let data = directory.appendingPathComponent("l96-spacetime-x.csv")
    #expect(files.contains(data))
    // One row per valid step and site (a blank line after each step), the difference exactly model − GSL.
    let lines = try String(contentsOf: data, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.first == "t,site,ref,model,error")
    let rows = lines.dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
    #expect(rows.count == diverged * sites)
    for row in rows { #expect(row[4] == row[3] - row[2] && row[1] >= 0 && row[1] < Double(sites)) }
    let script = try String(contentsOf: directory.appendingPathComponent("l96-trajectory.gp"), encoding: .utf8)
    #expect(script.components(separatedBy: "with image").count - 1 == 3, "GSL, model and difference")
    #expect(script.contains("set multiplot layout 3,1"))
    #expect(!script.contains("with lines"), "no per-site line panels")
    // gnuplot's stats drops values outside the current y range, so the colour ranges are measured before the
    // y axis is fixed to the sites.
    let firstStats = try #require(script.range(of: "stats ")), siteRange = try #require(script.range(of: "set yrange"))
    #expect(firstStats.lowerBound < siteRange.lowerBound)
}

@Test func scalarProblemsKeepOneLinePanelPerVariable() throws {
    let problem = try Catalog.load("lorenz")
    let d = problem.variables.count
    let directory = try outputDirectory("scalar")
    var notes: [String] = []
    let files = try SolvePipeline.writeTrajectory(comparison(dimension: d, steps: 10), problem: problem, model: .esn,
                                                  stem: "lorenz", directory: directory, notes: &notes)
    #expect(!files.contains { $0.lastPathComponent.contains("spacetime") })
    let script = try String(contentsOf: directory.appendingPathComponent("lorenz-trajectory.gp"), encoding: .utf8)
    #expect(script.contains("set multiplot layout \(d),1"))
    #expect(script.components(separatedBy: "with lines lw 2 lc rgb '#1f77b4' title 'GSL'").count - 1 == d)
    #expect(!script.contains("with image"))
}
