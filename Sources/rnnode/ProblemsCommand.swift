// `rnnode problems`: the catalog of ODE problems, one line each: name, dimension, title.
import ArgumentParser
import Foundation
import Experiments
import Problems

struct ProblemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "problems",
        abstract: "List the catalog of ODE problems (name, dimension, title).",
        discussion: "Problems are the *.toml files in the catalog folder ($RNNODE_PROBLEMS, else ./problems)."
    )

    @Option(name: .customLong("settings"),
            help: ArgumentHelp("Print, as JSON, the settings each model takes on this problem (a catalog name or a .toml file) at its defaults: its file's [learning] over rnnode's defaults.",
                               valueName: "problem"))
    var settingsOf: String?

    func validate() throws {
        // An unknown catalog name is a usage error, with `Catalog.load`'s message (the closest name, the known ones),
        // as in `rnnode reference`; a problem file that does not load is reported by run() with its path.
        guard let name = settingsOf else { return }
        do { _ = try Catalog.load(name) } catch let error as ProblemError where error.file == nil {
            throw ValidationError(error.description)
        } catch {}
    }

    func run() throws {
        if let name = settingsOf {
            try Console.print(try Self.settingsJSON(of: try Catalog.load(name)))
            return
        }
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

extension ProblemsCommand {
    /// Per model, what `rnnode solve <problem> --model M` takes without options: train_trajectories,
    /// validation_trajectories, and hidden, rollout_steps, window, noise, denoising, ridge and degree as
    /// `SolveConfiguration.resolved(for:)` fills them from the file. The peer sweep
    /// (bench/peers) reads this instead of the file, so the file has one reader.
    static func settingsJSON(of problem: Problem) throws -> String {
        var models: [String: [String: Any]] = [:]
        for kind in ModelKind.allCases {
            let c = try SolveConfiguration(problem: problem.name, model: kind).resolved(for: problem)
            var entry: [String: Any] = ["train_trajectories": c.trainTrajectories, "validation_trajectories": c.validationTrajectories,
                                        "noise": c.noise, "denoising": c.denoising]
            if kind.isRecurrentNetwork { entry["hidden"] = c.hidden; entry["rollout_steps"] = c.rolloutSteps }
            if kind != .ngrc { entry["window"] = c.window }
            // Those a model has (the ridge fits' λ, ngrc's degree), as its manifest gives them.
            let own = kind.registration.settings(c)
            if let ridge = own["ridge"].flatMap(Double.init) { entry["ridge"] = ridge }
            if let degree = own["degree"].flatMap(Int.init) { entry["degree"] = degree }
            models[kind.rawValue] = entry
        }
        let data = try JSONSerialization.data(withJSONObject: ["problem": problem.name, "models": models], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

fileprivate extension String {
    /// Padded with spaces to `width` (on the left when `right`, to align numbers).
    func padding(_ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - count))
        return right ? fill + self : self + fill
    }
}
