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
    /// Period of each variable that is an angle (the `[periodic]` table), nil for the others.
    var periods: [Definition?]
    /// Period of the external drive (the `[forcing]` table's `period`), nil for an autonomous problem.
    var forcingPeriod: Definition?
    /// Sites of each variable, nil for a scalar (the `[dimensions]` table).
    var sizes: [Int?]
    /// Boundary rule of each array variable, nil for a scalar (the `[boundary]` table).
    var boundaries: [ArrayBoundary?]
    /// Initial values given as a list of numbers, one per site, by variable index.
    var initialLists: [Int: [Definition]]
    /// Settings of the learned models (the `[learning]` table).
    var learning: LearningSettings

    /// True when some variable is an array.
    var hasArrays: Bool { sizes.contains { $0 != nil } }

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
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).enumerated() {
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
    static let topLevelKeys = ["name", "title", "variables", "dimensions", "boundary", "lyapunov", "parameters",
                               "equations", "initial", "time", "reference", "sampling", "periodic", "forcing", "invariants", "exact", "learning"]

    static func read(_ text: String, file: String) throws(ProblemError) -> ProblemSource {
        let lines = KeyLines(text)
        func fail(_ key: String?, _ message: String, hint: String? = nil, lineOf: String? = nil) -> ProblemError {
            ProblemError(file: file, line: (lineOf ?? key).flatMap { lines.line(of: $0) }, key: key,
                         message: message, hint: hint)
        }

        try TOMLScreen.check(text, file: file)
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
        if let reason = Limits.invalidNameReason(name) {
            throw fail("name", "\(reason): '\(name.prefix(80))'", hint: "the name names output files; e.g. name = \"my-problem\"")
        }
        let title = try string("title") ?? name

        // Variables.
        guard let variablesValue = root["variables"] else {
            throw fail(nil, "missing key 'variables'", hint: "e.g. variables = [\"x\", \"y\"]")
        }
        guard let array = variablesValue.array, !array.isEmpty else {
            throw fail("variables", "expected a non-empty array of names, got \(describe(variablesValue))")
        }
        guard array.count <= Limits.variables else {
            throw fail("variables", "\(array.count) variables, more than the limit of \(Limits.variables)")
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

        // Array variables: sizes and boundary rules.
        var sizes = [Int?](repeating: nil, count: variables.count)
        var boundaries = [ArrayBoundary?](repeating: nil, count: variables.count)
        if let t = try table("dimensions", required: false) {
            var total = variables.count
            for key in t.keys.sorted() {
                let full = "dimensions.\(key)"
                guard let k = variables.firstIndex(of: key) else {
                    throw fail(full, "size for undeclared variable '\(key)'", hint: suggestion(key, variables, list: "variables"))
                }
                let value = t[key]!
                guard let n = value.int, n >= 1 else {
                    throw fail(full, "expected a positive whole number of sites, got \(describe(value))")
                }
                total += n - 1
                guard n <= Limits.variables, total <= Limits.variables else {
                    throw fail(full, "\(key) has \(n) sites, which makes more than the limit of \(Limits.variables) state components")
                }
                sizes[k] = n
            }
        }
        let arrayNames = variables.indices.filter { sizes[$0] != nil }.map { variables[$0] }
        if let t = try table("boundary", required: false) {
            for key in t.keys.sorted() {
                let full = "boundary.\(key)"
                guard let k = variables.firstIndex(of: key), sizes[k] != nil else {
                    let hint = arrayNames.isEmpty ? "give the variable a size under [dimensions] first"
                        : suggestion(key, arrayNames, list: "array variables")
                    throw fail(full, "boundary for '\(key)', which is not an array variable", hint: hint)
                }
                let choices = ArrayBoundary.allCases.map(\.rawValue)
                guard let text = t[key]!.string, let rule = ArrayBoundary(rawValue: text) else {
                    let got = t[key]!.string.map { "\"\(shortened($0))\"" } ?? describe(t[key]!)
                    throw fail(full, "expected \(choices.map { "\"\($0)\"" }.joined(separator: " or ")), got \(got)")
                }
                boundaries[k] = rule
            }
        }
        for name in arrayNames where boundaries[variables.firstIndex(of: name)!] == nil {
            throw fail("boundary", "no boundary for array variable '\(name)'",
                       hint: "add \(name) = \"periodic\" or \(name) = \"zero\" under [boundary]",
                       lineOf: root["boundary"] == nil ? "dimensions.\(name)" : "boundary")
        }
        // With arrays, `i` is the site index and n_x the size of x.
        let arrayReserved = arrayNames.isEmpty ? [] : ["i"] + arrayNames.map { "n_" + $0 }
        for v in variables where arrayReserved.contains(v) {
            throw fail("variables", "'\(v)' is reserved in a problem with arrays",
                       hint: "i is the site index and n_<array> the number of sites")
        }

        var lyapunov: Double? = nil
        if let value = root["lyapunov"] {
            guard let x = number(value) else { throw fail("lyapunov", "expected a number, got \(describe(value))") }
            guard x.isFinite else { throw fail("lyapunov", "must be a finite number, got \(x)") }
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
                if arrayReserved.contains(key) {
                    throw fail("parameters.\(key)", "'\(key)' is reserved in a problem with arrays",
                               hint: "i is the site index and n_<array> the number of sites")
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
        var initialLists: [Int: [Definition]] = [:]
        for (k, v) in variables.enumerated() {
            guard let value = initialValues[v] else {
                throw fail("initial", "no initial value for '\(v)'", hint: "add \(v) = … under [initial]")
            }
            if let n = sizes[k], let list = value.array {
                guard list.count == n else {
                    throw fail("initial.\(v)", "expected \(n) values, one per site of \(v), got \(list.count)",
                               hint: "or give one expression of the site index i")
                }
                var values: [Definition] = []
                for element in list {
                    guard let x = number(element) else {
                        throw fail("initial.\(v)", "expected numbers in the list, got \(describe(element))")
                    }
                    guard x.isFinite else { throw fail("initial.\(v)", "must be finite numbers, got \(x)") }
                    values.append(.number(x))
                }
                initialLists[k] = values
                initial.append(.number(0))
                continue
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
                guard x.isFinite else { throw fail("reference.\(key)", "must be a finite positive number, got \(x)") }
                guard x > 0 else { throw fail("reference.\(key)", "must be a positive number, got \(x)") }
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

        // Periodic variables (angles): a period each.
        var periods = [Definition?](repeating: nil, count: variables.count)
        if let values = try perVariable("periodic", required: false, what: "period") {
            for (k, v) in variables.enumerated() {
                guard let value = values[v] else { continue }
                periods[k] = try definition(value, key: "periodic.\(v)", fail: fail)
            }
        }

        // External drive: its period.
        var forcingPeriod: Definition? = nil
        if let t = try table("forcing", required: false) {
            for key in t.keys where key != "period" {
                throw fail("forcing.\(key)", "unknown key '\(key)'", hint: "[forcing] takes one key: period = \"2 * pi / omega\"")
            }
            guard let value = t["period"] else {
                throw fail("forcing", "missing key 'forcing.period'", hint: "the period of the drive, e.g. period = \"2 * pi / omega\"")
            }
            forcingPeriod = try definition(value, key: "forcing.period", fail: fail)
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
                if let x = number(value), !x.isFinite {
                    throw fail("exact.\(v)", "must be a finite number, got \(x)")
                }
                guard let text = value.string ?? number(value).map({ "\($0)" }) else {
                    throw fail("exact.\(v)", "expected an expression string, got \(describe(value))")
                }
                texts.append(text)
            }
            exact = texts
        }

        // Settings of the learned models.
        let learning = try learning(root["learning"], fail: fail)

        return ProblemSource(file: file, lines: lines, name: name, title: title, variables: variables,
                             lyapunov: lyapunov, parameters: parameters, equations: equations, initial: initial,
                             time: (start, end, step), reference: reference, sampling: sampling,
                             transient: transient, invariants: invariants, exact: exact, periods: periods, forcingPeriod: forcingPeriod, sizes: sizes,
                             boundaries: boundaries, initialLists: initialLists, learning: learning)
    }

    static func number(_ value: TOMLValueConvertible) -> Double? {
        value.double ?? value.int.map(Double.init)
    }

    static func definition(_ value: TOMLValueConvertible, key: String,
                           fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> Definition {
        if let x = number(value) {
            guard x.isFinite else { throw fail(key, "must be a finite number, got \(x)", nil, nil) }
            return .number(x)
        }
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

    /// What a value is, for "expected …, got …" messages: its type, and a number's value.
    static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "a string"
        case .int: "the integer \(value.int.map(String.init) ?? "?")"
        case .double: "the number \(value.double.map { "\($0)" } ?? "?")"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }

    static func suggestion(_ key: String, _ candidates: [String], list: String) -> String {
        closest(to: key, in: candidates).map { "did you mean '\($0)'?" }
            ?? "\(list): \(candidates.joined(separator: ", "))"
    }
}

/// A lexical screen run before the TOML library sees a file. The library (toml++) stops the process on its own
/// assertions for a few malformed shapes instead of reporting them; each shape found by fuzzing it is refused here
/// with a position, and no valid TOML has any of them:
/// - a table header whose `[` or `[[` (and spaces) is followed by anything but a key, a quote or `]`: `[[[`, `[=`;
/// - `}` where an array element is expected (after `[` or `,`): `a = [}`;
/// - U+0085, U+2028 or U+2029 (line separators TOML does not allow) outside strings and comments;
/// - a date followed by `T` and no hour (`1979-05-27T:`), or by a space and a one-digit hour (`1979-05-27 1`).
enum TOMLScreen {
    static func check(_ text: String, file: String) throws(ProblemError) {
        let bytes = Array(text.utf8)
        let n = bytes.count
        var i = 0
        var line = 1
        var lineStart = 0
        // Open arrays ('[') and inline tables ('{') of the value being read.
        var containers: [UInt8] = []
        var atLineStart = true
        var elementExpected = false
        var valueExpected = false

        func column(_ position: Int) -> Int {
            // Characters, not bytes: UTF-8 continuation bytes do not start one.
            bytes[lineStart..<position].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        }
        func fail(_ position: Int, _ message: String) -> ProblemError {
            ProblemError(file: file, line: line, column: column(position), message: "TOML syntax error: " + message)
        }
        func shown(_ position: Int) -> String {
            guard position < n else { return "end of file" }
            let b = bytes[position]
            if b == UInt8(ascii: "\n") { return "end of line" }
            if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
            if b >= 0x80, let scalar = String(decoding: bytes[position..<min(n, position + 4)], as: UTF8.self).unicodeScalars.first {
                return "U+" + String(scalar.value, radix: 16, uppercase: true)
            }
            return "byte 0x" + String(b, radix: 16)
        }
        func isDigit(_ position: Int) -> Bool { position < n && bytes[position] >= 0x30 && bytes[position] <= 0x39 }
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        func isBareKey(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
        func isLineSeparator(_ position: Int) -> Bool {
            let b = bytes[position]
            if b == 0xC2 { return position + 1 < n && bytes[position + 1] == 0x85 }
            if b == 0xE2 { return position + 2 < n && bytes[position + 1] == 0x80 && (bytes[position + 2] == 0xA8 || bytes[position + 2] == 0xA9) }
            return false
        }
        /// A value starting at `position`: the date shapes.
        func checkValue(_ position: Int) throws(ProblemError) {
            guard isDigit(position) else { return }
            // Raw `YYYY-MM-DD` then `T`/`t` without an hour digit.
            let raw = Array(bytes[position..<min(n, position + 10)])
            let dateShape = raw.count == 10 && raw.enumerated().allSatisfy { k, b in
                k == 4 || k == 7 ? b == UInt8(ascii: "-") : (b >= 0x30 && b <= 0x39)
            }
            if dateShape, position + 10 < n, bytes[position + 10] | 0x20 == UInt8(ascii: "t"), !isDigit(position + 11) {
                throw fail(position + 11, "a date-time needs the time HH:MM:SS after 'T', saw \(shown(position + 11))")
            }
            // As the library scans: up to a terminator (white space, ']', '}', ',', '#'), underscores skipped, ten
            // characters with '-' at 5 and 8 (whatever the others are) look like a date; a space and a digit after
            // them make it read on, and a terminator right after that one digit stops it on an assertion.
            var k = position, characters: [UInt8] = []
            while k < n, characters.count <= 10 {
                let b = bytes[k]
                let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                if b < 0x80 {
                    if isBlank(b) || (0x0A...0x0D).contains(b) || b == UInt8(ascii: "]") || b == UInt8(ascii: "}")
                        || b == UInt8(ascii: ",") || b == UInt8(ascii: "#") { break }
                } else if let scalar = String(decoding: bytes[k..<min(n, k + length)], as: UTF8.self).unicodeScalars.first,
                          scalar.properties.isWhitespace {
                    break
                }
                if b != UInt8(ascii: "_") { characters.append(b) }
                k += length
            }
            let looksLikeDate = characters.count == 10 && characters[4] == UInt8(ascii: "-") && characters[7] == UInt8(ascii: "-")
            if looksLikeDate, k < n, bytes[k] == 0x20, isDigit(k + 1), k + 2 < n, !isDigit(k + 2) {
                throw fail(k + 1, "a date-time needs a two-digit hour after the date and the space, saw \(shown(k + 2)) after one digit")
            }
        }

        while i < n {
            let b = bytes[i]
            switch b {
            case 0x0A:
                i += 1; line += 1; lineStart = i
                atLineStart = containers.isEmpty
                valueExpected = false
                continue
            case 0x20, 0x09, 0x0D:
                i += 1
                continue
            case UInt8(ascii: "#"):
                while i < n, bytes[i] != 0x0A { i += 1 }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // A string: basic (with escapes) or literal, single- or multi-line.
                let triple = i + 2 < n && bytes[i + 1] == b && bytes[i + 2] == b
                i += triple ? 3 : 1
                while i < n {
                    let c = bytes[i]
                    if c == 0x0A {
                        if !triple { break }
                        line += 1; lineStart = i + 1
                    }
                    if c == UInt8(ascii: "\\") && b == UInt8(ascii: "\"") {
                        if i + 1 < n && bytes[i + 1] == 0x0A { line += 1; lineStart = i + 2 }
                        i += 2
                        continue
                    }
                    if c == b {
                        if !triple { i += 1; break }
                        if i + 2 < n && bytes[i + 1] == b && bytes[i + 2] == b {
                            i += 3
                            while i < n && bytes[i] == b { i += 1 }  // up to two quotes may end the content
                            break
                        }
                    }
                    i += 1
                }
                atLineStart = false; elementExpected = false; valueExpected = false
                continue
            default:
                break
            }
            if b >= 0x80 && isLineSeparator(i) {
                throw fail(i, "\(shown(i)) is not a line break TOML allows outside strings")
            }
            if atLineStart && containers.isEmpty {
                atLineStart = false
                if b == UInt8(ascii: "[") {
                    // A table header: the key must follow `[` or `[[` and spaces.
                    var j = i + 1, blank = false
                    while j < n, isBlank(bytes[j]) { j += 1; blank = true }
                    if j < n, bytes[j] == UInt8(ascii: "["), !blank {
                        j += 1
                        while j < n, isBlank(bytes[j]) { j += 1 }
                    } else if blank, j < n, bytes[j] == UInt8(ascii: "[") {
                        i = j + 1  // `[ [`: the library reports it
                        continue
                    }
                    if j < n, !isBareKey(bytes[j]), bytes[j] != UInt8(ascii: "\""), bytes[j] != UInt8(ascii: "'"),
                       bytes[j] != UInt8(ascii: "]") {
                        throw fail(j, "a table header needs a key after '[', saw \(shown(j))")
                    }
                    i = j
                    continue
                }
            }
            if elementExpected && b == UInt8(ascii: "}") {
                throw fail(i, "expected an array element or ']', saw '}'")
            }
            if valueExpected || elementExpected { try checkValue(i) }
            elementExpected = false
            valueExpected = false
            switch b {
            case UInt8(ascii: "="):
                valueExpected = true
            case UInt8(ascii: "["):
                containers.append(b)
                elementExpected = true
            case UInt8(ascii: "{"):
                containers.append(b)
            case UInt8(ascii: "]"):
                if containers.last == UInt8(ascii: "[") { containers.removeLast() }
            case UInt8(ascii: "}"):
                if containers.last == UInt8(ascii: "{") { containers.removeLast() }
            case UInt8(ascii: ","):
                elementExpected = containers.last == UInt8(ascii: "[")
            default:
                break
            }
            i += 1
        }
    }
}
