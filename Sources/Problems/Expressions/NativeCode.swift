// Native code for a vector field: the equations and their Jacobian written out as C, compiled once by the
// system C compiler into a cached shared library and loaded with dlopen. The interpreted Program stays the
// fallback (no compiler, RNNODE_NATIVE=0) and the reference: both compute the same operations in the same order.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// Entry points of a compiled vector field.
struct NativeFunctions: @unchecked Sendable {
    typealias RightHandSide = @convention(c) (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    typealias Jacobian = @convention(c) (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>,
                                         UnsafeMutablePointer<Double>) -> Void
    let rightHandSide: RightHandSide
    let jacobian: Jacobian
}

enum NativeCode {
    /// Compiles (or finds in the cache) the C translation of f and its Jacobian. Nil with the reason when the
    /// native path is switched off or unavailable.
    static func compile(rightHandSide: [Node], jacobian: [(node: Node, target: Int, index: Int)],
                        dimension d: Int) -> (functions: NativeFunctions?, note: String) {
        if ProcessInfo.processInfo.environment["RNNODE_NATIVE"] == "0" { return (nil, "interpreted (RNNODE_NATIVE=0)") }
        let source = translate(rightHandSide: rightHandSide, jacobian: jacobian, dimension: d)
        let key = String(StableHash.fnv1a64(source), radix: 16)
        return cache.withLock { loaded -> (NativeFunctions?, String) in
            if let functions = loaded[key] { return (functions, "native") }
            do {
                let functions = try build(source: source, key: key)
                loaded[key] = functions
                return (functions, "native")
            } catch {
                return (nil, "interpreted (\(error))")
            }
        }
    }

    /// Loaded libraries by source hash (never unloaded: their functions may be in use).
    private static let cache = Locked<[String: NativeFunctions]>([:])

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func build(source: String, key: String) throws -> NativeFunctions {
        let fileManager = FileManager.default
        let folder = cacheFolder()
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        let library = folder.appendingPathComponent("vf-\(key).so")
        if !fileManager.fileExists(atPath: library.path) {
            guard let compiler = findCompiler() else { throw Failure(description: "no C compiler found") }
            let unique = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let sourceFile = folder.appendingPathComponent("vf-\(key)-\(unique).c")
            let temporary = folder.appendingPathComponent("vf-\(key)-\(unique).so")
            try source.write(to: sourceFile, atomically: true, encoding: .utf8)
            defer { try? fileManager.removeItem(at: sourceFile) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compiler)
            process.arguments = ["-O2", "-ffp-contract=off", "-fPIC", "-shared", "-o", temporary.path, sourceFile.path, "-lm"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                try? fileManager.removeItem(at: temporary)
                throw Failure(description: "\(compiler) failed with status \(process.terminationStatus)")
            }
            // Atomic: a concurrent process either sees no library or a complete one.
            guard rename(temporary.path, library.path) == 0 else {
                try? fileManager.removeItem(at: temporary)
                throw Failure(description: "cannot move the compiled library into \(folder.path)")
            }
        }
        guard let handle = dlopen(library.path, RTLD_NOW | RTLD_LOCAL) else {
            throw Failure(description: "dlopen failed: \(String(cString: dlerror()))")
        }
        guard let f = dlsym(handle, "rnnode_rhs"), let j = dlsym(handle, "rnnode_jacobian") else {
            throw Failure(description: "compiled library lacks its entry points")
        }
        return NativeFunctions(rightHandSide: unsafeBitCast(f, to: NativeFunctions.RightHandSide.self),
                               jacobian: unsafeBitCast(j, to: NativeFunctions.Jacobian.self))
    }

    /// `$RNNODE_CACHE`, else `$XDG_CACHE_HOME/rnnode`, else `~/.cache/rnnode`, else the temporary folder.
    private static func cacheFolder() -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["RNNODE_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path) }
        if let path = environment["XDG_CACHE_HOME"], !path.isEmpty {
            return URL(fileURLWithPath: path).appendingPathComponent("rnnode")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/rnnode")
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("rnnode")
    }

    /// `$CC`, else the first of cc, clang, gcc on the PATH.
    private static func findCompiler() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        var names = ["cc", "clang", "gcc"]
        if let cc = environment["CC"], !cc.isEmpty {
            if cc.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: cc) ? cc : nil }
            names.insert(cc, at: 0)
        }
        for name in names {
            for folder in path {
                let candidate = folder + "/" + name
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    // MARK: Translation to C

    /// C source with `rnnode_rhs(t, y, f)` and `rnnode_jacobian(t, y, dfdy, dfdt)`. Slots `0..<d` are `y`, `d` is t.
    static func translate(rightHandSide: [Node], jacobian: [(node: Node, target: Int, index: Int)], dimension d: Int) -> String {
        var text = """
        /* Generated by rnnode from a problem file: the right-hand side and its symbolic Jacobian. */
        #include <math.h>
        static inline double rn_min(double a, double b) { return a <= b ? a : b; }
        static inline double rn_max(double a, double b) { return a >= b ? a : b; }
        static inline double rn_sign(double a) { return a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0); }
        static inline double rn_select(double a, double b, double p, double q) { return a <= b ? p : q; }
        static inline double rn_square(double v) { return v * v; }
        static inline double rn_cube(double v) { return v * v * v; }
        static inline double rn_powi(double x, long n) {
            double base = n < 0 ? 1.0 / x : x, result = 1.0;
            long k = n < 0 ? -n : n;
            while (k > 0) { if (k & 1) result *= base; base *= base; k >>= 1; }
            return result;
        }

        """
        text += function("void rnnode_rhs(double t, const double *restrict y, double *restrict f)",
                         roots: rightHandSide.enumerated().map { ($0.element, "f[\($0.offset)]") }, dimension: d)
        text += function("void rnnode_jacobian(double t, const double *restrict y, double *restrict dfdy, double *restrict dfdt)",
                         roots: jacobian.map { ($0.node, $0.target == 0 ? "dfdy[\($0.index)]" : "dfdt[\($0.index)]") },
                         dimension: d)
        return text
    }

    private static func function(_ signature: String, roots: [(Node, String)], dimension d: Int) -> String {
        // Subexpressions used more than once become locals, children first (as in Program).
        var uses: [Node: Int] = [:]
        var order: [Node] = []
        func count(_ node: Node) {
            switch node {
            case .constant, .slot: return
            default: break
            }
            uses[node, default: 0] += 1
            guard uses[node] == 1 else { return }
            switch node {
            case .negate(let a): count(a)
            case .binary(_, let a, let b): count(a); count(b)
            case .call(_, let args): args.forEach(count)
            default: break
            }
            order.append(node)
        }
        for (node, _) in roots { count(node) }
        var locals: [Node: String] = [:]
        var body = "    (void)t; (void)y;\n"
        for node in order where uses[node]! > 1 {
            let name = "s\(locals.count)"
            body += "    const double \(name) = \(c(node, locals, d));\n"
            locals[node] = name
        }
        for (node, target) in roots { body += "    \(target) = \(c(node, locals, d));\n" }
        return "\(signature) {\n\(body)}\n"
    }

    /// The C expression for `node`, with the same operations in the same order as Program.
    private static func c(_ node: Node, _ locals: [Node: String], _ d: Int) -> String {
        if let name = locals[node] { return name }
        switch node {
        case .constant(let value):
            if value.isFinite { return value < 0 ? "(\(value.description))" : value.description }
            return value.isNaN ? "NAN" : (value > 0 ? "INFINITY" : "(-INFINITY)")
        case .slot(let i): return i == d ? "t" : "y[\(i)]"
        case .negate(let a): return "(-\(c(a, locals, d)))"
        case .binary(.power, let a, let b):
            let base = c(a, locals, d)
            if let k = b.constantValue, k == k.rounded(), Swift.abs(k) <= 64 {
                switch k {
                case 2: return "rn_square(\(base))"
                case 3: return "rn_cube(\(base))"
                case -1: return "(1.0 / \(base))"
                default: return "rn_powi(\(base), \(Int(k)))"
                }
            }
            if b.constantValue == 0.5 { return "sqrt(\(base))" }
            return "pow(\(base), \(c(b, locals, d)))"
        case .binary(let op, let a, let b):
            return "(\(c(a, locals, d)) \(op.rawValue) \(c(b, locals, d)))"
        case .call(let f, let args):
            let list = args.map { c($0, locals, d) }.joined(separator: ", ")
            let name = switch f {
            case .abs: "fabs"
            case .min: "rn_min"
            case .max: "rn_max"
            case .sign: "rn_sign"
            case .select: "rn_select"
            default: f.rawValue
            }
            return "\(name)(\(list))"
        }
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
