// The measurement behind `rnnode bench train`: data-parallel training throughput (forward, backward, clipping,
// Adam step) at one thread count, the share of its time spent in GEMMs, the GEMM rate it reaches against the
// machine's dgemm peak with as many threads, and the memory it needs.
import Foundation
import Recurrent

/// What to time: one network on random data of one shape.
public struct TrainingBenchmarkConfiguration: Codable, Equatable, Sendable {
    public var cell: CellKind
    public var inputSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var outputSize: Int
    public var steps: Int
    public var batch: Int
    /// Data-parallel threads of the training step (each with single-threaded BLAS), and OpenBLAS threads of the
    /// dgemm peak.
    public var threads: Int
    /// Timed batches (after `warmup` untimed ones).
    public var iterations: Int
    public var warmup: Int
    /// Side of the square matrices of the dgemm (sgemm for single precision) peak probe; 0 skips the probe.
    public var peakSize: Int
    /// The arithmetic of the forward and backward passes.
    public var precision: Precision
    public init(cell: CellKind = .lstm, inputSize: Int = 3, hiddenSize: Int = 64, layers: Int = 1, outputSize: Int = 1,
                steps: Int = 32, batch: Int = 64, threads: Int = 1, iterations: Int = 50, warmup: Int = 5, peakSize: Int = 1024,
                precision: Precision = .double) {
        self.cell = cell; self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers
        self.outputSize = outputSize; self.steps = steps; self.batch = batch; self.threads = threads
        self.iterations = iterations; self.warmup = warmup; self.peakSize = peakSize; self.precision = precision
    }
}

public struct TrainingBenchmarkResult: Sendable {
    public var configuration: TrainingBenchmarkConfiguration
    /// Training sequences per second (batch / mean seconds per batch).
    public var sequencesPerSecond: Double
    public var meanSecondsPerBatch: Double
    public var bestSecondsPerBatch: Double
    /// GEMM floating-point operations in one batch, and the rate they ran at (counting the whole batch time).
    public var gemmOperationsPerBatch: Double
    public var achievedGigaflops: Double
    /// Seconds inside GEMMs summed over the threads, over threads × the timed wall seconds.
    public var gemmShare: Double
    /// The GEMMs' own rate: their operations over the time spent in them (per thread, times the threads).
    public var gemmGigaflops: Double
    /// dgemm (sgemm in single precision) on large square matrices with the same threads; nil when skipped.
    public var peakGigaflops: Double?
    public var fractionOfPeak: Double? { peakGigaflops.map { achievedGigaflops / $0 } }
    /// BPTT caches and scratch, parameters + gradient + Adam moments, and the process's peak resident set.
    public var cacheBytes: Int
    public var parameterStateBytes: Int
    public var maxResidentBytes: Int
    public var blasDescription: String
}

/// Trains a freshly initialised network on one fixed random batch `iterations` times on `threads` threads and
/// reports the rates. The peak resident set is read before the dgemm probe, whose matrices would otherwise dominate it.
public func runTrainingBenchmark(_ c: TrainingBenchmarkConfiguration) -> TrainingBenchmarkResult {
    precondition(c.iterations > 0 && c.batch > 0 && c.steps > 0 && c.threads > 0)
    LinearAlgebra.threads = 1
    let network = RecurrentNetwork(configuration: .init(cell: c.cell, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
                                                        layers: c.layers, outputSize: c.outputSize), seed: 1,
                                   precision: c.precision)
    var rng = Xoshiro256StarStar(seed: 2)
    let data = SequenceDataset(count: c.batch, steps: c.steps, inputSize: c.inputSize, outputSize: c.outputSize,
                               inputs: (0..<(c.batch * c.steps * c.inputSize)).map { _ in rng.nextSymmetric(1) },
                               targets: (0..<(c.batch * c.steps * c.outputSize)).map { _ in rng.nextSymmetric(1) })
    var options = TrainingOptions()
    options.batchSize = c.batch; options.progress = false
    let trainer = Trainer(network: network, options: options)
    trainer.threads = c.threads
    let indices = Array(0..<c.batch)
    for _ in 0..<c.warmup { _ = trainer.trainBatch(data, indices: indices) }
    var total = 0.0, best = Double.infinity
    let (_, gemmSeconds) = LinearAlgebra.timingGEMMs {
        for _ in 0..<c.iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = trainer.trainBatch(data, indices: indices)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            total += seconds; best = min(best, seconds)
        }
    }
    let mean = total / Double(c.iterations)
    let operations = Trainer.gemmOperationsPerBatch(network.configuration, batch: c.batch, steps: c.steps)
    let resident = maxResidentBytes()
    let peak: Double? = c.peakSize > 0 ? {
        LinearAlgebra.threads = c.threads
        defer { LinearAlgebra.threads = 1 }
        return LinearAlgebra.gemmGigaflops(size: c.peakSize, precision: c.precision)
    }() : nil
    let slices = Double(min(c.threads, c.batch))
    return TrainingBenchmarkResult(
        configuration: c, sequencesPerSecond: Double(c.batch) / mean, meanSecondsPerBatch: mean, bestSecondsPerBatch: best,
        gemmOperationsPerBatch: operations, achievedGigaflops: operations / mean * 1e-9,
        gemmShare: gemmSeconds / (slices * total),
        gemmGigaflops: operations * Double(c.iterations) / max(gemmSeconds / slices, 1e-12) * 1e-9, peakGigaflops: peak,
        cacheBytes: trainer.cacheBytes, parameterStateBytes: 4 * network.parameterCount * MemoryLayout<Double>.stride,
        maxResidentBytes: resident, blasDescription: LinearAlgebra.libraryDescription)
}

/// The process's peak resident set size (getrusage; Linux reports kilobytes).
public func maxResidentBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    #if os(Linux)
    return usage.ru_maxrss * 1024
    #else
    return usage.ru_maxrss
    #endif
}
