// Tests of the shared output utilities: atomic writes, CSV round trips, the errors.csv appender under
// concurrency, manifests, summary tables and the gnuplot helper.
import Foundation
import Testing
@testable import Experiments

private func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rnnode-tests-\(name.filter(\.isLetter))-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Test func atomicWriteCreatesDirectoriesAndLeavesNoTemporaryFiles() throws {
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("a/b/out.txt")
    try AtomicFile.write("first", to: url)
    try AtomicFile.write("second", to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == "second")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
    #expect(leftovers == ["out.txt"])
}

@Test func csvRoundTripsNumbersAndQuotedFields() throws {
    let directory = try temporaryDirectory()
    var table = CSVTable(header: ["name", "value"])
    table.append(["a,b \"quoted\"", CSV.format(0.1 + 0.2)])
    table.append(["nan", CSV.format(.nan)])
    table.append(["line\nbreak", CSV.format(-.infinity)])
    let url = directory.appendingPathComponent("t.csv")
    try table.write(to: url)
    let back = try CSVTable.read(from: url)
    #expect(back == table)
    #expect(CSV.number(back.rows[0][1]) == 0.1 + 0.2)
    #expect(CSV.number(back.rows[1][1])!.isNaN)
    #expect(CSV.number(back.rows[2][1]) == -.infinity)
}

@Test func csvReaderRejectsRaggedRowsNamingTheLine() throws {
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("bad.csv")
    try "a,b\n1,2\n3\n".write(to: url, atomically: true, encoding: .utf8)
    #expect { try CSVTable.read(from: url) } throws: { error in
        "\(error)".contains("line 3") && "\(error)".contains("bad.csv")
    }
}

@Test func errorLogWritesHeaderOnceAndKeepsConcurrentBatchesWhole() throws {
    let directory = try temporaryDirectory()
    let log = ErrorLog(directory: directory)
    let writers = 8, batches = 20, rowsPerBatch = 5
    DispatchQueue.concurrentPerform(iterations: writers) { writer in
        for batch in 0..<batches {
            let rows = (0..<rowsPerBatch).map { row in
                ErrorRow(experiment: "test", problem: "p\(writer)", model: "m", seed: UInt64(batch),
                         metric: "metric\(row)", value: Double(row) + 0.5, unit: "1")
            }
            try! log.append(rows)
        }
    }
    let text = try String(contentsOf: log.url, encoding: .utf8)
    #expect(text.hasPrefix("experiment,problem,model,seed,metric,value,unit\n"))
    #expect(text.components(separatedBy: "experiment,problem").count == 2)
    let rows = try log.read()
    #expect(rows.count == writers * batches * rowsPerBatch)
    // Each batch of five rows stays contiguous.
    for start in stride(from: 0, to: rows.count, by: rowsPerBatch) {
        let batch = rows[start..<(start + rowsPerBatch)]
        #expect(Set(batch.map(\.problem)).count == 1 && Set(batch.map(\.seed)).count == 1)
        #expect(batch.map(\.metric) == (0..<rowsPerBatch).map { "metric\($0)" })
    }
}

@Test func manifestRoundTripsAsSortedJSON() throws {
    let directory = try temporaryDirectory()
    let manifest = Manifest(command: "rnnode solve harmonic", configuration: ["window": "16", "model": "lstm"], seed: 7,
                            gitRevision: "abc", gitDirty: false, gslVersion: "2.7", tools: ["swift": "6.3"],
                            date: "2026-01-01T00:00:00Z", outputs: ["errors.csv"])
    let url = directory.appendingPathComponent("manifest.json")
    try manifest.write(to: url)
    #expect(try Manifest.read(from: url) == manifest)
    let text = try String(contentsOf: url, encoding: .utf8)
    #expect(text.range(of: "\"model\"")!.lowerBound < text.range(of: "\"window\"")!.lowerBound)
}

@Test func summaryTableAlignsColumnsAndRendersMarkdown() {
    var table = SummaryTable(header: ["model", "vpt"])
    table.append(["esn", "6.1"])
    table.append(["linear", "0.25"])
    #expect(table.text == "model    vpt\n------  ----\nesn      6.1\nlinear  0.25\n")
    #expect(table.markdown == "| model | vpt |\n| :--- | ---: |\n| esn | 6.1 |\n| linear | 0.25 |\n")
    #expect(SummaryTable.format(1.23456e-7) == "1.235e-07")
    #expect(SummaryTable.format(12.3456) == "12.35")
}

@Test func gnuplotKeepsTheScriptAndRendersWhenInstalled() throws {
    let directory = try temporaryDirectory()
    try "x,y\n0,0\n1,1\n".write(to: directory.appendingPathComponent("d.csv"), atomically: true, encoding: .utf8)
    let script = Gnuplot.preamble(svgName: "d.svg", title: "test") + "plot 'd.csv' using 1:2 with lines title 'y'\n"
    let svg = directory.appendingPathComponent("d.svg")
    let outcome = try Gnuplot.render(script: script, scriptURL: directory.appendingPathComponent("d.gp"), svg: svg)
    #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("d.gp").path))
    if ExternalTool.find("gnuplot") != nil {
        #expect(outcome == .rendered(svg))
        #expect(try String(contentsOf: svg, encoding: .utf8).contains("<svg"))
    } else {
        guard case .skipped = outcome else { Issue.record("expected a skip without gnuplot"); return }
    }
}
