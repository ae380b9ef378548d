// `rnnode merge`: placeholder until its issue lands.
import ArgumentParser

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode merge' is not available yet") }
}
