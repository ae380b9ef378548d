// `rnnode compare`: placeholder until its issue lands.
import ArgumentParser

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode compare' is not available yet") }
}
