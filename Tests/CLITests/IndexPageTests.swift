// index.html as a reader gets it: one self-contained file that headless Chromium renders with every plot, even when
// copied away from its folder (as when mailed).
import Foundation
import Testing

/// Chromium, installed by `make deps`; the test is reported as skipped (not passed) without it.
private let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

@Suite struct IndexPageTests {
    @Test(.enabled(if: chromium != nil, "Chromium is not installed (make deps installs it)"))
    func theReportRendersEveryPlotWhenMailedAlone() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try RNNodeBinary.run(["compare", "--problems", "exponential-decay", "--models", "linear", "--matrices", "pairing",
                                        "--methods", "yi,power", "--quick", "--out", "grid"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let plots = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("grid/plots").path)
            .filter { $0.hasSuffix(".svg") }
        try #require(!plots.isEmpty, "gnuplot made no plot (make deps installs gnuplot-nox)")

        // The page alone in an empty folder, with a probe that reports what the browser laid out.
        let mailed = folder.appendingPathComponent("mailed", isDirectory: true)
        try FileManager.default.createDirectory(at: mailed, withIntermediateDirectories: true)
        var page = try String(contentsOf: folder.appendingPathComponent("grid/index.html"), encoding: .utf8)
        page = page.replacingOccurrences(of: "</body>", with: renderProbe + "</body>")
        let pageURL = mailed.appendingPathComponent("index.html")
        try page.write(to: pageURL, atomically: true, encoding: .utf8)

        let dom = try headlessDOM(of: pageURL, in: folder)
        let report = try #require(dom.range(of: #"<pre id="render-probe">[^<]*"#, options: .regularExpression).map { String(dom[$0]) },
                                  "the probe did not run: \(dom.prefix(300))")
        let numbers = probeNumbers(report)
        #expect(numbers["broken"] == 0, "images that did not load: \(report)")
        #expect(numbers["empty"] == 0, "plots laid out empty: \(report)")
        #expect((numbers["plots"] ?? 0) >= plots.count, "\(plots.count) plots made, \(report)")
    }
}

/// Runs after load: counts images that failed to load, and drawn plots (inline SVG or loaded images) with a
/// non-empty layout box; an SVG counts as drawn when it has a non-zero box and at least one mark in it.
private let renderProbe = """
<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images), svgs = Array.from(document.querySelectorAll("svg"));
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var drawn = function (e) { var b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
  var empty = svgs.filter(function (s) { return !drawn(s) || s.querySelectorAll("path,polyline,line,text").length === 0; }).length
    + images.filter(function (i) { return !drawn(i); }).length;
  var p = document.createElement("pre"); p.id = "render-probe";
  p.textContent = "plots=" + (svgs.length + images.length - broken) + " broken=" + broken + " empty=" + empty;
  document.body.appendChild(p);
});
</script>
"""

private func probeNumbers(_ report: String) -> [String: Int] {
    var numbers: [String: Int] = [:]
    for part in report.split(whereSeparator: { $0 == " " || $0 == ">" }) {
        let pair = part.split(separator: "=")
        if pair.count == 2, let value = Int(pair[1]) { numbers[String(pair[0])] = value }
    }
    return numbers
}

/// The DOM after Chromium loaded and laid out the page (headless, no network, a throwaway profile).
private func headlessDOM(of page: URL, in folder: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium!)
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                         "--user-data-dir=\(folder.appendingPathComponent("chromium-profile").path)",
                         "--virtual-time-budget=5000", "--dump-dom", page.absoluteString]
    let output = folder.appendingPathComponent("dom.html")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try handle.close()
    return try String(contentsOf: output, encoding: .utf8)
}
