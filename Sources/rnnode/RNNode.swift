// The `rnnode` command: learned recurrent steppers and eigen-iterations, checked against GSL.
import ArgumentParser

@main
struct RNNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnode",
        abstract: "Learn to step ODEs and iterate toward eigenvectors with recurrent networks, checked against GNU GSL.",
        subcommands: [
            ProblemsCommand.self, ReferenceCommand.self, SolveCommand.self, EigenCommand.self,
            LyapunovCommand.self, CompareCommand.self, MergeCommand.self, BenchCommand.self,
        ]
    )
}
