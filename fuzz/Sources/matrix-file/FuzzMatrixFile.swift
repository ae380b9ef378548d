// Fuzz target: matrix inputs of `rnnode eigen`. The input goes both to the Matrix Market reader and to the
// matrix problem-file reader (TOML: kind, dimension, entries or a Matrix Market path, the exact eigenvalues).
import Foundation
import FuzzSupport
import Problems

private let prepared: Void = FuzzInput.prepare()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMatrixFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = prepared
    guard let data else { return 0 }
    guard let text = FuzzInput.text(data, size) else { return 0 }
    do {
        let (dimension, entries) = try MatrixMarket.parse(text, file: "fuzz.mtx")
        check(entries.count == dimension * dimension, "\(entries.count) entries for dimension \(dimension)")
    } catch let error as ProblemError {
        _ = error.description
    } catch {
        fatalError("MatrixMarket.parse threw \(type(of: error)), not a ProblemError: \(error)")
    }
    if KnownTOMLAssertions.skip(text) { return 0 }
    do {
        // A relative `path` resolves next to this (absent) file and fails to read: no disk access per input.
        let problem = try MatrixCatalog.parse(text, file: "/nonexistent/fuzz/matrix.toml")
        check(problem.entries.count == problem.dimension * problem.dimension,
              "\(problem.entries.count) entries for dimension \(problem.dimension)")
        for k in 0..<min(problem.dimension, 3) { _ = problem.exactEigenvalue(k) }
    } catch let error as ProblemError {
        _ = error.description
    } catch {
        fatalError("MatrixCatalog.parse threw \(type(of: error)), not a ProblemError: \(error)")
    }
    return 0
}

@_cdecl("fuzz_matrix_file_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzMatrixFile)
}
