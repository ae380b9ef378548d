// `rnnode solve`: placeholder until its issue lands.
import ArgumentParser

struct SolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "solve", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode solve' is not available yet") }
}
