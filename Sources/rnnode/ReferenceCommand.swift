// `rnnode reference`: placeholder until its issue lands.
import ArgumentParser

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reference", abstract: "(not yet available)")
    func run() throws { throw ValidationError("'rnnode reference' is not available yet") }
}
