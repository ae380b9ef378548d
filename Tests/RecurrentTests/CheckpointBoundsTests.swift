// Fuzzer findings kept fixed: a checkpoint with a valid checksum but absurd sizes is malformed, not a trap or a hang.
import Foundation
import Testing
@testable import Recurrent

@Suite struct CheckpointBoundsTests {
    private func problem(_ body: () throws -> Void) -> CheckpointError.Problem? {
        do { try body(); return nil } catch let error as CheckpointError { return error.problem } catch { return nil }
    }

    @Test(arguments: [#""hiddenSize":1099511627776"#, #""layers":4611686018427387904"#, #""inputSize":4611686018427387904"#])
    func hugeNetworkSizesAreMalformed(replacement: String) throws {
        let network = RecurrentNetwork(configuration: NetworkConfiguration(cell: .gru, inputSize: 2, hiddenSize: 3, layers: 1, outputSize: 2), seed: 1)
        var checkpoint = network.checkpoint()
        let key = replacement.split(separator: ":")[0]
        let json = try #require(checkpoint.strings["network.configuration"])
        checkpoint.strings["network.configuration"] = json.replacingOccurrences(
            of: "\(key):[0-9]+", with: replacement, options: .regularExpression)
        #expect(checkpoint.strings["network.configuration"] != json)
        guard case .malformed = problem({ _ = try RecurrentNetwork(checkpoint: checkpoint) }) else {
            Issue.record("\(replacement) was not reported as malformed"); return
        }
    }

    @Test(arguments: ["size", "inputSize", "outputSize"])
    func hugeReservoirSizesAreMalformed(field: String) throws {
        var configuration = ReservoirConfiguration(inputSize: 2, outputSize: 2)
        configuration.size = 8
        let esn = try EchoStateNetwork(configuration: configuration, seed: 1)
        var checkpoint = esn.checkpoint()
        let json = try #require(checkpoint.strings["reservoir.configuration"])
        checkpoint.strings["reservoir.configuration"] = json.replacingOccurrences(
            of: "\"\(field)\":[0-9]+", with: "\"\(field)\":4294967296", options: .regularExpression)
        #expect(checkpoint.strings["reservoir.configuration"] != json)
        guard case .malformed = problem({ _ = try EchoStateNetwork(checkpoint: checkpoint) }) else {
            Issue.record("\(field) = 2³² was not reported as malformed"); return
        }
    }
}
