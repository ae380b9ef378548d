// What every fuzz target shares: the input as text the way the readers see files, a private scratch file for
// readers that only take a URL, and the environment the targets run in.
import Foundation

public enum FuzzInput {
    /// The bytes as UTF-8 text, or nil: the file readers decode with `String(contentsOf:encoding: .utf8)`, which
    /// refuses invalid UTF-8 before any parser sees it.
    public static func text(_ data: UnsafePointer<UInt8>, _ size: Int) -> String? {
        String(bytes: UnsafeBufferPointer(start: data, count: size), encoding: .utf8)
    }

    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// One scratch file per process (libFuzzer's -jobs/-fork run several), rewritten for each input; in memory
    /// (/dev/shm) where there is one.
    public static let scratchFile: URL = {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
        return URL(fileURLWithPath: folder).appendingPathComponent("rnnode-fuzz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }()

    /// Writes `bytes` to `scratchFile` and returns its URL (plain write(2): FileManager's is far slower).
    public static func file(_ bytes: [UInt8]) -> URL {
        let url = scratchFile
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot open the scratch file \(url.path): errno \(errno)")
        var written = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                precondition(n > 0, "cannot write the scratch file \(url.path): errno \(errno)")
                written += n
            }
        }
        close(descriptor)
        return url
    }

    /// Once per process: interpreted expressions only (no C compiler run per input), no catalog lookups through
    /// the working directory, and the scratch file removed at exit.
    public static func prepare() {
        setenv("RNNODE_NATIVE", "0", 1)
        atexit { unlink(FuzzInput.scratchFile.path) }
    }
}

/// A property every input must have: stops the run with `message` (fatalError, unlike precondition, keeps the
/// message in release builds, so the reproducer's log says what failed).
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// libFuzzer's driver: parses the libFuzzer options in argv and runs `callback` on each input.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's `main`: SwiftPM links an executable target's entry point as `<module>_main`, so each target
/// defines that symbol and hands control to libFuzzer's driver (libFuzzer's own `main` is then not linked).
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}

/// Inputs that reach the two assertions of the TOML library found so far (fuzz/regressions/*/toml-*): an array
/// value position (after `[` or `,`) closed by `}`, and a table header whose key starts with a character no key can start with.
/// Long local runs set `FUZZ_SKIP_KNOWN_TOML=1` to pass over them, so that fuzzing goes on to what lies behind
/// the TOML parser instead of restarting at every abort. The rules are looser than the library's (they skip some
/// inputs that would only be errors); `make fuzz` and `make fuzz-smoke` never skip.
public enum KnownTOMLAssertions {
    public static let skipping = ProcessInfo.processInfo.environment["FUZZ_SKIP_KNOWN_TOML"] == "1"
    // Read-only once built; a fuzz target calls them from one thread.
    nonisolated(unsafe) private static let arrayClosedByBrace = try! Regex(#"[\[,](\s|#[^\n]*\n)*\}"#)
    nonisolated(unsafe) private static let headerWithoutKey = try! Regex(#"(^|\n)[ \t]*\[\[?[ \t]*[^A-Za-z0-9_\-"'\]]"#)

    public static func skip(_ text: String) -> Bool {
        skipping && (text.contains(arrayClosedByBrace) || text.contains(headerWithoutKey))
    }
}
