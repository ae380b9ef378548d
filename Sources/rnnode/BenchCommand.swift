// `rnnode bench`: placeholder until its issue lands.
import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode bench' is not available yet") }
}
