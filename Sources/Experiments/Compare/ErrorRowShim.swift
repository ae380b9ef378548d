// TEMPORARY: stands in for Output's ErrorRow until the solve branch lands.
public struct ErrorRow: Sendable, Equatable {
    public var experiment: String
    public var problem: String
    public var model: String
    public var seed: Int
    public var metric: String
    public var value: Double
    public var unit: String
    public init(experiment: String, problem: String, model: String, seed: Int, metric: String, value: Double, unit: String) {
        self.experiment = experiment; self.problem = problem; self.model = model; self.seed = seed
        self.metric = metric; self.value = value; self.unit = unit
    }
}

import Foundation
func writeFileAtomically(_ data: Data, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: url, options: .atomic)
}
func readErrorRows(_ url: URL) throws -> [ErrorRow] {
    let text = try String(contentsOf: url, encoding: .utf8)
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 7, let seed = Int(f[3]) else { return nil }
        return ErrorRow(experiment: f[0], problem: f[1], model: f[2], seed: seed, metric: f[4], value: Double(f[5]) ?? .nan, unit: f[6])
    }
}
func errorsCSV(_ rows: [ErrorRow]) -> String {
    (["experiment,problem,model,seed,metric,value,unit"] + rows.map { "\($0.experiment),\($0.problem),\($0.model),\($0.seed),\($0.metric),\($0.value),\($0.unit)" }).joined(separator: "\n") + "\n"
}
