// Reference data for learning: GSL trajectories from random initial states on the attractor, split by seed into
// training, validation and test sets, cached on disk as CSV (readable by the peer scripts under bench/).
import Foundation
import Problems
import Reference
import Support

/// One GSL trajectory sampled every `time.step`: row-major (times.count, d).
public struct Trajectory: Sendable, Equatable {
    public var states: [Double]
    /// Wall-clock seconds GSL took for it (the transient excluded).
    public var seconds: Double
}

public enum DataSplit: String, CaseIterable, Sendable {
    case training = "train", validation, test
}

/// The trajectories of all three splits, sharing one time grid.
public struct TrajectoryData: Sendable {
    public var problem: String
    public var variables: [String]
    /// Output times t_n = t0 + n·step (the same for every trajectory).
    public var times: [Double]
    public var training: [Trajectory]
    public var validation: [Trajectory]
    public var test: [Trajectory]
    /// What happened while generating (solver failures and redraws).
    public var notes: [String]
    /// The cache key (hash of everything that determines the data) and its folder.
    public var key: String
    public var directory: URL?

    public var dimension: Int { variables.count }

    public func trajectories(_ split: DataSplit) -> [Trajectory] {
        switch split {
        case .training: return training
        case .validation: return validation
        case .test: return test
        }
    }
}

/// What the data depends on, hashed into the cache key.
struct DataSpecification {
    var problem: Problem
    var problemText: String
    var counts: [DataSplit: Int]
    var seed: UInt64

    var span: Double { problem.time.end - problem.time.start }

    var description: String {
        // Format 2: the split files carry checksums in data.json.
        var lines = ["format 2", "problem \(problem.name)", problemText]
        lines.append("parameters " + problem.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(CSV.format($0.value))" }.joined(separator: " "))
        lines.append("initial " + problem.initial.map(CSV.format).joined(separator: " "))
        lines.append("time \(CSV.format(problem.time.start)) \(CSV.format(problem.time.end)) \(CSV.format(problem.time.step))")
        lines.append("reference \(problem.reference.method) \(CSV.format(problem.reference.relativeTolerance)) \(CSV.format(problem.reference.absoluteTolerance))")
        lines.append("sampling " + (problem.sampling?.map { "\(CSV.format($0.lowerBound)):\(CSV.format($0.upperBound))" }.joined(separator: " ") ?? "none"))
        lines.append("transient \(CSV.format(problem.transient))")
        // A driven problem's transient ends at t0 (not at t0 + transient): data cached before that are not reused.
        if let period = problem.forcingPeriod, problem.transient > 0 { lines.append("drive \(CSV.format(period)), transient ends at t0") }
        lines.append("counts " + DataSplit.allCases.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }.joined(separator: " "))
        lines.append("seed \(seed)")
        return lines.joined(separator: "\n")
    }

    var key: String { StableHash.hex(description) }
}

public enum TrajectoryDataError: Error, CustomStringConvertible {
    case unknownStepper(String)
    case tooManyFailures(split: String, index: Int, notes: [String])
    case corruptCache(URL, String)

    public var description: String {
        switch self {
        case .unknownStepper(let name):
            return "unknown GSL stepper '\(name)' in [reference]; known: \(StepperKind.allCases.map(\.rawValue).joined(separator: ", "))"
        case .tooManyFailures(let split, let index, let notes):
            return "could not integrate \(split) trajectory \(index) from any of 10 sampled starts:\n  " + notes.suffix(3).joined(separator: "\n  ")
        case .corruptCache(let url, let message):
            return "\(url.path): \(message) (delete the folder to regenerate it)"
        }
    }
}

extension Problem {
    /// The problem's right-hand side and Jacobian as GSL sees them.
    public var odeSystem: ODESystem {
        let field = vectorField
        return ODESystem(
            dimension: dimension,
            rightHandSide: { t, y, dydt in field.evaluate(t: t, state: y, into: dydt) },
            jacobian: { t, y, dfdy, dfdt in field.jacobian(t: t, state: y, dfdy: dfdy, dfdt: dfdt) })
    }

    /// The `[reference]` stepper and tolerances.
    public func referenceStepper() throws -> (StepperKind, Tolerances) {
        guard let stepper = StepperKind(rawValue: reference.method) else {
            throw TrajectoryDataError.unknownStepper(reference.method)
        }
        return (stepper, Tolerances(absolute: reference.absoluteTolerance, relative: reference.relativeTolerance))
    }
}

public enum TrajectoryGenerator {
    /// The data for `problem`: loaded from `cacheRoot/<problem>-<key>/` when present, else generated with GSL and
    /// written there. Trajectories span the problem's [time] range; each split draws its starts from its own
    /// random stream of `seed`, so adding training trajectories leaves the test set unchanged.
    public static func data(for problem: Problem, counts: [DataSplit: Int], seed: UInt64, cacheRoot: URL?,
                            log: (String) -> Void = { _ in }) throws -> TrajectoryData {
        let text = problem.file.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        let specification = DataSpecification(problem: problem, problemText: text, counts: counts, seed: seed)
        let key = specification.key
        let directory = try cacheRoot.map { try OutputName.file("\(problem.name)-\(key)", in: $0, what: "problem name") }
        if let directory, FileManager.default.fileExists(atPath: directory.appendingPathComponent("data.json").path) {
            log("reference data: cached in \(directory.path)")
            return try load(from: directory, key: key)
        }
        log("reference data: integrating \(counts.values.reduce(0, +)) trajectories of \(problem.name) with GSL \(problem.reference.method)")
        var data = try generate(specification, log: log)
        data.key = key
        if let directory {
            try write(data, to: directory, specification: specification)
            data.directory = directory
        }
        return data
    }

    static func generate(_ specification: DataSpecification, log: (String) -> Void) throws -> TrajectoryData {
        let problem = specification.problem
        let (stepper, tolerances) = try problem.referenceStepper()
        let system = problem.odeSystem
        let t0 = problem.time.start, t1 = problem.time.end, step = problem.time.step
        // Outputs on the grid t0 + n·step up to t1 (GSL adds t1 itself when it is off the grid: dropped).
        let expectedCount = TrajectoryGenerator.gridCount(span: specification.span, step: step)
        var notes: [String] = []
        var times: [Double] = []
        var splits: [DataSplit: [Trajectory]] = [:]
        for split in DataSplit.allCases {
            var random = SplitMix64.stream("trajectories/\(split.rawValue)", seed: specification.seed)
            var trajectories: [Trajectory] = []
            for index in 0..<(specification.counts[split] ?? 0) {
                var attemptNotes: [String] = []
                var accepted: Trajectory?
                for attempt in 1...10 where accepted == nil {
                    var start = drawStart(problem, &random)
                    let label = "\(split.rawValue) trajectory \(index) (draw \(attempt)) from [\(start.map { SummaryTable.format($0, significantDigits: 6) }.joined(separator: ", "))]"
                    if problem.transient > 0 {
                        // A driven problem's transient ends at t0, so the start is on the attractor at the drive's
                        // phase of t0; an autonomous one's is the same flow, integrated from t0 as before.
                        let from = problem.forcingPeriod == nil ? t0 : t0 - problem.transient
                        let transient = solve(system, initial: start, from: from, to: from + problem.transient,
                                              outputStep: problem.transient, stepper: stepper, tolerances: tolerances)
                        if let failure = transient.failure {
                            attemptNotes.append("\(label): transient failed: \(failure); redrawn")
                            continue
                        }
                        start = Array(transient.state(transient.times.count - 1))
                    }
                    let solution = solve(system, initial: start, from: t0, to: t1, outputStep: step,
                                         stepper: stepper, tolerances: tolerances)
                    if let failure = solution.failure {
                        attemptNotes.append("\(label): \(failure); redrawn")
                        continue
                    }
                    let states = Array(solution.states.prefix(expectedCount * problem.dimension))
                    guard solution.times.count >= expectedCount, states.allSatisfy(\.isFinite) else {
                        attemptNotes.append("\(label): \(solution.times.count) outputs, expected \(expectedCount), or non-finite states; redrawn")
                        continue
                    }
                    if times.isEmpty { times = Array(solution.times.prefix(expectedCount)) }
                    accepted = Trajectory(states: states, seconds: solution.statistics.seconds)
                }
                notes += attemptNotes
                attemptNotes.forEach(log)
                guard let accepted else {
                    throw TrajectoryDataError.tooManyFailures(split: split.rawValue, index: index, notes: attemptNotes)
                }
                trajectories.append(accepted)
            }
            splits[split] = trajectories
        }
        if times.isEmpty { times = (0..<expectedCount).map { t0 + Double($0) * step } }
        return TrajectoryData(problem: problem.name, variables: problem.variables, times: times,
                              training: splits[.training] ?? [], validation: splits[.validation] ?? [],
                              test: splits[.test] ?? [], notes: notes, key: "", directory: nil)
    }

    /// Number of grid outputs t0 + n·step ≤ t0 + span.
    public static func gridCount(span: Double, step: Double) -> Int {
        Int((span / step * (1 + 1e-12)).rounded(.down)) + 1
    }

    /// A start drawn uniformly from the `[sampling]` box; without one, from ±10% (at least ±0.1) around the
    /// problem's initial state.
    static func drawStart(_ problem: Problem, _ random: inout SplitMix64) -> [Double] {
        if let box = problem.sampling {
            return box.map { $0.lowerBound + ($0.upperBound - $0.lowerBound) * random.nextUniform() }
        }
        return problem.initial.map { x in
            let half = max(abs(x) * 0.1, 0.1)
            return x - half + 2 * half * random.nextUniform()
        }
    }

    // MARK: Cache files: <split>.csv (trajectory,t,<variables>…) and data.json (written last: the completion mark)

    struct Meta: Codable {
        var problem: String
        var variables: [String]
        var key: String
        var counts: [String: Int]
        var seconds: [String: [Double]]
        var notes: [String]
        var specification: String
        /// For the peer scripts: the output step and the largest Lyapunov exponent (when known).
        var step: Double?
        var lyapunov: Double?
        /// Per variable column, the period of an angle (0: not periodic); absent when nothing is periodic.
        var periods: [Double]?
        /// The drive's period (the models' extra inputs sin(2πt/P), cos(2πt/P)); absent for an autonomous problem.
        var forcingPeriod: Double?
        /// `<split>.csv` → `fnv1a64:<16 hex digits>` of the file's bytes.
        var checksums: [String: String]?
    }

    /// The checksum recorded for a data file: 64-bit FNV-1a of its bytes. It catches accidental changes (an edited
    /// digit, a truncated copy), not deliberate ones: anyone who can edit the file can edit data.json too.
    static func checksum(_ bytes: Data) -> String { "fnv1a64:" + StableHash.hex(StableHash.fnv1a64(bytes: bytes)) }

    static func write(_ data: TrajectoryData, to directory: URL, specification: DataSpecification) throws {
        var seconds: [String: [Double]] = [:]
        var counts: [String: Int] = [:]
        var checksums: [String: String] = [:]
        for split in DataSplit.allCases {
            let trajectories = data.trajectories(split)
            var table = CSVTable(header: ["trajectory", "t"] + data.variables)
            let d = data.dimension
            for (index, trajectory) in trajectories.enumerated() {
                for n in data.times.indices {
                    table.append([String(index), CSV.format(data.times[n])] + (0..<d).map { CSV.format(trajectory.states[n * d + $0]) })
                }
            }
            let bytes = Data(table.text.utf8)
            try AtomicFile.write(bytes, to: directory.appendingPathComponent("\(split.rawValue).csv"))
            checksums["\(split.rawValue).csv"] = checksum(bytes)
            seconds[split.rawValue] = trajectories.map(\.seconds)
            counts[split.rawValue] = trajectories.count
        }
        let meta = Meta(problem: data.problem, variables: data.variables, key: data.key, counts: counts, seconds: seconds,
                        notes: data.notes, specification: specification.description,
                        step: specification.problem.time.step, lyapunov: specification.problem.lyapunov,
                        periods: specification.problem.periods.contains { $0 != nil } ? specification.problem.periods.map { $0 ?? 0 } : nil,
                        forcingPeriod: specification.problem.forcingPeriod, checksums: checksums)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(meta), to: directory.appendingPathComponent("data.json"))
    }

    static func load(from directory: URL, key: String) throws -> TrajectoryData {
        let metaURL = directory.appendingPathComponent("data.json")
        let meta: Meta
        let metaData = try FileSystem.read(metaURL)
        do { meta = try JSONDecoder().decode(Meta.self, from: metaData) } catch {
            throw TrajectoryDataError.corruptCache(metaURL, "unreadable: \(FileSystem.describe(decodingError: error))")
        }
        guard meta.key == key else { throw TrajectoryDataError.corruptCache(metaURL, "key \(meta.key) does not match \(key)") }
        let d = meta.variables.count
        var times: [Double] = []
        var splits: [DataSplit: [Trajectory]] = [:]
        for split in DataSplit.allCases {
            let name = "\(split.rawValue).csv"
            let url = directory.appendingPathComponent(name)
            // A file whose bytes changed since they were written is never used as ground truth.
            let bytes = try FileSystem.read(url)
            guard let recorded = meta.checksums?[name] else {
                throw TrajectoryDataError.corruptCache(metaURL, "no checksum recorded for \(name)")
            }
            let actual = checksum(bytes)
            guard actual == recorded else {
                throw TrajectoryDataError.corruptCache(url, "checksum \(actual) does not match \(recorded) recorded in data.json: the file changed after it was written and is not used as reference data")
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw TrajectoryDataError.corruptCache(url, "not UTF-8 text")
            }
            let table = try CSVTable(parsing: text, url: url)
            guard table.header == ["trajectory", "t"] + meta.variables else {
                throw TrajectoryDataError.corruptCache(url, "unexpected header \(table.header)")
            }
            let count = meta.counts[split.rawValue] ?? 0
            var states = [[Double]](repeating: [], count: count)
            var splitTimes: [[Double]] = .init(repeating: [], count: count)
            for (line, row) in table.rows.enumerated() {
                guard let index = Int(row[0]), index >= 0, index < count,
                      let t = CSV.number(row[1]) else {
                    throw TrajectoryDataError.corruptCache(url, "line \(line + 2): bad trajectory index or time")
                }
                splitTimes[index].append(t)
                for i in 0..<d {
                    guard let v = CSV.number(row[2 + i]) else { throw TrajectoryDataError.corruptCache(url, "line \(line + 2): bad number") }
                    states[index].append(v)
                }
            }
            if times.isEmpty, let first = splitTimes.first { times = first }
            guard splitTimes.allSatisfy({ $0 == times }) else {
                throw TrajectoryDataError.corruptCache(url, "trajectories do not share one time grid")
            }
            let seconds = meta.seconds[split.rawValue] ?? []
            splits[split] = states.enumerated().map { Trajectory(states: $1, seconds: $0 < seconds.count ? seconds[$0] : .nan) }
        }
        return TrajectoryData(problem: meta.problem, variables: meta.variables, times: times,
                              training: splits[.training] ?? [], validation: splits[.validation] ?? [],
                              test: splits[.test] ?? [], notes: meta.notes, key: key, directory: directory)
    }
}
