// The private cache of compiled vector fields: a directory only its owner can write, files checked by owner, mode
// and SHA-256 before dlopen, compiles under a time limit whose compiler dies with us, results renamed into place.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// Finds, checks, builds and loads `vf-<key>.so`, where key = SHA-256(compiler, flags, source).
///
/// Rules: the directory must be owned by the current user and not writable by group or others (else it is refused
/// and the interpreter runs); every file is opened relative to the directory's descriptor with `O_NOFOLLOW`, must be
/// a regular file owned by the user and not writable by group or others, and the library's SHA-256 must equal the
/// one recorded beside it (`vf-<key>.sha256`). The library is loaded through `/proc/self/fd/N` from the very
/// descriptor that was checked, so it cannot be swapped between check and load.
enum NativeCache {
    /// Loaded libraries by key (never unloaded: their functions may be in use). The lock also serialises builds.
    private static let loaded = Locked<[String: NativeFunctions]>([:])

    /// A reason not to use a directory or a file.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    static func load(source: String, key: String, compiler: String, settings: NativeCode.Settings) -> NativeCode.Outcome {
        loaded.withLock { loaded -> NativeCode.Outcome in
            var outcome = NativeCode.Outcome(note: "native")
            if settings.reuseLoaded, case .privateTemporary = settings.cache, let functions = loaded[key] {
                outcome.functions = functions
                return outcome
            }
            let directory: Directory
            do {
                directory = try Directory.open(settings.cache)
            } catch {
                outcome.note = "interpreted (\(error))"
                outcome.warnings.append("\(error); using the interpreter")
                return outcome
            }
            if settings.reuseLoaded, let functions = loaded[key] {
                outcome.functions = functions
                return outcome
            }
            do {
                if let functions = try loadCached(key: key, in: directory) {
                    loaded[key] = functions
                    outcome.functions = functions
                    return outcome
                }
            } catch {
                outcome.warnings.append("\(error); rebuilding it")
            }
            do {
                outcome.compiled = true
                let functions = try build(source: source, key: key, compiler: compiler,
                                          timeout: settings.compileTimeout, in: directory)
                loaded[key] = functions
                outcome.functions = functions
            } catch {
                outcome.note = "interpreted (\(error))"
                outcome.warnings.append("\(error); using the interpreter")
            }
            return outcome
        }
    }

    // MARK: The directory

    /// An open cache directory that passed its checks; files are reached through `descriptor`.
    final class Directory {
        let path: String
        let descriptor: Int32
        /// A per-process temporary directory, emptied and removed when done.
        let temporary: Bool

        private init(path: String, descriptor: Int32, temporary: Bool) {
            self.path = path; self.descriptor = descriptor; self.temporary = temporary
        }

        deinit {
            if temporary { for name in names() { unlinkat(descriptor, name, 0) } }
            close(descriptor)
            if temporary { rmdir(path) }
        }

        /// Opens (creating it with mode 0700 where missing) and checks the cache directory.
        static func open(_ cache: NativeCode.Settings.Cache) throws(Refusal) -> Directory {
            switch cache {
            case .directory(let path, let origin):
                try createMissing(path, origin: origin)
                return Directory(path: path, descriptor: try openChecked(path, origin: origin), temporary: false)
            case .privateTemporary(let parent):
                var template = Array("\(parent)/rnnode-XXXXXX".utf8CString)
                let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
                guard made != nil else {
                    throw Refusal(description: "cannot make a private temporary directory in \(parent) (HOME is unset): \(errorText())")
                }
                let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                do {
                    return Directory(path: path, descriptor: try openChecked(path, origin: "mkdtemp"), temporary: true)
                } catch {
                    rmdir(path)
                    throw error
                }
            }
        }

        /// `mkdir -p` with mode 0700 for each missing component.
        private static func createMissing(_ path: String, origin: String) throws(Refusal) {
            var prefix = path.hasPrefix("/") ? "" : "."
            for component in path.split(separator: "/") {
                prefix += "/" + component
                if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                    throw Refusal(description: "cannot create the native-code cache \(path) (from \(origin)): \(prefix): \(errorText())")
                }
            }
        }

        /// The directory's descriptor, once it is known to be a directory owned by us that others cannot write.
        private static func openChecked(_ path: String, origin: String) throws(Refusal) -> Int32 {
            let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw Refusal(description: "cannot open the native-code cache \(path) (from \(origin)): \(errorText())")
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                close(descriptor)
                throw Refusal(description: "cannot inspect the native-code cache \(path): \(errorText())")
            }
            if let problem = ownershipProblem(info) {
                close(descriptor)
                throw Refusal(description: "native-code cache \(path) (from \(origin)) \(problem): refused "
                              + "(use a directory only you can write, e.g. RNNODE_CACHE=$HOME/.cache/rnnode)")
            }
            return descriptor
        }

        /// Names of the entries.
        func names() -> [String] {
            let copy = dup(descriptor)
            guard copy >= 0, let stream = fdopendir(copy) else { return [] }
            defer { closedir(stream) }
            var names: [String] = []
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { names.append(name) }
            }
            return names
        }
    }

    /// Why a file or directory with this status must not be trusted, or nil.
    static func ownershipProblem(_ info: stat) -> String? {
        if info.st_uid != geteuid() {
            return "is owned by user \(info.st_uid), not by the current user (\(geteuid()))"
        }
        if info.st_mode & 0o022 != 0 {
            return "is writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    // MARK: Checked files

    /// Opens `name` in the directory without following a symbolic link, and checks that it is a regular file owned
    /// by us that others cannot write. Nil when there is no such file.
    private static func openChecked(_ name: String, in directory: Directory) throws(Refusal) -> Int32? {
        let path = "\(directory.path)/\(name)"
        let descriptor = openat(directory.descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw Refusal(description: "cached file \(path) is a symbolic link") }
            throw Refusal(description: "cannot open the cached file \(path): \(errorText())")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw Refusal(description: "cannot inspect the cached file \(path): \(errorText())")
        }
        if info.st_mode & S_IFMT != S_IFREG {
            close(descriptor)
            throw Refusal(description: "cached file \(path) is not a regular file")
        }
        if let problem = ownershipProblem(info) {
            close(descriptor)
            throw Refusal(description: "cached file \(path) \(problem)")
        }
        return descriptor
    }

    /// SHA-256 of the whole file behind `descriptor`, read from its start.
    private static func digest(of descriptor: Int32) -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += off_t(count)
        }
        return SHA256.hex(digest: hasher.finalize())
    }

    /// The functions of `vf-<key>.so` when it and its recorded digest pass every check; nil when not cached; a
    /// Refusal when a cached file is there but fails a check.
    private static func loadCached(key: String, in directory: Directory) throws(Refusal) -> NativeFunctions? {
        guard let library = try openChecked("vf-\(key).so", in: directory) else { return nil }
        var keep = false
        defer { if !keep { close(library) } }
        guard let record = try openChecked("vf-\(key).sha256", in: directory) else {
            throw Refusal(description: "cached library \(directory.path)/vf-\(key).so has no recorded digest")
        }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { read(record, $0.baseAddress, $0.count) }
        close(record)
        let recorded = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard recorded == digest(of: library) else {
            throw Refusal(description: "cached library \(directory.path)/vf-\(key).so does not match its recorded SHA-256")
        }
        let functions = try open(library, path: "\(directory.path)/vf-\(key).so")
        keep = true
        return functions
    }

    /// dlopen of the checked descriptor itself (through /proc/self/fd where there is one). On success the caller
    /// must keep the descriptor open for good: the dynamic loader knows a library by the name it was opened under
    /// and would hand out this one again for a later `/proc/self/fd/N` with the same N.
    private static func open(_ descriptor: Int32, path: String) throws(Refusal) -> NativeFunctions {
        let procPath = "/proc/self/fd/\(descriptor)"
        let loadPath = access(procPath, F_OK) == 0 ? procPath : path
        guard let handle = dlopen(loadPath, RTLD_NOW | RTLD_LOCAL) else {
            throw Refusal(description: "cannot load \(path): \(String(cString: dlerror()))")
        }
        guard let f = dlsym(handle, "rnnode_rhs"), let j = dlsym(handle, "rnnode_jacobian") else {
            throw Refusal(description: "\(path) lacks the entry points rnnode_rhs and rnnode_jacobian")
        }
        return NativeFunctions(rightHandSide: unsafeBitCast(f, to: NativeFunctions.RightHandSide.self),
                               jacobian: unsafeBitCast(j, to: NativeFunctions.Jacobian.self))
    }

    // MARK: Building

    /// Compiles the source into a temporary name in the directory, checks and loads that file, records its
    /// digest, then renames both into place (a concurrent reader sees the old files or complete new ones).
    private static func build(source: String, key: String, compiler: String, timeout: Double,
                              in directory: Directory) throws(Refusal) -> NativeFunctions {
        let unique = "\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let sourceName = ".vf-\(key)-\(unique).c"
        let libraryName = ".vf-\(key)-\(unique).so"
        let recordName = ".vf-\(key)-\(unique).sha256"
        removeAbandoned(in: directory)
        defer {
            unlinkat(directory.descriptor, sourceName, 0)
            unlinkat(directory.descriptor, libraryName, 0)
            unlinkat(directory.descriptor, recordName, 0)
        }
        try write(Array(source.utf8), to: sourceName, in: directory)

        // The compiler reaches the directory through our descriptor, so it writes where we checked.
        let procDirectory = "/proc/\(getpid())/fd/\(directory.descriptor)"
        let base = access(procDirectory, F_OK) == 0 ? procDirectory : directory.path
        let arguments = NativeCode.compilerFlags + ["-o", "\(base)/\(libraryName)", "\(base)/\(sourceName)", "-lm"]
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(compiler, arguments, standardOutput: .discard, standardError: .capture,
                                          timeout: timeout, grace: 1)
        } catch {
            throw Refusal(description: "\(error)")
        }
        switch result.termination {
        case .exited(0): break
        case .timedOut(let seconds):
            throw Refusal(description: "the C compiler \(compiler) was stopped after the time limit of \(seconds) s "
                          + "(RNNODE_COMPILE_TIMEOUT)")
        default:
            let firstLines = result.standardError.split(separator: "\n").prefix(3).joined(separator: " | ")
            throw Refusal(description: "the C compiler \(compiler) \(result.termination)"
                          + (firstLines.isEmpty ? "" : ": \(firstLines)"))
        }

        let library = openat(directory.descriptor, libraryName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard library >= 0 else {
            throw Refusal(description: "the C compiler left no library in \(directory.path): \(errorText())")
        }
        defer { close(library) }
        // The compiler's umask may have left it group-writable; we own it, so tighten it before the check.
        fchmod(library, 0o700)
        guard let checked = try openChecked(libraryName, in: directory) else {
            throw Refusal(description: "the compiled library vanished from \(directory.path)")
        }
        var keep = false
        defer { if !keep { close(checked) } }
        var first = stat(), second = stat()
        guard fstat(library, &first) == 0, fstat(checked, &second) == 0,
              first.st_dev == second.st_dev, first.st_ino == second.st_ino else {
            throw Refusal(description: "the compiled library in \(directory.path) changed while it was checked")
        }
        let functions = try open(checked, path: "\(directory.path)/vf-\(key).so")
        keep = true
        if !directory.temporary {
            try write(Array((digest(of: checked) + "\n").utf8), to: recordName, in: directory)
            renameat(directory.descriptor, libraryName, directory.descriptor, "vf-\(key).so")
            renameat(directory.descriptor, recordName, directory.descriptor, "vf-\(key).sha256")
        }
        return functions
    }

    /// Removes temporaries (`.vf-<key>-<pid>-<random>.*`) left by builds whose process no longer exists (killed
    /// while compiling).
    private static func removeAbandoned(in directory: Directory) {
        for name in directory.names() where name.hasPrefix(".vf-") {
            let fields = name.dropFirst(4).split(separator: "-")
            guard fields.count == 3, let pid = pid_t(fields[1]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlinkat(directory.descriptor, name, 0) }
        }
    }

    /// Writes a new file (mode 0600, never an existing name or a link) in the directory.
    private static func write(_ bytes: [UInt8], to name: String, in directory: Directory) throws(Refusal) {
        let descriptor = openat(directory.descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Refusal(description: "cannot write \(directory.path)/\(name): \(errorText())")
        }
        defer { close(descriptor) }
        if let failure = bytes.withUnsafeBytes({ Descriptor.writeAll(descriptor, $0) }) {
            throw Refusal(description: "cannot write \(directory.path)/\(name): \(String(cString: strerror(failure.errorNumber)))")
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
