// Errors in words: Foundation's file errors (CocoaError, NSError, POSIXError) rendered with their path and errno.
import Foundation

/// How the CLI shows an error that is not ArgumentParser's own: Foundation's file errors in words
/// (`cannot write results/x.csv: Permission denied`) instead of `NSCocoaErrorDomain Code=512 "(null)"`.
enum ErrorText {
    static func describe(_ error: any Error) -> String {
        if let failure = error as? OutputFailure { return failure.description }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        if let cocoa = error as? CocoaError { return describe(cocoa: cocoa.errorCode, userInfo: cocoa.userInfo) }
        if let ns = foundationError(error) {
            if ns.domain == NSPOSIXErrorDomain { return withPath(ns.userInfo, String(cString: strerror(Int32(ns.code)))) }
            return describe(cocoa: ns.code, userInfo: ns.userInfo)
        }
        return String(describing: error)
    }

    /// Whether `error` is one of Foundation's (Cocoa, POSIX) rather than a Swift error of ours or ArgumentParser's.
    static func isFoundationError(_ error: any Error) -> Bool {
        error is OutputFailure || error is POSIXError || error is CocoaError || foundationError(error) != nil
    }

    private static func foundationError(_ error: any Error) -> NSError? {
        guard type(of: error) is NSError.Type else { return nil }
        let ns = error as NSError
        return ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain ? ns : nil
    }

    /// A Cocoa file error: the action its code stands for, the path, and the reason (errno of the underlying
    /// POSIX error, else the code's meaning).
    static func describe(cocoa code: Int, userInfo: [String: Any]) -> String {
        let read: Set<Int> = [CocoaError.fileReadUnknown.rawValue, CocoaError.fileReadNoPermission.rawValue,
                              CocoaError.fileReadNoSuchFile.rawValue, CocoaError.fileReadCorruptFile.rawValue,
                              CocoaError.fileReadInapplicableStringEncoding.rawValue,
                              CocoaError.fileReadUnknownStringEncoding.rawValue, CocoaError.fileReadTooLarge.rawValue,
                              CocoaError.fileReadInvalidFileName.rawValue]
        let action = read.contains(code) ? "cannot read" : (code >= 512 && code < 1024 ? "cannot write" : "cannot access")
        var reason: String
        // The underlying error comes back as a POSIXError on Linux, as an NSError elsewhere.
        let underlying = userInfo[NSUnderlyingErrorKey]
        let errorNumber: Int32? = (underlying as? POSIXError).map { $0.code.rawValue }
            ?? (underlying as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
        if let errorNumber {
            reason = String(cString: strerror(errorNumber))
        } else {
            switch CocoaError.Code(rawValue: code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = String(cString: strerror(ENOENT))
            case .fileReadNoPermission, .fileWriteNoPermission: reason = String(cString: strerror(EACCES))
            case .fileWriteOutOfSpace: reason = String(cString: strerror(ENOSPC))
            case .fileWriteVolumeReadOnly: reason = String(cString: strerror(EROFS))
            case .fileWriteFileExists: reason = String(cString: strerror(EEXIST))
            case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding:
                reason = "not text in the expected encoding (UTF-8)"
            case .fileReadTooLarge: reason = "too large to read"
            case .fileReadCorruptFile: reason = "not in the expected format"
            default: reason = "error \(code)"
            }
        }
        if let path = path(in: userInfo) { return "\(action) \(path): \(reason)" }
        return "\(action) a file: \(reason)"
    }

    private static func path(in userInfo: [String: Any]) -> String? {
        if let path = userInfo[NSFilePathErrorKey] as? String { return path }
        if let url = userInfo[NSURLErrorKey] as? URL { return url.path }
        return nil
    }

    private static func withPath(_ userInfo: [String: Any], _ reason: String) -> String {
        path(in: userInfo).map { "\($0): \(reason)" } ?? reason
    }
}
