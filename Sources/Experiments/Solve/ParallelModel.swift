// Parallel local models for spatially extended systems (Pathak et al. 2018, PRL 120 024102; Barbosa & Gauthier
// 2022, Chaos 32 093137): the sites of the problem's array variables are cut into g patches; the model of patch j
// sees the patch plus a halo of l sites on each side and predicts the increments of its own patch only. Each patch
// has its own model (trained independently, in parallel threads), or with `shared` one model serves every patch
// (translational symmetry).
import Dispatch
import Foundation
import Problems
import Recurrent

/// `--groups g --halo l [--shared]`.
public struct ParallelSettings: Codable, Hashable, Sendable {
    public var groups: Int
    public var halo: Int
    public var shared: Bool
    public init(groups: Int, halo: Int, shared: Bool) { self.groups = groups; self.halo = halo; self.shared = shared }
}

/// Where the sites of a problem's array variables sit in the state vector: site i of array a is component
/// `offset_a + i`; every array has the same number of sites n and every component belongs to an array.
public struct SiteLayout: Sendable, Equatable {
    public struct Array: Sendable, Equatable {
        public var name: String
        /// Index of x[0] in the state vector.
        public var offset: Int
        public var count: Int
        /// Periodic: x[j] for j outside 0 … n−1 is x[j mod n]; otherwise it reads 0.
        public var periodic: Bool
        public init(name: String, offset: Int, count: Int, periodic: Bool) {
            self.name = name; self.offset = offset; self.count = count; self.periodic = periodic
        }
    }
    public var arrays: [Array]
    public var dimension: Int
    /// n: the sites of every array.
    public var sites: Int { arrays.first?.count ?? 0 }

    public init(arrays: [Array], dimension: Int) throws {
        guard let first = arrays.first else {
            throw SolveConfigurationError("--groups needs a problem with array variables ([dimensions] in the problem file); this one has none")
        }
        if let other = arrays.first(where: { $0.count != first.count }) {
            throw SolveConfigurationError("--groups needs array variables of one size: \(first.name) has \(first.count) sites, \(other.name) \(other.count)")
        }
        let covered = Set(arrays.flatMap { a in (a.offset..<(a.offset + a.count)) })
        if covered.count != dimension || arrays.reduce(0, { $0 + $1.count }) != dimension {
            let scalars = (0..<dimension).filter { !covered.contains($0) }.count
            throw SolveConfigurationError("--groups needs every variable to be an array variable; this problem also has \(scalars) scalar variable(s)")
        }
        self.arrays = arrays; self.dimension = dimension
    }

    /// The layout of `problem`'s array variables.
    public init(problem: Problem) throws {
        try self.init(arrays: problem.siteArrays, dimension: problem.dimension)
    }
}

extension Problem {
    /// The problem's array variables as `SiteLayout` arrays (empty when it has none).
    var siteArrays: [SiteLayout.Array] {
        arrayVariables.map { SiteLayout.Array(name: $0.name, offset: $0.offset, count: $0.count, periodic: $0.boundary == .periodic) }
    }
}

/// One patch: which input columns (of the full normalised state; nil outside a zero boundary, read as `fill`)
/// its model sees, and which output columns it predicts.
public struct Patch: Sendable, Equatable {
    public var inputColumns: [Int?]
    public var fill: [Double]
    public var outputColumns: [Int]
}

public enum ParallelPartition {
    /// Checks g and l against the layout; messages name the options.
    public static func validate(_ settings: ParallelSettings, layout: SiteLayout) throws {
        let n = layout.sites
        if settings.groups < 1 || settings.groups > n {
            throw SolveConfigurationError("--groups must be between 1 and the \(n) sites of \(layout.arrays[0].name) (got \(settings.groups))")
        }
        if settings.halo < 0 || settings.halo > n {
            throw SolveConfigurationError("--halo must be between 0 and the \(n) sites (got \(settings.halo))")
        }
        if settings.shared && n % settings.groups != 0 {
            throw SolveConfigurationError("--shared needs patches of one size: --groups \(settings.groups) does not divide the \(n) sites")
        }
    }

    /// The inputs of the widest patch: (⌈n/g⌉ + 2l) sites of every array (without checking the settings).
    public static func largestPatchInputs(_ settings: ParallelSettings, layout: SiteLayout) -> Int {
        let g = max(settings.groups, 1)
        return ((layout.sites + g - 1) / g + 2 * max(settings.halo, 0)) * layout.arrays.count
    }

    /// Patch j holds sites ⌊jn/g⌋ … ⌊(j+1)n/g⌋ − 1 and reads l more on each side; within a site the arrays come in
    /// layout order. A site outside a zero boundary reads raw 0, i.e. (0 − μ)/σ with the nearest site's statistics.
    public static func patches(_ settings: ParallelSettings, layout: SiteLayout, normalization: Normalization) -> [Patch] {
        let n = layout.sites, g = settings.groups, l = settings.halo
        return (0..<g).map { j in
            let start = j * n / g, end = (j + 1) * n / g
            var inputs: [Int?] = [], fill: [Double] = [], outputs: [Int] = []
            for site in (start - l)..<(end + l) {
                for a in layout.arrays {
                    if a.periodic || (0..<n).contains(site) {
                        inputs.append(a.offset + ((site % n) + n) % n); fill.append(0)
                    } else {
                        let nearest = a.offset + min(max(site, 0), n - 1)
                        inputs.append(nil); fill.append(normalization.z(0, nearest))
                    }
                }
            }
            for site in start..<end { for a in layout.arrays { outputs.append(a.offset + site) } }
            return Patch(inputColumns: inputs, fill: fill, outputColumns: outputs)
        }
    }
}

/// The full state stepped by one model per patch: each is fed its columns of z and writes its own increments.
public final class ParallelStepper: LearnedStepper {
    let parts: [(stepper: LearnedStepper, patch: Patch)]
    let dimension: Int
    let sharedParameters: Int

    init(parts: [(LearnedStepper, Patch)], dimension: Int, parameterCount: Int) {
        self.parts = parts.map { (stepper: $0.0, patch: $0.1) }; self.dimension = dimension; sharedParameters = parameterCount
    }

    public var parameterCount: Int { sharedParameters }
    public func reset() { for part in parts { part.stepper.reset() } }

    public func advance(_ z: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: dimension)
        for part in parts {
            let p = part.patch
            var input = [Double](repeating: 0, count: p.inputColumns.count)
            for (k, column) in p.inputColumns.enumerated() { input[k] = column.map { z[$0] } ?? p.fill[k] }
            let output = part.stepper.advance(input)
            for (k, column) in p.outputColumns.enumerated() { g[column] = output[k] }
        }
        return g
    }
}

/// A `ParallelStepper` whose models can step batches: B trajectories advance together, the rows of model m's
/// batch being (trajectory b, patch k of the patches m serves) at row b·P_m + k. With a shared model that is one
/// batch of B·g rows per step; otherwise one batch of B rows per patch. Gathering a patch's inputs and scattering
/// its outputs reuse buffers allocated once. Equal to B separate `ParallelStepper`s wherever the models' batch
/// steppers equal their single steppers (bit for bit for `esn`).
public final class BatchableParallelStepper: LearnedStepper, BatchSteppable {
    let single: ParallelStepper
    let models: [BatchSteppable]
    let patches: [Patch]

    init(_ single: ParallelStepper, models: [BatchSteppable], patches: [Patch]) {
        precondition(models.count == 1 || models.count == patches.count)
        self.single = single; self.models = models; self.patches = patches
    }

    public var parameterCount: Int { single.parameterCount }
    public func reset() { single.reset() }
    public func advance(_ z: [Double]) -> [Double] { single.advance(z) }

    public func makeBatchStepper(batch: Int) -> BatchStepper {
        let served: [[Int]] = models.count == 1 ? [Array(patches.indices)] : patches.indices.map { [$0] }
        return ParallelBatchStepper(batch: batch, dimension: single.dimension, patches: patches,
                                    steppers: models.indices.map { models[$0].makeBatchStepper(batch: batch * served[$0].count) },
                                    served: served)
    }
    public var batchesRunConcurrently: Bool { models.allSatisfy(\.batchesRunConcurrently) }
}

/// B trajectories of a parallel model: batch stepper m serves patches `served[m]` (all of one input and output
/// size), its row b·P_m + k being trajectory b's patch `served[m][k]`.
final class ParallelBatchStepper: BatchStepper {
    let batch: Int
    let dimension: Int
    let steppers: [BatchStepper]
    /// Per batch stepper: the input column of z (or −1 for the fill) and the fill, for every (row, input).
    private let gather: [(columns: [Int], fill: [Double], width: Int)]
    /// Per batch stepper: the column of ĝ written by every (row, output).
    private let scatter: [(columns: [Int], width: Int)]
    private var inputs: [[Double]]
    private var outputs: [[Double]]

    init(batch: Int, dimension: Int, patches: [Patch], steppers: [BatchStepper], served: [[Int]]) {
        precondition(steppers.count == served.count)
        self.batch = batch; self.dimension = dimension; self.steppers = steppers
        var gather: [(columns: [Int], fill: [Double], width: Int)] = [], scatter: [(columns: [Int], width: Int)] = []
        for (m, list) in served.enumerated() {
            let width = patches[list[0]].inputColumns.count, outWidth = patches[list[0]].outputColumns.count
            precondition(list.allSatisfy { patches[$0].inputColumns.count == width && patches[$0].outputColumns.count == outWidth })
            precondition(steppers[m].batch == batch * list.count)
            var columns: [Int] = [], fill: [Double] = [], outColumns: [Int] = []
            for b in 0..<batch {
                for j in list {
                    let p = patches[j]
                    for (k, column) in p.inputColumns.enumerated() {
                        columns.append(column.map { b * dimension + $0 } ?? -1); fill.append(p.fill[k])
                    }
                    for column in p.outputColumns { outColumns.append(b * dimension + column) }
                }
            }
            gather.append((columns, fill, width)); scatter.append((outColumns, outWidth))
        }
        self.gather = gather; self.scatter = scatter
        inputs = gather.map { [Double](repeating: 0, count: $0.columns.count) }
        outputs = scatter.map { [Double](repeating: 0, count: $0.columns.count) }
    }

    func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        for m in steppers.indices {
            let (columns, fill, _) = gather[m]
            inputs[m].withUnsafeMutableBufferPointer { u in
                columns.withUnsafeBufferPointer { c in
                    for r in 0..<c.count { u[r] = c[r] >= 0 ? z[c[r]] : fill[r] }
                }
                outputs[m].withUnsafeMutableBufferPointer { y in
                    steppers[m].advance(UnsafePointer(u.baseAddress!), into: y.baseAddress!)
                    scatter[m].columns.withUnsafeBufferPointer { c in
                        for r in 0..<c.count { g[c[r]] = y[r] }
                    }
                }
            }
        }
    }
}

/// The trained models of every patch (one when shared).
public final class ParallelTrainedModel: TrainedModel {
    public let models: [TrainedModel]
    public let patches: [Patch]
    public let dimension: Int

    init(models: [TrainedModel], patches: [Patch], dimension: Int) {
        precondition(models.count == 1 || models.count == patches.count)
        self.models = models; self.patches = patches; self.dimension = dimension
    }

    public var parameterCount: Int { models.reduce(0) { $0 + $1.parameterCount } }
    /// A `BatchableParallelStepper` when every model's stepper can step a batch (rollouts then advance all
    /// trajectories and, with a shared model, all patches in one batch), else the plain `ParallelStepper`.
    public func makeStepper() -> LearnedStepper {
        let stepper = ParallelStepper(parts: patches.indices.map { (models[models.count == 1 ? 0 : $0].makeStepper(), patches[$0]) },
                                      dimension: dimension, parameterCount: parameterCount)
        let batchable = models.compactMap { $0.makeStepper() as? BatchSteppable }
        guard batchable.count == models.count else { return stepper }
        return BatchableParallelStepper(stepper, models: batchable, patches: patches)
    }
    /// One checkpoint per model: see `checkpoints(metadata:)`.
    public func checkpoint(metadata: [String: [Double]]) -> Checkpoint {
        preconditionFailure("a parallel model is saved as one checkpoint per model")
    }
    public func checkpoints(metadata: [String: [Double]]) -> [Checkpoint] { models.map { $0.checkpoint(metadata: metadata) } }

    /// The teacher-forcing data of each patch (all patches concatenated into one set when shared).
    static func partData(_ data: TeacherForcing, patches: [Patch], shared: Bool) -> [TeacherForcing] {
        let parts = patches.map { data.selecting(inputColumns: $0.inputColumns, fill: $0.fill, outputColumns: $0.outputColumns) }
        return shared ? [TeacherForcing.concatenating(parts)] : parts
    }

    /// Trains one model per patch (or one shared), in parallel threads when `threads` > 1. Model j is seeded with
    /// seed + j (the single model's seed when g = 1).
    static func train(_ registration: ModelRegistration, request: TrainingRequest, patches: [Patch], shared: Bool,
                      resumeURL: @escaping (Int) -> URL, threads: Int) throws -> ParallelTrainedModel {
        let training = partData(request.training, patches: patches, shared: shared)
        let validation = request.validation.map { partData($0, patches: patches, shared: shared) }
        let requests: [TrainingRequest] = training.indices.map { j in
            var r = request
            r.configuration.seed = request.configuration.seed &+ UInt64(j)
            r.training = training[j]
            r.validation = validation?[j]
            r.resumeURL = resumeURL(j)
            r.rolloutSelection = nil  // a part sees only its patch's columns: it cannot roll out the whole state
            if training.count > 1 && threads > 1 { r.configuration.showProgress = false }
            return r
        }
        let results = ResultSlots(count: requests.count)
        if threads > 1 && requests.count > 1 {
            let log = UncheckedLog(request.log)
            let chunks = min(threads, requests.count)
            let all = UncheckedBox(requests)
            DispatchQueue.concurrentPerform(iterations: chunks) { worker in
                for j in stride(from: worker, to: all.value.count, by: chunks) {
                    var r = all.value[j]
                    r.log = { message in log.write(message) }
                    results.set(j, Result { try registration.train(r) })
                }
            }
        } else {
            for j in requests.indices { results.set(j, Result { try registration.train(requests[j]) }) }
        }
        let models = try results.values.map { try $0!.get() }
        return ParallelTrainedModel(models: models, patches: patches, dimension: request.training.inputSize)
    }
}

/// Results written by worker threads, each to its own slot.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<TrainedModel, Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<TrainedModel, Error>) { lock.lock(); slots[index] = value; lock.unlock() }
    var values: [Result<TrainedModel, Error>?] { lock.lock(); defer { lock.unlock() }; return slots }
}

/// A log callable from worker threads, one message at a time.
private final class UncheckedLog: @unchecked Sendable {
    private let lock = NSLock()
    private let log: (String) -> Void
    init(_ log: @escaping (String) -> Void) { self.log = log }
    func write(_ message: String) { lock.lock(); log(message); lock.unlock() }
}

/// A value handed to worker threads that only read it.
private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
