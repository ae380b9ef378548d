// Fuzz target: the expression language. Parses the input over the names the catalog's problems use, evaluates
// the compiled program, takes the first derivative by every slot it reads (and by one it does not), as the
// Jacobian does, and evaluates those too. A parse error must name a column inside the text.
import Foundation
import FuzzSupport
import Problems

/// The variable and parameter names of the catalog's problems, so that the seed expressions parse.
private let slots = """
    x y z t mu a b g k q u v A I L N R S alpha beta gamma delta rho sigma omega omega0 omega1 omega2 omega_d theta \
    theta1 theta2 l1 l2 m1 m2 k1 k2 k3 vx vy y0 y1 y2 y3 x_0 y_0 v_0 t_0 mu_earth
    """.split(separator: " ").map(String.init)
/// Ordinary values, zeros, and extremes (huge, tiny, infinite, NaN, negative zero) repeated over every slot.
private let points: [[Double]] = [
    slots.indices.map { 0.5 + 0.25 * Double($0) * ($0 % 2 == 0 ? 1 : -1) },
    Array(repeating: 0, count: slots.count),
    slots.indices.map { [-1e300, 1e-300, .infinity, .nan, -0.0][$0 % 5] },
]
private let prepared: Void = FuzzInput.prepare()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExpression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = prepared
    guard let data else { return 0 }
    guard let text = FuzzInput.text(data, size) else { return 0 }
    let expression: Problems.Expression
    do {
        expression = try Problems.Expression.parse(text, slots: slots)
    } catch let error as ExpressionError {
        // Columns count characters from 1; the end of the text is the last position an error can point at.
        check(error.column >= 1 && error.column <= text.unicodeScalars.count + 1,
              "error column \(error.column) outside a text of \(text.unicodeScalars.count) characters: \(error)")
        _ = error.description
        return 0
    } catch {
        fatalError("Expression.parse threw \(type(of: error)), not an ExpressionError: \(error)")
    }
    _ = expression.description
    _ = expression.slotsUsed
    var sum = 0.0
    for point in points { sum += expression.evaluate(point) }
    let used = expression.slotsUsed
    for name in used + ["mu_earth"] {
        let derivative = expression.derivative(withRespectTo: name)
        _ = derivative.description
        for point in points { sum += derivative.evaluate(point) }
    }
    return sum.isNaN && sum == 0 ? 1 : 0    // keeps the work observable; never true
}

@_cdecl("fuzz_expression_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzExpression)
}
