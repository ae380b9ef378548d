// Names used as file names: a problem, matrix, model or cell name becomes one path component inside the output
// folder, never a path. Checked where the paths are built, whatever the parser let through.
import Foundation

public enum OutputName {
    /// The longest name accepted (file systems allow 255 bytes per component; suffixes are added to it).
    public static let maximumLength = 128

    /// `name` when it can be one component of a file name: not empty, not `.` or `..`, no `/` or NUL, no control
    /// characters, not starting with `-` (a program such as gnuplot would read it as an option), at most
    /// `maximumLength` bytes. Otherwise an error naming `what` and the name.
    @discardableResult
    public static func component(_ name: String, what: String) throws -> String {
        func fail(_ why: String) throws -> Never {
            throw OutputNameError(description: "\(what) '\(name.debugDescriptionWithoutQuotes)' cannot be used in a file name: \(why)")
        }
        if name.isEmpty { try fail("it is empty") }
        if name == "." || name == ".." { try fail("'\(name)' is a directory reference") }
        if name.contains("/") { try fail("it contains '/'") }
        if name.hasPrefix("-") { try fail("it starts with '-'") }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { try fail("it contains a control character") }
        if name.utf8.count > maximumLength { try fail("it is longer than \(maximumLength) bytes") }
        return name
    }

    /// `directory/name`, after checking that `name` is a single component (see `component`).
    public static func file(_ name: String, in directory: URL, what: String) throws -> URL {
        directory.appendingPathComponent(try component(name, what: what))
    }
}

public struct OutputNameError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension String {
    /// The string with control characters escaped, for messages.
    var debugDescriptionWithoutQuotes: String { String(debugDescription.dropFirst().dropLast()) }
}
