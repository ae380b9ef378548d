// The matrix catalog: `problems/eigen/*.toml` files found by name, any `.toml` path, or a `.mtx` file read directly.
// Parses the file, builds the matrix of its kind and validates it (finite, square, symmetric within 1e-12).
import Foundation
import TOMLKit

public enum MatrixCatalog {
    /// Relative asymmetry max|a_ij − a_ji| / max|a| above which a matrix is rejected.
    public static let symmetryTolerance = 1e-12
    /// Largest dimension accepted (dense storage: n² doubles): `Limits.matrixDimension`.
    public static let maximumDimension = Limits.matrixDimension

    /// `problems/eigen` inside the problem catalog directory.
    public static func directory() throws -> URL { try Catalog.directory().appendingPathComponent("eigen", isDirectory: true) }

    /// Names of the matrix files in the catalog, sorted.
    public static func names() throws -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: try directory().path)) ?? []
        return files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// A catalog name (`radial-oscillator`), a path to a `.toml` matrix file, or a path to a `.mtx` file.
    public static func load(_ nameOrPath: String) throws -> MatrixProblem {
        if nameOrPath.lowercased().hasSuffix(".mtx") {
            let url = URL(fileURLWithPath: nameOrPath)
            let name = url.deletingPathExtension().lastPathComponent
            if let reason = Limits.invalidNameReason(name) {
                throw ProblemError(file: url.path, message: "the file name gives the matrix the name '\(name.prefix(80))', which cannot name output files: \(reason)",
                                   hint: "rename the file, or give it a name in a .toml matrix file")
            }
            let (n, entries) = try MatrixMarket.read(url)
            return try validated(MatrixProblem(name: name, title: "\(name) (Matrix Market file)", kind: .matrixMarket,
                                               file: url, dimension: n, entries: entries), file: url.path, key: nil, text: nil)
        }
        let url: URL
        if nameOrPath.hasSuffix(".toml") || nameOrPath.contains("/") {
            url = URL(fileURLWithPath: nameOrPath)
        } else {
            let known = try names()
            guard known.contains(nameOrPath) else {
                throw ProblemError(message: "unknown matrix '\(nameOrPath)'; known: \(known.joined(separator: ", ")) (or give a .toml or .mtx path)")
            }
            url = try directory().appendingPathComponent(nameOrPath + ".toml")
        }
        return try parse(InputFile.text(atPath: url.path, display: url.path), file: url.path)
    }

    /// Parses matrix-file text; `file` names it in errors and anchors a relative Matrix Market `path`.
    public static func parse(_ text: String, file: String) throws -> MatrixProblem {
        try TOMLScreen.check(text, file: file)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ProblemError(file: file, line: error.source.begin.line, column: error.source.begin.column, message: error.description)
        } catch {
            throw ProblemError(file: file, message: "not a TOML file: \(error)")
        }
        var reader = MatrixFileReader(table: table, text: text, file: file)
        return try reader.read()
    }

    /// Checks entries finite and the matrix symmetric within `symmetryTolerance` (then symmetrises exactly).
    static func validated(_ problem: MatrixProblem, file: String, key: String?, text: String?) throws -> MatrixProblem {
        let n = problem.dimension
        let line = key.flatMap { k in text.flatMap { MatrixFileReader.line(of: k, in: $0) } }
        guard n >= 1, n <= maximumDimension else {
            throw ProblemError(file: file, line: line, key: key, message: "dimension \(n) outside 1…\(maximumDimension)")
        }
        var largest = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let v = problem.entries[i * n + j]
                guard v.isFinite else {
                    throw ProblemError(file: file, line: line, key: key, message: "entry (\(i + 1), \(j + 1)) is \(v): every entry must be finite")
                }
                largest = max(largest, abs(v))
            }
        }
        var result = problem
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let a = problem.entries[i * n + j], b = problem.entries[j * n + i]
                if abs(a - b) > symmetryTolerance * largest {
                    throw ProblemError(file: file, line: line, key: key, message:
                        "the matrix is not symmetric: entry (\(i + 1), \(j + 1)) = \(a) but (\(j + 1), \(i + 1)) = \(b) (tolerance \(symmetryTolerance) relative)")
                }
                let mean = 0.5 * (a + b)
                result.entries[i * n + j] = mean; result.entries[j * n + i] = mean
            }
        }
        return result
    }
}

/// Reads one matrix file's keys; every error names the file, the key and its line.
struct MatrixFileReader {
    let table: TOMLTable
    let text: String
    let file: String

    static let commonKeys: Set<String> = ["name", "title", "kind", "exact", "parameters"]
    static let kindKeys: [MatrixKind: Set<String>] = [
        .tridiagonal: ["n", "diagonal", "off_diagonal"],
        .schrodinger1d: ["n", "interval", "potential"],
        .randomSymmetric: ["n", "seed", "distribution"],
        .dense: ["n", "rows"],
        .matrixMarket: ["n", "path"],
    ]

    /// The 1-based line where `key = …` first appears (dotted keys: the last component).
    static func line(of key: String, in text: String) -> Int? {
        let last = key.split(separator: ".").last.map(String.init) ?? key
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).enumerated() {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            guard trimmed.hasPrefix(last) else { continue }
            let rest = trimmed.dropFirst(last.count).drop(while: { $0 == " " || $0 == "\t" })
            if rest.hasPrefix("=") { return index + 1 }
        }
        return nil
    }

    func error(_ key: String?, _ message: String) -> ProblemError {
        ProblemError(file: file, line: key.flatMap { Self.line(of: $0, in: text) }, key: key, message: message)
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let s = value.string else { throw error(key, "must be a string") }
        return s
    }

    func integer(_ key: String) throws -> Int {
        guard let value = table[key] else { throw error(key, "missing (required for this kind)") }
        guard let v = value.int else { throw error(key, "must be an integer") }
        return v
    }

    func number(_ value: TOMLValueConvertible, key: String) throws -> Double? {
        if let v = value.int { return Double(v) }
        if let v = value.double { return v }
        return nil
    }

    var parameterNames: [String] = []
    var parameterValues: [Double] = []

    /// A number, or an expression string in `slots` + the parameters, compiled.
    func expression(_ value: TOMLValueConvertible, key: String, slots: [String]) throws -> Expression {
        if let v = try number(value, key: key) {
            guard v.isFinite else { throw error(key, "must be a finite number, got \(v)") }
            return try Expression.parse("(\(v))", slots: [])
        }
        guard let text = value.string else { throw error(key, "must be a number or an expression string") }
        do { return try Expression.parse(text, slots: slots + parameterNames) } catch let e as ExpressionError {
            throw ProblemError(file: file, line: Self.line(of: key, in: self.text), key: key, column: e.column,
                               message: "\(e.message) in '\(text.count <= 80 ? text : text.prefix(77) + "…")' (names allowed: \((slots + parameterNames + ["pi", "e"]).joined(separator: ", ")))")
        }
    }

    /// Evaluates `value` (a number or an expression) with the slots bound to `slotValues`.
    func evaluator(_ value: TOMLValueConvertible?, key: String, slots: [String]) throws -> ([Double]) -> Double {
        guard let value else { throw error(key, "missing (required for this kind)") }
        if let v = try number(value, key: key) {
            guard v.isFinite else { throw error(key, "must be a finite number, got \(v)") }
            return { _ in v }
        }
        let compiled = try expression(value, key: key, slots: slots)
        let parameters = parameterValues
        return { compiled.evaluate($0 + parameters) }
    }

    mutating func read() throws -> MatrixProblem {
        guard let kindText = try string("kind") else {
            throw error(nil, "missing 'kind' (one of \(MatrixKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let kind = MatrixKind(rawValue: kindText) else {
            throw error("kind", "unknown kind '\(kindText)' (one of \(MatrixKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let allowed = Self.commonKeys.union(Self.kindKeys[kind]!)
        for key in table.keys.sorted() where !allowed.contains(key) {
            throw error(key, "unknown key '\(key)' for kind '\(kind.rawValue)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        let url = URL(fileURLWithPath: file)
        let name = try string("name") ?? url.deletingPathExtension().lastPathComponent
        if let reason = Limits.invalidNameReason(name) {
            throw table["name"] != nil ? error("name", "\(reason): '\(name.prefix(80))'")
                : error(nil, "the file name gives the matrix the name '\(name.prefix(80))', which cannot name output files: \(reason) (set name = \"…\")")
        }
        let title = try string("title") ?? name

        if let parameters = table["parameters"] {
            guard let parameterTable = parameters.table else { throw error("parameters", "must be a table of numbers") }
            for key in parameterTable.keys.sorted() {
                guard let v = try parameterTable[key].flatMap({ try number($0, key: "parameters.\(key)") }) else {
                    throw error("parameters.\(key)", "must be a number")
                }
                guard v.isFinite else { throw error("parameters.\(key)", "must be a finite number, got \(v)") }
                parameterNames.append(key); parameterValues.append(v)
            }
        }

        var n: Int? = nil
        if table["n"] != nil {
            let value = try integer("n")
            guard value >= 1, value <= MatrixCatalog.maximumDimension else {
                throw error("n", "must be in 1…\(MatrixCatalog.maximumDimension) (got \(value))")
            }
            n = value
        }
        func requireN() throws -> Int {
            guard let n else { throw error("n", "missing (required for kind '\(kind.rawValue)')") }
            return n
        }

        var entries: [Double]
        var dimension: Int
        var family: RandomSymmetricFamily? = nil
        var entryKey: String? = nil
        switch kind {
        case .tridiagonal:
            dimension = try requireN()
            let diagonal = try evaluator(table["diagonal"], key: "diagonal", slots: ["i", "n"])
            let offDiagonal = try evaluator(table["off_diagonal"], key: "off_diagonal", slots: ["i", "n"])
            entries = [Double](repeating: 0, count: dimension * dimension)
            for i in 0..<dimension {
                entries[i * dimension + i] = diagonal([Double(i + 1), Double(dimension)])
                if i + 1 < dimension {
                    let b = offDiagonal([Double(i + 1), Double(dimension)])
                    entries[i * dimension + i + 1] = b; entries[(i + 1) * dimension + i] = b
                }
            }
            entryKey = "diagonal"
        case .schrodinger1d:
            dimension = try requireN()
            guard let interval = table["interval"]?.array, interval.count == 2,
                  let a = try number(interval[0], key: "interval"), let b = try number(interval[1], key: "interval"),
                  a.isFinite, b.isFinite, a < b else {
                throw error("interval", "must be [a, b] with finite a < b")
            }
            let potential = try evaluator(table["potential"], key: "potential", slots: ["x"])
            let h = (b - a) / Double(dimension + 1)
            entries = [Double](repeating: 0, count: dimension * dimension)
            for i in 0..<dimension {
                let x = a + Double(i + 1) * h
                entries[i * dimension + i] = 2 / (h * h) + potential([x])
                if i + 1 < dimension {
                    entries[i * dimension + i + 1] = -1 / (h * h); entries[(i + 1) * dimension + i] = -1 / (h * h)
                }
            }
            entryKey = "potential"
        case .randomSymmetric:
            dimension = try requireN()
            let seed = try integer("seed")
            guard seed >= 0 else { throw error("seed", "must be a non-negative integer") }
            let distributionText = try string("distribution") ?? EntryDistribution.uniform.rawValue
            guard let distribution = EntryDistribution(rawValue: distributionText) else {
                throw error("distribution", "unknown distribution '\(distributionText)' (uniform or normal)")
            }
            family = RandomSymmetricFamily(dimension: dimension, distribution: distribution)
            entries = family!.member(seed: UInt64(seed))
        case .dense:
            guard let rows = table["rows"]?.array else { throw error("rows", "missing or not a list of rows") }
            dimension = rows.count
            guard dimension >= 1 else { throw error("rows", "must hold at least one row") }
            guard dimension <= MatrixCatalog.maximumDimension else {
                throw error("rows", "has \(dimension) rows, more than the limit of \(MatrixCatalog.maximumDimension)")
            }
            if let n, n != dimension { throw error("rows", "has \(dimension) rows but n = \(n)") }
            entries = []
            entries.reserveCapacity(dimension * dimension)
            for (r, row) in rows.enumerated() {
                guard let values = row.array else { throw error("rows", "row \(r + 1) is not a list") }
                guard values.count == dimension else {
                    throw error("rows", "row \(r + 1) has \(values.count) entries; a \(dimension)×\(dimension) matrix needs \(dimension)")
                }
                for value in values { entries.append(try evaluator(value, key: "rows", slots: [])([])) }
            }
            entryKey = "rows"
        case .matrixMarket:
            guard let path = try string("path") else { throw error("path", "missing (required for kind 'matrix-market')") }
            let mtx = path.hasPrefix("/") ? URL(fileURLWithPath: path)
                : url.deletingLastPathComponent().appendingPathComponent(path)
            (dimension, entries) = try MatrixMarket.read(mtx)
            if let n, n != dimension { throw error("n", "n = \(n) but \(path) is \(dimension)×\(dimension)") }
            entryKey = "path"
        }

        var exact: Expression? = nil
        if let exactValue = table["exact"] { exact = try expression(exactValue, key: "exact", slots: ["k", "n"]) }
        let problem = MatrixProblem(name: name, title: title, kind: kind, file: url, dimension: dimension, entries: entries,
                                    exact: exact, exactParameters: parameterValues, family: family)
        return try MatrixCatalog.validated(problem, file: file, key: entryKey, text: text)
    }
}
