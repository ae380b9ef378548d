// The native-code cache: refused when others can write it, every file checked before dlopen, tampered files
// rebuilt, compiles stopped at their time limit; sparse Jacobian code that stays small for 500 variables.
import Foundation
import Testing
@testable import Problems
import Support

/// The environment's native settings: tests that need a C compiler are skipped (visibly) without one.
private let environmentSettings = NativeCode.Settings.from(environment: ProcessInfo.processInfo.environment).settings
let cCompiler = environmentSettings.compiler
let nativeBackendExpected = environmentSettings.enabled && environmentSettings.compiler != nil

/// Equations over `variables` (and t), with the Jacobian roots VectorField builds.
private struct Field {
    let dimension: Int
    let rightHandSide: [Node]
    let jacobian: [(node: Node, target: Int, index: Int)]

    init(variables: [String], equations: [String]) throws {
        let slots = variables + ["t"]
        rightHandSide = try equations.map { try Parser.parse($0, slots: slots).node }
        let d = variables.count
        dimension = d
        var roots: [(node: Node, target: Int, index: Int)] = []
        for i in 0..<d {
            for j in 0..<d { roots.append((rightHandSide[i].derivative(j), 0, i * d + j)) }
            roots.append((rightHandSide[i].derivative(d), 1, i))
        }
        jacobian = roots
    }

    func compile(_ settings: NativeCode.Settings) -> NativeCode.Outcome {
        NativeCode.compile(rightHandSide: rightHandSide, jacobian: jacobian, dimension: dimension, settings: settings)
    }

    var key: String {
        NativeCode.key(source: NativeCode.translate(rightHandSide: rightHandSide, jacobian: jacobian, dimension: dimension),
                       compiler: cCompiler!)
    }

    /// f, then dfdy, then dfdt, by the interpreter.
    func interpreted(t: Double, y: [Double]) -> [Double] {
        let d = dimension
        let f = Program(roots: rightHandSide.enumerated().map { ($0.element, 0, $0.offset) }, inputCount: d)
        let j = Program(roots: jacobian, inputCount: d)
        var out = [Double](repeating: .nan, count: d), dfdy = [Double](repeating: .nan, count: d * d)
        var dfdt = [Double](repeating: .nan, count: d)
        out.withUnsafeMutableBufferPointer { f.run(inputs: y, extra: t, output0: $0.baseAddress!, output1: $0.baseAddress!) }
        j.run(inputs: y, extra: t, output0: &dfdy, output1: &dfdt)
        return out + dfdy + dfdt
    }

    /// The same by compiled code; the outputs start as NaN so an entry the code leaves unwritten shows.
    func native(_ functions: NativeFunctions, t: Double, y: [Double]) -> [Double] {
        let d = dimension
        var out = [Double](repeating: .nan, count: d), dfdy = [Double](repeating: .nan, count: d * d)
        var dfdt = [Double](repeating: .nan, count: d)
        functions.rightHandSide(t, y, &out)
        functions.jacobian(t, y, &dfdy, &dfdt)
        return out + dfdy + dfdt
    }

    /// Native equals interpreted to the bit at a few random states.
    func expectNativeEqualsInterpreted(_ functions: NativeFunctions?, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let functions else {
            Issue.record("no native functions", sourceLocation: sourceLocation)
            return
        }
        var generator = SplitMix64(seed: seed)
        for _ in 0..<3 {
            let y = (0..<dimension).map { _ in 4 * generator.nextUniform() - 2 }
            let t = generator.nextUniform()
            let native = native(functions, t: t, y: y), interpreted = interpreted(t: t, y: y)
            #expect(native.map(\.bitPattern) == interpreted.map(\.bitPattern), sourceLocation: sourceLocation)
        }
    }
}

/// The Lorenz equations with a constant that makes each test's source (and key) its own.
private func lorenz(_ tag: Int) throws -> Field {
    try Field(variables: ["x", "y", "z"],
              equations: ["10 * (y - x)", "x * (28 - z) - y + \(tag) * sin(t)", "x * y - 8/3 * z + cos(x) ^ 2"])
}

/// A new directory (mode 0700) under the temporary folder.
private func makeDirectory() -> String {
    var template = Array((NSTemporaryDirectory() + "/rnnode-native-test-XXXXXX").utf8CString)
    precondition(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil, "mkdtemp failed")
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

private func settings(cache directory: String) -> NativeCode.Settings {
    var settings = NativeCode.Settings(cache: .directory(directory, origin: "test"))
    settings.compiler = cCompiler
    settings.reuseLoaded = false
    return settings
}

/// A library with both entry points whose constructor creates `marker`: what a hostile user would plant.
private func plantedLibrary(at path: String, marker: String) throws {
    let source = path + ".planted.c"
    try """
    #include <fcntl.h>
    #include <unistd.h>
    __attribute__((constructor)) static void planted(void) {
        int fd = open("\(marker)", O_WRONLY | O_CREAT, 0600);
        if (fd >= 0) close(fd);
    }
    void rnnode_rhs(double t, const double *y, double *f) { (void)t; (void)y; f[0] = 12345.0; }
    void rnnode_jacobian(double t, const double *y, double *dfdy, double *dfdt) {
        (void)t; (void)y; dfdy[0] = 12345.0; dfdt[0] = 12345.0;
    }
    """.write(toFile: source, atomically: true, encoding: .utf8)
    defer { unlink(source) }
    let result = try ChildProcess.run(cCompiler!, ["-fPIC", "-shared", "-o", path, source])
    try #require(result.succeeded, "building the planted library: \(result.standardError)")
}

/// The SHA-256 record a planter would write beside its library.
private func writeRecord(for library: String, at path: String) throws {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: library)))
    try (SHA256.hex(digest: SHA256.hash(bytes)) + "\n").write(toFile: path, atomically: false, encoding: .utf8)
}

/// Writes a script through a close-on-exec descriptor: a child forked meanwhile by another test must not inherit
/// it open for writing, or executing the script fails with ETXTBSY.
private func writeExecutable(_ text: String, to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700)
    try #require(descriptor >= 0, "cannot create \(path)")
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    try #require(written == bytes.count, "cannot write \(path)")
}

/// True while `pid` exists and is not a zombie.
private func isRunning(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

private func entries(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

@Suite struct NativeCacheTests {
    /// A directory others can write (or that another user owns) is refused before anything in it is opened: the
    /// planted library, complete with a matching digest record, never runs its constructor.
    @Test(.enabled(if: cCompiler != nil, "needs a C compiler"), arguments: ["world-writable", "group-writable"])
    func aDirectoryOthersCanWriteIsRefused(kind: String) throws {
        try directoryIsRefused(kind)
    }

    @Test(.enabled(if: cCompiler != nil && geteuid() == 0, "needs a C compiler and root (to chown to nobody)"))
    func aDirectoryOwnedByAnotherUserIsRefused() throws {
        try directoryIsRefused("other owner")
    }

    private func directoryIsRefused(_ kind: String) throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let field = try lorenz(1)
        let marker = directory + "/MARKER"
        let library = "\(directory)/vf-\(field.key).so"
        try plantedLibrary(at: library, marker: marker)
        try writeRecord(for: library, at: "\(directory)/vf-\(field.key).sha256")
        switch kind {
        case "world-writable": chmod(directory, 0o777)
        case "group-writable": chmod(directory, 0o770)
        default:
            for path in [directory, library, "\(directory)/vf-\(field.key).sha256"] { chown(path, 65534, 65534) }
        }

        let outcome = field.compile(settings(cache: directory))
        #expect(outcome.functions == nil, "the interpreter must run")
        #expect(outcome.note.hasPrefix("interpreted ("))
        let expected = kind == "other owner" ? "is owned by user 65534" : "is writable by group or others"
        #expect(outcome.warnings.count == 1 && outcome.warnings[0].contains(expected), "\(outcome.warnings)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the planted library was loaded")
        #expect(!outcome.compiled)
    }

    /// Each way of tampering with a cached library or its record is caught before dlopen; the library is rebuilt,
    /// agrees with the interpreter to the bit, and the rebuilt files load from the cache afterwards.
    @Test(.enabled(if: cCompiler != nil, "needs a C compiler"),
          arguments: ["replaced", "truncated", "record edited", "writable by others", "symbolic link", "record missing"])
    func aTamperedCacheEntryIsRebuilt(tampering: String) throws {
        try tamperedEntryIsRebuilt(tampering)
    }

    @Test(.enabled(if: cCompiler != nil && geteuid() == 0, "needs a C compiler and root (to chown to nobody)"))
    func aCachedLibraryOwnedByAnotherUserIsRebuilt() throws {
        try tamperedEntryIsRebuilt("owned by another user")
    }

    private func tamperedEntryIsRebuilt(_ tampering: String) throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let field = try lorenz(2)
        // What a build killed while compiling leaves behind (no process has this pid): removed by the next build.
        let abandoned = "\(directory)/.vf-\(field.key)-2147483646-1f.c"
        FileManager.default.createFile(atPath: abandoned, contents: Data("int x;".utf8))
        let first = field.compile(settings(cache: directory))
        #expect(first.compiled && first.functions != nil && first.warnings.isEmpty, "\(first.warnings)")
        let library = "\(directory)/vf-\(field.key).so", record = "\(directory)/vf-\(field.key).sha256"
        #expect(entries(directory) == ["vf-\(field.key).sha256", "vf-\(field.key).so"], "only the library and its record")

        let marker = directory + "/MARKER"
        let planted = directory + "/planted.so"
        try plantedLibrary(at: planted, marker: marker)
        switch tampering {
        case "replaced":
            try FileManager.default.removeItem(atPath: library)
            try FileManager.default.copyItem(atPath: planted, toPath: library)
        case "truncated":
            // A new, shorter file (truncating the loaded one in place would pull pages from under this process).
            let bytes = try Data(contentsOf: URL(fileURLWithPath: library))
            try FileManager.default.removeItem(atPath: library)
            try bytes.prefix(100).write(to: URL(fileURLWithPath: library))
        case "record edited":
            var text = try String(contentsOfFile: record, encoding: .utf8)
            text = (text.first == "0" ? "1" : "0") + text.dropFirst()
            try text.write(toFile: record, atomically: false, encoding: .utf8)
        case "writable by others":
            try FileManager.default.removeItem(atPath: library)
            try FileManager.default.copyItem(atPath: planted, toPath: library)
            try writeRecord(for: library, at: record)
            chmod(library, 0o666)
        case "symbolic link":
            try FileManager.default.removeItem(atPath: library)
            symlink(planted, library)
            try writeRecord(for: planted, at: record)
        case "owned by another user":
            try FileManager.default.removeItem(atPath: library)
            try FileManager.default.copyItem(atPath: planted, toPath: library)
            try writeRecord(for: library, at: record)
            chown(library, 65534, 65534)
        default:
            unlink(record)
        }

        let second = field.compile(settings(cache: directory))
        #expect(second.compiled, "the tampered entry must be rebuilt")
        #expect(second.warnings.count == 1 && second.warnings[0].hasSuffix("rebuilding it"), "\(second.warnings)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the planted library was loaded")
        field.expectNativeEqualsInterpreted(second.functions, seed: 5)

        let third = field.compile(settings(cache: directory))
        #expect(!third.compiled && third.warnings.isEmpty && third.functions != nil, "the rebuilt entry loads: \(third.warnings)")
    }

    /// A compile past its time limit ends with the interpreter and a warning; the compiler and its children are
    /// gone, and no temporary file stays in the cache.
    @Test(.enabled(if: cCompiler != nil, "needs a C compiler")) func aSlowCompilerIsStopped() throws {
        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = directory + "/slow-cc", pids = directory + "/pids"
        try writeExecutable("#!/bin/sh\nsleep 30 &\necho $! > \(pids)\necho $$ >> \(pids)\nwait\n", to: script)
        let cache = directory + "/cache"
        var slow = settings(cache: cache)
        slow.compiler = script
        slow.compileTimeout = 0.5
        let start = Date()
        var outcome = try lorenz(3).compile(slow)
        // A child another test forks while the script is still open for writing holds that descriptor until its
        // own exec (close-on-exec closes it only then); executing the script meanwhile fails with ETXTBSY, which the
        // spawn reports as status 127. That window is a few milliseconds: after it the script runs.
        if outcome.warnings.count == 1 && outcome.warnings[0].contains("exited with status 127") {
            usleep(200_000)
            outcome = try lorenz(3).compile(slow)
        }
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(outcome.functions == nil && outcome.note.hasPrefix("interpreted ("))
        #expect(outcome.warnings.count == 1 && outcome.warnings[0].contains("stopped after the time limit of 0.5 s"),
                "\(outcome.warnings)")
        let started = try String(contentsOfFile: pids, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
        #expect(started.count == 2)
        var alive = started
        for _ in 0..<40 where !alive.isEmpty {
            usleep(50_000)
            alive = alive.filter(isRunning)
        }
        #expect(alive.isEmpty, "still running: \(alive)")
        #expect(entries(cache).isEmpty, "left in the cache: \(entries(cache))")
    }

    /// Without HOME the library is built in a fresh private directory that is removed once the library is loaded.
    @Test(.enabled(if: cCompiler != nil, "needs a C compiler")) func withoutHomeAPrivateDirectoryIsUsedAndRemoved() throws {
        let parent = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var (settings, warnings) = NativeCode.Settings.from(environment: ["PATH": "/usr/bin:/bin", "TMPDIR": parent])
        #expect(warnings.isEmpty)
        #expect(settings.cache == .privateTemporary(parent: parent))
        settings.compiler = cCompiler
        settings.reuseLoaded = false
        let field = try lorenz(4)
        let outcome = field.compile(settings)
        #expect(outcome.compiled && outcome.warnings.isEmpty, "\(outcome.warnings)")
        field.expectNativeEqualsInterpreted(outcome.functions, seed: 6)
        #expect(entries(parent).isEmpty, "left behind: \(entries(parent))")
    }

    @Test func settingsComeFromTheEnvironment() {
        let path = "/usr/bin:/bin"
        let explicit = NativeCode.Settings.from(environment: ["PATH": path, "RNNODE_CACHE": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"])
        #expect(explicit.settings.cache == .directory("/c", origin: "RNNODE_CACHE"))
        let xdg = NativeCode.Settings.from(environment: ["PATH": path, "XDG_CACHE_HOME": "/x", "HOME": "/h"])
        #expect(xdg.settings.cache == .directory("/x/rnnode", origin: "XDG_CACHE_HOME"))
        // A relative XDG_CACHE_HOME is invalid (XDG base directory specification) and ignored.
        let home = NativeCode.Settings.from(environment: ["PATH": path, "XDG_CACHE_HOME": "x", "HOME": "/h"])
        #expect(home.settings.cache == .directory("/h/.cache/rnnode", origin: "HOME"))
        let noHome = NativeCode.Settings.from(environment: ["PATH": path])
        #expect(noHome.settings.cache == .privateTemporary(parent: "/tmp"))

        let timeout = NativeCode.Settings.from(environment: ["PATH": path, "HOME": "/h", "RNNODE_COMPILE_TIMEOUT": "2.5"])
        #expect(timeout.settings.compileTimeout == 2.5 && timeout.warnings.isEmpty)
        for bad in ["abc", "0", "-1", "nan", "1e9"] {
            let result = NativeCode.Settings.from(environment: ["PATH": path, "HOME": "/h", "RNNODE_COMPILE_TIMEOUT": bad])
            #expect(result.settings.compileTimeout == NativeCode.defaultCompileTimeout)
            #expect(result.warnings == ["RNNODE_COMPILE_TIMEOUT='\(bad)' is not a number of seconds in (0, 86400]; using 120 s"])
        }
        let missing = NativeCode.Settings.from(environment: ["PATH": path, "HOME": "/h", "RNNODE_CC": "/no/such/cc"])
        #expect(missing.settings.compiler == nil && missing.warnings.count == 1)
        #expect(!NativeCode.Settings.from(environment: ["PATH": path, "RNNODE_NATIVE": "0"]).settings.enabled)
    }
}

@Suite struct SparseNativeCodeTests {
    /// The chain x_i' = x_{i−1} − 2 x_i + x_{i+1} + sin(x_i), i = 1…n (x_0 = x_{n+1} = 0): a tridiagonal Jacobian.
    static func chainEquations(_ n: Int) -> [String] {
        (1...n).map { i in (i > 1 ? "x\(i - 1) - " : "-") + "2 * x\(i)" + (i < n ? " + x\(i + 1)" : "") + " + sin(x\(i))" }
    }

    /// The chain as a problem file.
    static func chainProblem(_ n: Int) -> String {
        var text = "name = \"chain\"\nvariables = [" + (1...n).map { "\"x\($0)\"" }.joined(separator: ", ") + "]\n"
        text += "\n[equations]\n" + zip(1...n, chainEquations(n)).map { "x\($0) = \"\($1)\"" }.joined(separator: "\n") + "\n"
        text += "\n[initial]\n" + (1...n).map { "x\($0) = \(Double($0 % 7) / 7)" }.joined(separator: "\n") + "\n"
        text += "\n[time]\nstart = 0.0\nend = 1.0\nstep = 0.1\n"
        return text
    }

    /// Only the 3n − 2 structurally non-zero Jacobian entries are written; the C grows linearly with n.
    @Test func jacobianCodeIsSparse() throws {
        let n = 500
        let field = try Field(variables: (1...n).map { "x\($0)" }, equations: Self.chainEquations(n))
        let source = NativeCode.translate(rightHandSide: field.rightHandSide, jacobian: field.jacobian, dimension: n)
        let assignments = source.split(separator: "\n").filter { $0.contains("dfdy[") && $0.contains(" = ") }
        #expect(assignments.count == 3 * n - 2)
        #expect(!source.contains("dfdt["), "dfdt is all zero here: cleared by memset only")
        // Dense code wrote every one of the n² + n entries (5.9 MB for n = 500); a few hundred bytes per equation
        // is linear growth.
        #expect(source.utf8.count < 500 * n, "\(source.utf8.count) bytes of C for \(n) equations")
    }

    /// The 500-variable chain loads through the problem file in seconds with native code, which agrees with the
    /// interpreter to the bit (same operations in the same order, no contraction).
    @Test(.enabled(if: nativeBackendExpected, "needs a C compiler and RNNODE_NATIVE unset"))
    func fiveHundredVariablesCompileNatively() throws {
        let n = 500
        let start = Date()
        let problem = try Catalog.parse(Self.chainProblem(n), file: "chain.toml")
        let seconds = Date().timeIntervalSince(start)
        let field = problem.vectorField
        #expect(field.dimension == n)
        try #require(field.backend == "native", "\(field.backend)")
        print("chain of \(n): loaded with native code in \(String(format: "%.2f", seconds)) s")
        var generator = SplitMix64(seed: 9)
        for _ in 0..<3 {
            let y = (0..<n).map { _ in 4 * generator.nextUniform() - 2 }
            let t = generator.nextUniform()
            #expect(field.evaluate(t: t, state: y).map(\.bitPattern) == field.evaluateInterpreted(t: t, state: y).map(\.bitPattern))
            let native = field.jacobian(t: t, state: y), interpreted = field.jacobianInterpreted(t: t, state: y)
            #expect(native.dfdy.map(\.bitPattern) == interpreted.dfdy.map(\.bitPattern))
            #expect(native.dfdt.map(\.bitPattern) == interpreted.dfdt.map(\.bitPattern))
        }
    }

    /// Deep and long trees (built directly, past any parser limit) translate without recursion, into C that grows
    /// linearly, compiles, and computes what the tree does.
    @Test(.enabled(if: cCompiler != nil, "needs a C compiler"))
    func deepAndLongExpressionsTranslateLinearly() throws {
        let depth = 5_000, terms = 10_000
        var nested = Node.slot(0)
        for k in 0..<depth { nested = .call(k % 2 == 0 ? .sin : .cos, [nested]) }
        var sum = Node.slot(1)
        for k in 0..<terms { sum = .binary(.add, sum, .binary(.multiply, .constant(Double(k % 13) + 0.5), .slot(k % 2))) }
        let start = Date()
        let source = NativeCode.translate(rightHandSide: [nested, sum], jacobian: [], dimension: 2)
        print("\(depth) nested calls and a \(terms)-term sum: \(source.utf8.count) bytes of C in "
              + String(format: "%.2f", Date().timeIntervalSince(start)) + " s")
        let nodes = depth + 3 * terms
        #expect(source.utf8.count < 100 * nodes, "\(source.utf8.count) bytes for \(nodes) nodes")

        let directory = makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = NativeCode.compile(rightHandSide: [nested, sum], jacobian: [], dimension: 2,
                                         settings: settings(cache: directory))
        let functions = try #require(outcome.functions, "\(outcome.warnings)")
        let y = [0.3, -0.7], t = 0.0
        var f = [Double.nan, .nan]
        functions.rightHandSide(t, y, &f)
        // The same operations, in the same order, by a loop.
        var expectedNested = y[0], expectedSum = y[1]
        for k in 0..<depth { expectedNested = k % 2 == 0 ? sin(expectedNested) : cos(expectedNested) }
        for k in 0..<terms { expectedSum = expectedSum + (Double(k % 13) + 0.5) * y[k % 2] }
        #expect(f[0].bitPattern == expectedNested.bitPattern && f[1].bitPattern == expectedSum.bitPattern)
    }
}
