// Training progress on stderr: a one-line bar redrawn with \r on a terminal, a plain line every few seconds otherwise.
import Foundation

final class ProgressReporter {
    let enabled: Bool
    let isTerminal: Bool
    private var lastDraw: Double = -.infinity
    private let interval: Double
    private var drewBar = false

    init(enabled: Bool) {
        self.enabled = enabled
        isTerminal = isatty(STDERR_FILENO) != 0
        interval = isTerminal ? 0.1 : 5
    }

    /// Epoch e of E, batch k of K, the running loss, the last validation loss, throughput and time left.
    func update(epoch: Int, of epochs: Int, batch: Int, of batches: Int, loss: Double, validationLoss: Double?,
                sequencesPerSecond: Double, secondsLeft: Double, force: Bool = false) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        guard force || now - lastDraw >= interval else { return }
        lastDraw = now
        let validation = validationLoss.map { String(format: "  val %.4e", $0) } ?? ""
        let text = String(format: "epoch %d/%d  batch %d/%d  loss %.4e%@  %.0f seq/s  ETA %@",
                          epoch + 1, epochs, batch, batches, loss, validation, sequencesPerSecond, Self.clock(secondsLeft))
        if isTerminal {
            let width = 30, filled = batches > 0 ? min(width, width * batch / batches) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
            drewBar = true
        } else {
            try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
        }
    }

    /// Ends the redrawn line.
    func finish() {
        if enabled && isTerminal && drewBar { try? FileHandle.standardError.write(contentsOf: Data("\n".utf8)); drewBar = false }
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
