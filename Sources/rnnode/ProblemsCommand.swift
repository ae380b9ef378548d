// `rnnode problems`: placeholder until its issue lands.
import ArgumentParser

struct ProblemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "problems", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode problems' is not available yet") }
}
