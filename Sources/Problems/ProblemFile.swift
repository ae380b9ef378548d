// Reading a problem file: TOML into a ProblemSource (the declarations, expressions kept as text), with every
// user mistake reported as a ProblemError naming the file, line, key and, for expressions, the column.
import Foundation
import TOMLKit

/// A number or a constant expression of the parameters, as written in the file.
enum Definition: Sendable, Equatable {
    case number(Double)
    case expression(String)
}

/// What a problem file declares. Expressions stay text so that a `--set` override can recompile them.
struct ProblemSource: Sendable {
    var file: String
    var lines: KeyLines
    var name: String
    var title: String
    var variables: [String]
    var lyapunov: Double?
    var parameters: [(name: String, value: Definition)]
    var equations: [Definition]
    var initial: [Definition]
    var time: (start: Definition, end: Definition, step: Definition)
    var reference: ReferenceSettings
    var sampling: [(lo: Definition, hi: Definition)]?
    var transient: Definition?
    var invariants: [(name: String, text: String)]
    var exact: [String]?

    func error(_ key: String?, _ message: String, column: Int? = nil, hint: String? = nil,
               lineOf lineKey: String? = nil) -> ProblemError {
        ProblemError(file: file, line: (lineKey ?? key).flatMap { lines.line(of: $0) }, key: key, column: column,
                     message: message, hint: hint)
    }
}

/// The line of each key (`equations.y`) and table header (`equations`), found by scanning the text:
/// the TOML library does not report positions of keys.
struct KeyLines: Sendable {
    private var lines: [String: Int] = [:]

    init(_ text: String) {
        var section = ""
        var inMultilineString: String? = nil
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let delimiter = inMultilineString {
                if line.contains(delimiter) { inMultilineString = nil }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let header = line.drop(while: { $0 == "[" }).prefix(while: { $0 != "]" })
                section = KeyLines.normalize(String(header))
                if lines[section] == nil { lines[section] = n + 1 }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = KeyLines.normalize(String(line[..<equals]))
            let full = section.isEmpty ? key : section + "." + key
            if lines[full] == nil { lines[full] = n + 1 }
            let value = line[line.index(after: equals)...]
            for delimiter in ["\"\"\"", "'''"] where value.components(separatedBy: delimiter).count == 2 {
                inMultilineString = delimiter
            }
        }
    }

    /// `a . "b"` → `a.b`
    private static func normalize(_ key: String) -> String {
        key.split(separator: ".").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }.joined(separator: ".")
    }

    /// The line of `key`, else of the nearest enclosing table that has one.
    func line(of key: String) -> Int? {
        var parts = key.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            if let n = lines[parts.joined(separator: ".")] { return n }
            parts.removeLast()
        }
        return nil
    }
}

/// The GSL odeiv2 stepper names a `[reference]` table may give (public as `ReferenceSettings.methods`).
let referenceMethods = ["rk2", "rk4", "rkf45", "rkck", "rk8pd", "rk1imp", "rk2imp", "rk4imp", "bsimp",
                               "msadams", "msbdf"]

/// Names an expression may not use for a variable or parameter.
let reservedNames: Set<String> = Set(["t", "t_0", "pi", "e"] + Function.allCases.map(\.rawValue))

enum ProblemFileReader {
    static let topLevelKeys = ["name", "title", "variables", "lyapunov", "parameters", "equations", "initial", "time",
                               "reference", "sampling", "invariants", "exact"]

    static func read(_ text: String, file: String) throws(ProblemError) -> ProblemSource {
        let lines = KeyLines(text)
        func fail(_ key: String?, _ message: String, hint: String? = nil, lineOf: String? = nil) -> ProblemError {
            ProblemError(file: file, line: (lineOf ?? key).flatMap { lines.line(of: $0) }, key: key,
                         message: message, hint: hint)
        }

        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProblemError(file: file, line: error.source.begin.line, column: error.source.begin.column,
                               message: "TOML syntax error: " + error.description.prefix(1).lowercased() + error.description.dropFirst())
        } catch {
            throw ProblemError(file: file, message: "cannot read TOML: \(error)")
        }

        // Keys.
        for key in root.keys where !topLevelKeys.contains(key) {
            throw fail(key, "unknown key '\(key)'", hint: suggestion(key, topLevelKeys, list: "keys"))
        }
        func table(_ key: String, required: Bool) throws(ProblemError) -> TOMLTable? {
            guard let value = root[key] else {
                if required { throw fail(nil, "missing [\(key)] table") }
                return nil
            }
            guard let t = value.table else { throw fail(key, "expected a table, got \(describe(value))") }
            return t
        }
        func string(_ key: String) throws(ProblemError) -> String? {
            guard let value = root[key] else { return nil }
            guard let s = value.string else { throw fail(key, "expected a string, got \(describe(value))") }
            return s
        }

        guard let name = try string("name") else { throw fail(nil, "missing key 'name'", hint: "e.g. name = \"lorenz\"") }
        let title = try string("title") ?? name

        // Variables.
        guard let variablesValue = root["variables"] else {
            throw fail(nil, "missing key 'variables'", hint: "e.g. variables = [\"x\", \"y\"]")
        }
        guard let array = variablesValue.array, !array.isEmpty else {
            throw fail("variables", "expected a non-empty array of names, got \(describe(variablesValue))")
        }
        var variables: [String] = []
        for element in array {
            guard let v = element.string else {
                throw fail("variables", "expected names (strings), got \(describe(element))")
            }
            try checkName(v, key: "variables", what: "variable", fail: fail)
            if variables.contains(v) { throw fail("variables", "variable '\(v)' is declared twice") }
            variables.append(v)
        }
        let zeroNames = variables.map { $0 + "_0" }

        var lyapunov: Double? = nil
        if let value = root["lyapunov"] {
            guard let x = number(value), x.isFinite else {
                throw fail("lyapunov", "expected a number, got \(describe(value))")
            }
            lyapunov = x
        }

        // Parameters.
        var parameters: [(name: String, value: Definition)] = []
        if let t = try table("parameters", required: false) {
            for key in t.keys.sorted() {
                try checkName(key, key: "parameters.\(key)", what: "parameter", fail: fail)
                if variables.contains(key) {
                    throw fail("parameters.\(key)", "parameter '\(key)' has the name of a variable")
                }
                if zeroNames.contains(key) {
                    throw fail("parameters.\(key)", "parameter '\(key)' has the name of an initial value",
                               hint: "\(key) stands for the initial value of \(key.dropLast(2)) in exact solutions")
                }
                parameters.append((key, try definition(t[key]!, key: "parameters.\(key)", fail: fail)))
            }
        }

        // Per-variable tables: equations, initial, exact.
        func perVariable(_ tableName: String, required: Bool, extra: [String] = [],
                         what: String) throws(ProblemError) -> [String: TOMLValueConvertible]? {
            guard let t = try table(tableName, required: required) else { return nil }
            var values: [String: TOMLValueConvertible] = [:]
            for key in t.keys where !extra.contains(key) {
                guard variables.contains(key) else {
                    let hint = suggestion(key, variables, list: "variables")
                    throw fail("\(tableName).\(key)", "\(what) for undeclared variable '\(key)'", hint: hint)
                }
                values[key] = t[key]!
            }
            return values
        }

        let equationValues = try perVariable("equations", required: true, what: "equation")!
        var equations: [Definition] = []
        for v in variables {
            guard let value = equationValues[v] else {
                throw fail("equations", "missing equation for '\(v)'", hint: "add \(v) = \"…\" under [equations]")
            }
            equations.append(try definition(value, key: "equations.\(v)", fail: fail))
        }

        let initialValues = try perVariable("initial", required: true, what: "initial value")!
        var initial: [Definition] = []
        for v in variables {
            guard let value = initialValues[v] else {
                throw fail("initial", "no initial value for '\(v)'", hint: "add \(v) = … under [initial]")
            }
            initial.append(try definition(value, key: "initial.\(v)", fail: fail))
        }

        // Time.
        guard let timeTable = try table("time", required: true) else { throw fail(nil, "missing [time] table") }
        for key in timeTable.keys where !["start", "end", "step"].contains(key) {
            throw fail("time.\(key)", "unknown key '\(key)'", hint: suggestion(key, ["start", "end", "step"], list: "keys"))
        }
        func timeValue(_ key: String) throws(ProblemError) -> Definition? {
            try timeTable[key].map { v throws(ProblemError) in try definition(v, key: "time.\(key)", fail: fail) }
        }
        let start = try timeValue("start") ?? .number(0)
        guard let end = try timeValue("end") else { throw fail("time", "missing key 'time.end'") }
        guard let step = try timeValue("step") else { throw fail("time", "missing key 'time.step'") }

        // Reference settings.
        var reference = ReferenceSettings()
        if let t = try table("reference", required: false) {
            let keys = ["method", "rtol", "atol"]
            for key in t.keys where !keys.contains(key) {
                throw fail("reference.\(key)", "unknown key '\(key)'", hint: suggestion(key, keys, list: "keys"))
            }
            if let value = t["method"] {
                guard let method = value.string else {
                    throw fail("reference.method", "expected a method name (string), got \(describe(value))")
                }
                guard referenceMethods.contains(method) else {
                    let hint = closest(to: method, in: referenceMethods).map { "did you mean '\($0)'?" }
                        ?? "valid: \(referenceMethods.joined(separator: ", "))"
                    throw fail("reference.method", "unknown method '\(method)'", hint: hint)
                }
                reference.method = method
            }
            for key in ["rtol", "atol"] {
                guard let value = t[key] else { continue }
                guard let x = number(value) else {
                    throw fail("reference.\(key)", "expected a positive number, got \(describe(value))")
                }
                guard x.isFinite, x > 0 else { throw fail("reference.\(key)", "must be a positive number, got \(x)") }
                if key == "rtol" { reference.relativeTolerance = x } else { reference.absoluteTolerance = x }
            }
        }

        // Sampling box.
        var sampling: [(lo: Definition, hi: Definition)]? = nil
        var transient: Definition? = nil
        if let values = try perVariable("sampling", required: false, extra: ["transient"], what: "sampling range") {
            var ranges: [(lo: Definition, hi: Definition)] = []
            for v in variables {
                let key = "sampling.\(v)"
                guard let value = values[v] else {
                    throw fail("sampling", "no sampling range for '\(v)'", hint: "add \(v) = [lo, hi] under [sampling]")
                }
                guard let pair = value.array, pair.count == 2 else {
                    throw fail(key, "expected a range [lo, hi], got \(describe(value))")
                }
                ranges.append((try definition(pair[0], key: key, fail: fail), try definition(pair[1], key: key, fail: fail)))
            }
            sampling = ranges
            if let t = root["sampling"]?.table, let value = t["transient"] {
                transient = try definition(value, key: "sampling.transient", fail: fail)
            }
        }

        // Invariants.
        var invariants: [(name: String, text: String)] = []
        if let t = try table("invariants", required: false) {
            for key in t.keys.sorted() {
                guard let text = t[key]!.string else {
                    throw fail("invariants.\(key)", "expected an expression string, got \(describe(t[key]!))")
                }
                invariants.append((key, text))
            }
            // In file order (names break ties when lines are unknown).
            invariants.sort {
                let a = lines.line(of: "invariants.\($0.name)") ?? 0, b = lines.line(of: "invariants.\($1.name)") ?? 0
                return a != b ? a < b : $0.name < $1.name
            }
        }

        // Exact solution.
        var exact: [String]? = nil
        if let values = try perVariable("exact", required: false, what: "exact solution") {
            var texts: [String] = []
            for v in variables {
                guard let value = values[v] else {
                    throw fail("exact", "no exact solution for '\(v)'", hint: "give one for every variable, or none")
                }
                guard let text = value.string ?? number(value).map({ "\($0)" }) else {
                    throw fail("exact.\(v)", "expected an expression string, got \(describe(value))")
                }
                texts.append(text)
            }
            exact = texts
        }

        return ProblemSource(file: file, lines: lines, name: name, title: title, variables: variables,
                             lyapunov: lyapunov, parameters: parameters, equations: equations, initial: initial,
                             time: (start, end, step), reference: reference, sampling: sampling,
                             transient: transient, invariants: invariants, exact: exact)
    }

    static func number(_ value: TOMLValueConvertible) -> Double? {
        value.double ?? value.int.map(Double.init)
    }

    static func definition(_ value: TOMLValueConvertible, key: String,
                           fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> Definition {
        if let x = number(value) { return .number(x) }
        if let s = value.string { return .expression(s) }
        throw fail(key, "expected a number or an expression string, got \(describe(value))", nil, nil)
    }

    static func checkName(_ name: String, key: String, what: String,
                          fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) {
        let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else {
            throw fail(key, "'\(name)' is not a valid \(what) name", "use letters, digits and _, starting with a letter", nil)
        }
        guard !reservedNames.contains(name) else {
            throw fail(key, "'\(name)' is reserved and cannot name a \(what)", "t, t_0, pi, e and function names are reserved", nil)
        }
    }

    static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "a string"
        case .int, .double: "a number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }

    static func suggestion(_ key: String, _ candidates: [String], list: String) -> String {
        closest(to: key, in: candidates).map { "did you mean '\($0)'?" }
            ?? "\(list): \(candidates.joined(separator: ", "))"
    }
}
