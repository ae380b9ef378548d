// Fuzz target: ODE problem files. Loads the input as a problem file (TOML, declarations, expressions,
// compilation to the interpreted programs); a problem that loads is evaluated once: f, its Jacobian, the
// invariants and the exact solution at the start, and a parameter override.
import Foundation
import FuzzSupport
import Problems

private let prepared: Void = FuzzInput.prepare()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProblemFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = prepared
    guard let data else { return 0 }
    guard let text = FuzzInput.text(data, size) else { return 0 }
    if KnownTOMLAssertions.skip(text) { return 0 }
    let problem: Problem
    do {
        problem = try Catalog.parse(text, file: "fuzz.toml")
    } catch let error as ProblemError {
        _ = error.description
        return 0
    } catch {
        fatalError("Catalog.parse threw \(type(of: error)), not a ProblemError: \(error)")
    }
    let t = problem.time.start
    _ = problem.vectorField.evaluate(t: t, state: problem.initial)
    _ = problem.vectorField.jacobian(t: t, state: problem.initial)
    _ = problem.invariantValues(t: t, state: problem.initial)
    _ = problem.exactState(at: t)
    if let name = problem.parameterNames.first {
        _ = try? problem.setting(name, to: 0.5)
    }
    return 0
}

@_cdecl("fuzz_problem_file_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzProblemFile)
}
