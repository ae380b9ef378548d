// Native code for a vector field: the equations and their sparse Jacobian written out as C, compiled once by the
// system C compiler into a private cache (NativeCache.swift) and loaded with dlopen. The interpreted Program stays
// the fallback (no compiler, RNNODE_NATIVE=0, an unsafe cache) and the reference: both do the same operations.
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
    /// Flags of every compile. `-ffp-contract=off`: no fused multiply-add, so results equal the interpreter's.
    static let compilerFlags = ["-O2", "-ffp-contract=off", "-fPIC", "-shared"]
    /// Seconds a compile may take unless `RNNODE_COMPILE_TIMEOUT` says otherwise.
    static let defaultCompileTimeout = 120.0

    /// Where the cache lives and how to compile, read from the environment (tests build their own).
    struct Settings: Sendable {
        enum Cache: Sendable, Equatable {
            /// A persistent directory; `origin` names the variable it came from (for messages).
            case directory(String, origin: String)
            /// No HOME: a fresh `mkdtemp` directory (mode 0700, unguessable name) under `parent` for each compile,
            /// removed as soon as the library is loaded. Nothing is shared between processes or users.
            case privateTemporary(parent: String)
        }

        /// False with `RNNODE_NATIVE=0`.
        var enabled = true
        var cache: Cache
        /// Absolute path of the C compiler; nil when none was found.
        var compiler: String?
        /// Seconds before the compiler's whole process group is killed.
        var compileTimeout = NativeCode.defaultCompileTimeout
        /// Reuse a library this process has loaded already (tests switch it off to exercise the disk cache).
        var reuseLoaded = true

        /// `RNNODE_NATIVE`, `RNNODE_CACHE` (else `$XDG_CACHE_HOME/rnnode`, else `$HOME/.cache/rnnode`, else a
        /// private temporary directory), `RNNODE_CC` (else `CC`, else cc, clang, gcc on PATH) and
        /// `RNNODE_COMPILE_TIMEOUT` (seconds, default 120). Returns warnings for values it could not use.
        static func from(environment: [String: String]) -> (settings: Settings, warnings: [String]) {
            var warnings: [String] = []
            let cache: Cache
            if let path = environment["RNNODE_CACHE"], !path.isEmpty {
                cache = .directory(path, origin: "RNNODE_CACHE")
            } else if let path = environment["XDG_CACHE_HOME"], path.hasPrefix("/") {
                cache = .directory(path + "/rnnode", origin: "XDG_CACHE_HOME")
            } else if let home = environment["HOME"], home.hasPrefix("/") {
                cache = .directory(home + "/.cache/rnnode", origin: "HOME")
            } else {
                let temporary = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
                cache = .privateTemporary(parent: temporary)
            }
            var settings = Settings(cache: cache)
            settings.enabled = environment["RNNODE_NATIVE"] != "0"

            if let explicit = environment["RNNODE_CC"], !explicit.isEmpty {
                settings.compiler = ChildProcess.executablePath(explicit, environment: environment)
                if settings.compiler == nil {
                    warnings.append("RNNODE_CC='\(explicit)' is not an executable file; using the interpreter")
                }
            } else {
                var names = ["cc", "clang", "gcc"]
                if let cc = environment["CC"], !cc.isEmpty { names.insert(cc, at: 0) }
                settings.compiler = names.lazy.compactMap { ChildProcess.executablePath($0, environment: environment) }.first
            }

            if let text = environment["RNNODE_COMPILE_TIMEOUT"], !text.isEmpty {
                if let seconds = Double(text), seconds > 0, seconds <= 86_400 {
                    settings.compileTimeout = seconds
                } else {
                    warnings.append("RNNODE_COMPILE_TIMEOUT='\(text)' is not a number of seconds in (0, 86400]; "
                                    + "using \(Int(defaultCompileTimeout)) s")
                }
            }
            return (settings, warnings)
        }
    }

    /// What one compile request came to.
    struct Outcome {
        var functions: NativeFunctions?
        /// `native`, or `interpreted (reason)`.
        var note: String
        /// Messages for stderr: an unsafe or unusable cache, a rejected cached file, a failed or stopped compile.
        var warnings: [String] = []
        /// Bytes of generated C (0 when nothing was translated).
        var sourceBytes = 0
        /// True when the compiler ran (false: loaded from this process or from the cache).
        var compiled = false
    }

    /// Compiles (or finds in the cache) the C translation of f and its Jacobian, with the environment's settings.
    /// Each distinct warning is printed once per process on stderr. Nil functions with the reason when the native
    /// path is switched off or unavailable.
    static func compile(rightHandSide: [(index: Int, node: Node)], jacobian: [(node: Node, target: Int, index: Int)],
                        sites: [Sites] = [], dimension d: Int) -> (functions: NativeFunctions?, note: String) {
        let (settings, settingWarnings) = Settings.from(environment: ProcessInfo.processInfo.environment)
        let outcome = compile(rightHandSide: rightHandSide, jacobian: jacobian, sites: sites, dimension: d, settings: settings)
        warnOnce(settingWarnings + outcome.warnings)
        return (outcome.functions, outcome.note)
    }

    /// Compiles (or finds) the functions of f = `rightHandSide` (f[0], f[1], …) under explicit settings.
    static func compile(rightHandSide: [Node], jacobian: [(node: Node, target: Int, index: Int)],
                        dimension d: Int, settings: Settings) -> Outcome {
        compile(rightHandSide: rightHandSide.enumerated().map { ($0.offset, $0.element) }, jacobian: jacobian,
                sites: [], dimension: d, settings: settings)
    }

    /// Compiles (or finds) the functions under explicit settings; warnings are returned, not printed.
    static func compile(rightHandSide: [(index: Int, node: Node)], jacobian: [(node: Node, target: Int, index: Int)],
                        sites: [Sites], dimension d: Int, settings: Settings) -> Outcome {
        guard settings.enabled else { return Outcome(note: "interpreted (RNNODE_NATIVE=0)") }
        guard let compiler = settings.compiler else { return Outcome(note: "interpreted (no C compiler found)") }
        let source = translate(rightHandSide: rightHandSide, jacobian: jacobian, sites: sites, dimension: d)
        var outcome = NativeCache.load(source: source, key: key(source: source, compiler: compiler),
                                       compiler: compiler, settings: settings)
        outcome.sourceBytes = source.utf8.count
        return outcome
    }

    /// The cache key: SHA-256 of the compiler, its flags and the full source.
    ///
    /// SHA-256 rather than the 64-bit FNV-1a the key used to be: a library is found by its name alone, so the name
    /// must not be forgeable by a second source that collides. (The alternative, storing the source beside the
    /// library and comparing it byte for byte, would work as well; the digest keeps the cache to one name per
    /// library and lets the library's own digest, kept beside it, be checked the same way before loading.)
    static func key(source: String, compiler: String) -> String {
        var hasher = SHA256()
        hasher.update(Array("rnnode native code 2\n\(compiler)\n\(compilerFlags.joined(separator: " "))\n".utf8))
        hasher.update(Array(source.utf8))
        return SHA256.hex(digest: hasher.finalize())
    }

    /// Warnings already printed by this process.
    private static let printedWarnings = Locked<Set<String>>([])

    /// Prints each message not printed before as `rnnode: warning: …` on stderr (one write(2); a failure is ignored).
    static func warnOnce(_ messages: [String]) {
        for message in messages {
            let fresh = printedWarnings.withLock { $0.insert(message).inserted }
            guard fresh else { continue }
            let line = Array("rnnode: warning: \(message)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    // MARK: Translation to C

    /// One array's site equation for translation: the equation, its band (source j, ∂f/∂source j, non-zero ones
    /// only) and ∂f/∂t when it is not 0.
    struct Sites {
        var equation: SiteEquation
        var band: [(j: Int, node: Node)]
        var timeDerivative: Node?
    }

    /// C source of f = `rightHandSide` (f[0], f[1], …) and its Jacobian, for a problem without arrays.
    static func translate(rightHandSide: [Node], jacobian: [(node: Node, target: Int, index: Int)], dimension d: Int) -> String {
        translate(rightHandSide: rightHandSide.enumerated().map { ($0.offset, $0.element) }, jacobian: jacobian,
                  sites: [], dimension: d)
    }

    /// C source with `rnnode_rhs(t, y, f)` and `rnnode_jacobian(t, y, dfdy, dfdt)`. Slots `0..<d` are `y`, `d` is t.
    ///
    /// The Jacobian is written sparse: both arrays are cleared with one `memset`, then only the entries that are not
    /// the constant +0 are assigned. Each function's trees become one graph of distinct subexpressions (shared
    /// ones computed once into locals), so the text grows linearly with the expressions, whatever their depth.
    /// A site equation becomes one loop over its sites: the values it reads are gathered into locals `v0, v1, …`
    /// (a periodic index wrapped, a zero boundary read as 0), then f at the site, or its band added into the row.
    static func translate(rightHandSide: [(index: Int, node: Node)], jacobian: [(node: Node, target: Int, index: Int)],
                          sites: [Sites], dimension d: Int) -> String {
        var text = """
        /* Generated by rnnode from a problem file: the right-hand side and its symbolic Jacobian. */
        #include <math.h>
        #include <string.h>
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
        if !sites.isEmpty {
            text += "static inline long rn_wrap(long j, long n) { return j < 0 ? j + n : (j >= n ? j - n : j); }\n"
        }
        let global: (Int) -> String = { $0 == d ? "t" : "y[\($0)]" }
        var body = "    (void)t; (void)y;\n"
        body += statements(rightHandSide.map { ($0.node, "f[\($0.index)] = ") }, slotName: global, indent: "    ")
        for site in sites {
            let equation = site.equation, m = equation.sources.count
            body += loop(equation) + statements([(equation.node, "f[\(equation.target.offset) + site] = ")],
                                                slotName: local(m), indent: "        ") + "    }\n"
        }
        text += "void rnnode_rhs(double t, const double *restrict y, double *restrict f) {\n\(body)}\n"

        let nonZero = jacobian.filter { $0.node.constantValue?.bitPattern != Double(0).bitPattern }
        body = "    (void)t; (void)y;\n"
        body += "    memset(dfdy, 0, sizeof(double) * \(d * d));\n    memset(dfdt, 0, sizeof(double) * \(d));\n"
        body += statements(nonZero.map { ($0.node, $0.target == 0 ? "dfdy[\($0.index)] = " : "dfdt[\($0.index)] = ") },
                           slotName: global, indent: "    ")
        for site in sites {
            let equation = site.equation, m = equation.sources.count
            let row = "(\(equation.target.offset) + site) * \(d)"
            var roots: [(Node, String)] = site.band.map { j, node in
                switch equation.sources[j] {
                case .component(let k): return (node, "dfdy[\(row) + \(k)] += ")
                case .site: preconditionFailure("the site index is not in the band")
                case .neighbour(let array, let shift):
                    let index = "site + \(shift)"
                    switch array.boundary {
                    case .periodic:
                        return (node, "dfdy[\(row) + \(array.offset) + rn_wrap(\(index), \(array.count))] += ")
                    case .zero:
                        return (node, "if (\(inside(shift, count: array.count))) dfdy[\(row) + \(array.offset) + \(index)] += ")
                    }
                }
            }
            if let dt = site.timeDerivative { roots.append((dt, "dfdt[\(equation.target.offset) + site] = ")) }
            body += loop(equation) + statements(roots, slotName: local(m), indent: "        ") + "    }\n"
        }
        text += "void rnnode_jacobian(double t, const double *restrict y, double *restrict dfdy, double *restrict dfdt) {\n\(body)}\n"
        return text
    }

    /// Slot names inside a site loop: `v0 … v(m-1)` for the gathered values, `t` for slot m.
    private static func local(_ m: Int) -> (Int) -> String { { $0 == m ? "t" : "v\($0)" } }

    /// C condition that site + shift lies in 0 … count-1.
    private static func inside(_ shift: Int, count: Int) -> String {
        shift == 0 ? "1" : shift > 0 ? "site + \(shift) < \(count)" : "site - \(-shift) >= 0"
    }

    /// `for (site …) {` and the gathered values of a site equation, as `SiteEquation.gather` reads them.
    private static func loop(_ equation: SiteEquation) -> String {
        var text = "    for (long site = 0; site < \(equation.target.count); ++site) {\n"
        for (j, source) in equation.sources.enumerated() {
            let value: String
            switch source {
            case .site: value = "(double)site"
            case .component(let k): value = "y[\(k)]"
            case .neighbour(let array, let shift):
                switch array.boundary {
                case .periodic: value = "y[\(array.offset) + rn_wrap(site + \(shift), \(array.count))]"
                case .zero: value = "(\(inside(shift, count: array.count)) ? y[\(array.offset) + site + \(shift)] : 0.0)"
                }
            }
            text += "        const double v\(j) = \(value);\n"
        }
        return text
    }

    /// A subexpression spelled longer than this many bytes goes into a local of its own, so that each
    /// subexpression's text is copied into its parent's at most once and stays short.
    private static let inlineLimit = 100

    /// The statements computing `roots`: shared subexpressions into locals `s<id>`, then each root's prefix
    /// (`f[3] = `, `dfdy[…] += `) followed by its value.
    private static func statements(_ roots: [(Node, String)], slotName: (Int) -> String, indent: String) -> String {
        var graph = ExpressionGraph()
        let rootIDs = roots.map { graph.add($0.0) }
        var body = ""
        // Entries come children first, so each entry's operands are spelled before it.
        var spelled = [String](repeating: "", count: graph.items.count)
        for id in graph.items.indices {
            var text = spell(graph.items[id], graph: graph, spelled: spelled, slotName: slotName)
            if !graph.items[id].isLeaf {
                if graph.uses[id] > 1 || text.utf8.count > inlineLimit {
                    body += "\(indent)const double s\(id) = \(text);\n"
                    text = "s\(id)"
                }
                // An operand used once is spelled into its single parent; release its text.
                for child in graph.children(id) where graph.uses[child] == 1 { spelled[child] = "" }
            }
            spelled[id] = text
        }
        for (id, (_, prefix)) in zip(rootIDs, roots) { body += "\(indent)\(prefix)\(spelled[id]);\n" }
        return body
    }

    /// The C expression of one entry from its operands' spellings, with the same operations as Program.
    private static func spell(_ entry: ExpressionGraph.Item, graph: ExpressionGraph, spelled: [String],
                              slotName: (Int) -> String) -> String {
        switch entry {
        case .constant(let value):
            if value.isFinite { return value.sign == .minus ? "(\(value.description))" : value.description }
            return value.isNaN ? "NAN" : (value > 0 ? "INFINITY" : "(-INFINITY)")
        case .slot(let i): return slotName(i)
        case .negate(let a): return "(-\(spelled[a]))"
        case .binary(.power, let a, let b):
            let base = spelled[a]
            if let k = graph.constant(b) {
                if k == k.rounded(), Swift.abs(k) <= 64 {
                    switch k {
                    case 2: return "rn_square(\(base))"
                    case 3: return "rn_cube(\(base))"
                    case -1: return "(1.0 / \(base))"
                    default: return "rn_powi(\(base), \(Int(k)))"
                    }
                }
                if k == 0.5 { return "sqrt(\(base))" }
            }
            return "pow(\(base), \(spelled[b]))"
        case .binary(let op, let a, let b):
            return "(\(spelled[a]) \(op.rawValue) \(spelled[b]))"
        case .call(let f, let args):
            let name = switch f {
            case .abs: "fabs"
            case .min: "rn_min"
            case .max: "rn_max"
            case .sign: "rn_sign"
            case .select: "rn_select"
            default: f.rawValue
            }
            return "\(name)(" + args.map { spelled[$0] }.joined(separator: ", ") + ")"
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
