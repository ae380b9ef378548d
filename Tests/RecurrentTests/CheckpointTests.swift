// Checkpoint files: round trip, and every kind of damage rejected with a clear error naming the file.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

func temporaryFile(_ name: String) -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-ckpt-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name)
}

func problem(_ body: () throws -> Void) -> CheckpointError.Problem? {
    do { try body(); return nil } catch let e as CheckpointError { return e.problem } catch { return nil }
}

@Test func networkRoundTripsThroughAFile() throws {
    let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 2, hiddenSize: 4, layers: 2, outputSize: 1), seed: 5)
    let url = temporaryFile("net.ckpt")
    try network.checkpoint(metadata: ["mean": [1.5, -2], "empty": []]).write(to: url)
    let read = try Checkpoint.read(from: url)
    let restored = try RecurrentNetwork(checkpoint: read)
    #expect(restored.configuration == network.configuration && restored.parameters == network.parameters)
    #expect(read.arrays["mean"] == [1.5, -2] && read.arrays["empty"] == [])
    let x = [0.1, 0.2, 0.3, 0.4]
    #expect(restored.predict(x, batch: 1, steps: 2) == network.predict(x, batch: 1, steps: 2))
    // no temporary file left behind
    #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["net.ckpt"])
    // equal checkpoints give equal bytes
    #expect(network.checkpoint().encoded() == restored.checkpoint().encoded())
}

@Test func damagedFilesAreRejected() throws {
    let url = temporaryFile("d.ckpt")
    let network = RecurrentNetwork(configuration: .init(cell: .lstm, inputSize: 1, hiddenSize: 3, outputSize: 1), seed: 1)
    let good = network.checkpoint(metadata: ["x": [1, 2, 3]]).encoded()
    func check(_ bytes: [UInt8]) -> CheckpointError.Problem? {
        try! Data(bytes).write(to: url)
        return problem { _ = try Checkpoint.read(from: url) }
    }
    // a bit flip anywhere in the payload
    for position in stride(from: 20, to: good.count - 8, by: 37) {
        var flipped = good; flipped[position] ^= 0x10
        guard case .checksumMismatch = check(flipped) else { Issue.record("bit flip at \(position) not detected"); continue }
    }
    guard case .truncated = check(Array(good.prefix(good.count - 1))) else { Issue.record("truncation"); return }
    guard case .truncated = check(Array(good.prefix(10))) else { Issue.record("short header"); return }
    guard case .trailingBytes = check(good + [0]) else { Issue.record("trailing"); return }
    #expect(check(Array("hello, world".utf8)) == .notACheckpoint)
    #expect(check([]) == .notACheckpoint)
    var version = good; version[8] = 9
    #expect(check(version) == .unsupportedVersion(found: 9, supported: 1))
    #expect(check(good) == nil)
    // missing file
    guard case .unreadable = problem({ _ = try Checkpoint.read(from: url.appendingPathExtension("missing")) }) else { Issue.record("missing"); return }
    // the message names the file
    do { _ = try Checkpoint.read(from: url.appendingPathExtension("missing")) } catch { #expect("\(error)".contains("d.ckpt.missing")) }
}

@Test func checkpointsOfTheWrongKindOrShapeAreRejected() throws {
    let network = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 3, outputSize: 1), seed: 1)
    var c = network.checkpoint()
    c.arrays["network.parameters"]!.removeLast()
    guard case .mismatch = problem({ _ = try RecurrentNetwork(checkpoint: c) }) else { Issue.record("short parameters"); return }
    var config = network.checkpoint(); config.strings["network.configuration"] = "{\"cell\": \"transformer\"}"
    guard case .malformed = problem({ _ = try RecurrentNetwork(checkpoint: config) }) else { Issue.record("bad configuration"); return }
    let esn = try EchoStateNetwork(configuration: .init(inputSize: 1, outputSize: 1), seed: 1)
    #expect(problem({ _ = try RecurrentNetwork(checkpoint: esn.checkpoint()) }) == .wrongKind(expected: "recurrent-network", found: "echo-state-network"))
}

@Test func resumingWithAnotherConfigurationIsAnError() throws {
    let url = temporaryFile("m.ckpt")
    let data = randomDataset(count: 4, steps: 4, inputSize: 1, outputSize: 1, lossFromStep: 0)
    let options = quietOptions(epochs: 1, batchSize: 2)
    _ = try Trainer(network: RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 3, outputSize: 1), seed: 1),
                    options: options).fit(training: data, validation: nil, checkpoint: url)
    let other = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 4, outputSize: 1), seed: 1)
    guard case .mismatch(let m) = problem({ _ = try Trainer(network: other, options: options).fit(training: data, validation: nil, checkpoint: url) })
    else { Issue.record("configuration mismatch not detected"); return }
    #expect(m.contains("hiddenSize"))
    var changed = options; changed.learningRate = 0.5
    let same = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 3, outputSize: 1), seed: 1)
    guard case .mismatch = problem({ _ = try Trainer(network: same, options: changed).fit(training: data, validation: nil, checkpoint: url) })
    else { Issue.record("options mismatch not detected"); return }
    guard case .mismatch = problem({ _ = try Trainer(network: same, options: options).fit(training: randomDataset(count: 4, steps: 4, inputSize: 1, outputSize: 1, lossFromStep: 0, seed: 99), validation: nil, checkpoint: url) })
    else { Issue.record("data mismatch not detected"); return }
}
