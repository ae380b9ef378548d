// Fuzz target: checkpoints. The input is read as a checkpoint file twice: as it is (header, length and
// checksum checks), and with its length field and FNV-1a checksum recomputed so that mutations reach the payload
// parser. A checkpoint that decodes is handed to both network loaders (JSON configuration, array sizes).
// An input that starts with `{` is a network configuration instead: it is put in an otherwise valid checkpoint
// of each kind, so that mutations reach the loaders' size checks directly.
import Foundation
import FuzzSupport
import Recurrent

private let prepared: Void = FuzzInput.prepare()
private let magic: [UInt8] = [0x89, 0x52, 0x4E, 0x4E, 0x43, 0x4B, 0x50, 0x0A]
private let headerBytes = 20

/// FNV-1a 64 over `bytes`, the checkpoint's checksum (the root package's StableHash is not a product).
private func fnv1a64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
}

/// The input with magic, version 1, a correct payload length and a correct checksum; the payload is what lies
/// between the header and the last 8 bytes.
private func repaired(_ input: [UInt8]) -> [UInt8]? {
    guard input.count >= headerBytes + 8 else { return nil }
    let payload = input[headerBytes..<(input.count - 8)]
    var bytes = magic
    withUnsafeBytes(of: UInt32(1).littleEndian) { bytes += $0 }
    withUnsafeBytes(of: UInt64(payload.count).littleEndian) { bytes += $0 }
    bytes += payload
    withUnsafeBytes(of: fnv1a64(bytes[...]).littleEndian) { bytes += $0 }
    return bytes == input ? nil : bytes
}

private func load(_ bytes: [UInt8]) {
    let checkpoint: Checkpoint
    do {
        checkpoint = try Checkpoint.read(from: FuzzInput.file(bytes))
    } catch let error as CheckpointError {
        _ = error.description
        return
    } catch {
        fatalError("Checkpoint.read threw \(type(of: error)), not a CheckpointError: \(error)")
    }
    do { _ = try RecurrentNetwork(checkpoint: checkpoint) } catch { _ = "\(error)" }
    do { _ = try EchoStateNetwork(checkpoint: checkpoint) } catch { _ = "\(error)" }
}

/// Both loaders on a checkpoint whose configuration string is `json` and whose arrays are small.
private func loadConfiguration(_ json: String) {
    let arrays = Dictionary(uniqueKeysWithValues: ["network.parameters", "reservoir.W", "reservoir.W_in", "reservoir.b",
                                                   "reservoir.W_out", "reservoir.spectralRadius"].map { ($0, [Double](repeating: 0.5, count: 16)) })
    let recurrent = Checkpoint(kind: "recurrent-network", arrays: arrays, strings: ["network.configuration": json])
    do { _ = try RecurrentNetwork(checkpoint: recurrent) } catch { _ = "\(error)" }
    let reservoir = Checkpoint(kind: "echo-state-network", arrays: arrays, strings: ["reservoir.configuration": json])
    do { _ = try EchoStateNetwork(checkpoint: reservoir) } catch { _ = "\(error)" }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = prepared
    guard let data else { return 0 }
    let input = FuzzInput.bytes(data, size)
    if input.first == UInt8(ascii: "{") {
        if let json = FuzzInput.text(data, size) { loadConfiguration(json) }
        return 0
    }
    load(input)
    if let fixed = repaired(input) { load(fixed) }
    return 0
}

@_cdecl("fuzz_checkpoint_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzCheckpoint)
}
