// `rnnode problems`: the catalog of ODE problems, one line each: name, dimension, title.
import ArgumentParser
import Experiments
import Problems

struct ProblemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "problems",
        abstract: "List the catalog of ODE problems (name, dimension, title).",
        discussion: "Problems are the *.toml files in the catalog folder ($RNNODE_PROBLEMS, else ./problems)."
    )

    func run() throws {
        let problems = try Catalog.names().map { try Catalog.load($0) }
        let nameWidth = max(4, problems.map(\.name.count).max() ?? 0)
        var table = "name".padding(nameWidth) + "  dim  title\n"
        for problem in problems {
            table += problem.name.padding(nameWidth) + "  " + String(problem.dimension).padding(3, right: true)
                + "  " + problem.title + "\n"
        }
        try Console.print(table, terminator: "")
    }
}

fileprivate extension String {
    /// Padded with spaces to `width` (on the left when `right`, to align numbers).
    func padding(_ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - count))
        return right ? fill + self : self + fill
    }
}
