// Whole reads and writes on a file descriptor: the one loop that retries after EINTR and short transfers, and
// reports the errno of the call that failed (every module's file and stream I/O goes through it).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Descriptor {
    /// write(2), as a function that can be passed where a write call is injected (tests simulate short writes).
    public static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
        write(descriptor, bytes, count)
    }

    /// Writes all of `bytes` to `descriptor`, retrying after a short write or EINTR. Returns nil on success, or the
    /// number of bytes written and the errno of the call that failed (a call that writes nothing is reported as
    /// ENOSPC, which is what a full device means by it).
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer,
                                using write: (Int32, UnsafeRawPointer?, Int) -> Int = systemWrite) -> (written: Int, errorNumber: Int32)? {
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count > 0 { written += count; continue }
            if count < 0 && errno == EINTR { continue }
            return (written, count == 0 ? ENOSPC : errno)
        }
        return nil
    }

    /// Why `readAll` stopped early.
    public enum ReadFailure: Error, Equatable, Sendable {
        /// read(2) failed with this errno.
        case system(Int32)
        /// More than the limit was there.
        case tooLarge
    }

    /// Everything `descriptor` has from its current position to the end, retrying after EINTR; more than `limit`
    /// bytes (when given) stops the read.
    public static func readAll(_ descriptor: Int32, limit: Int? = nil) -> Result<[UInt8], ReadFailure> {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += buffer[0..<count]
                if let limit, bytes.count > limit { return .failure(.tooLarge) }
                continue
            }
            if count == 0 { return .success(bytes) }
            if errno == EINTR { continue }
            return .failure(.system(errno))
        }
    }
}
