// `rnnode eigen`: placeholder until its issue lands.
import ArgumentParser

struct EigenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eigen", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode eigen' is not available yet") }
}
