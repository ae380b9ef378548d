// The cells' 8-lane kernels: the vector activations give the scalar ones' bits, and gradients of networks wide
// enough to run both the 8-unit blocks and the remainder pass the central-difference check.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

@Test func laneActivationsEqualScalarOnesBitForBit() {
    var rng = Xoshiro256StarStar(seed: 21)
    var inputs: [Double] = [0, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                            0.625, -0.625, 0.625.nextDown, 708, -708, 709, -709, 710, -1e300, 1e300, 354.5, -354.5]
    for scale in [1e-8, 1e-3, 0.3, 1, 5, 40, 400, 800] { for _ in 0..<64 { inputs.append(rng.nextSymmetric(scale)) } }
    while inputs.count % 8 != 0 { inputs.append(rng.nextSymmetric(1)) }
    func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
    for start in stride(from: 0, to: inputs.count, by: 8) {
        let x = Lanes((0..<8).map { inputs[start + $0] })
        let e = exponential(x), s = sigmoid(x), t = hyperbolicTangent(x)
        for k in 0..<8 {
            #expect(same(e[k], exponential(x[k])), "exp(\(x[k])): \(e[k]) vs \(exponential(x[k]))")
            #expect(same(s[k], sigmoid(x[k])), "σ(\(x[k])): \(s[k]) vs \(sigmoid(x[k]))")
            #expect(same(t[k], hyperbolicTangent(x[k])), "tanh(\(x[k])): \(t[k]) vs \(hyperbolicTangent(x[k]))")
        }
    }
    // the array forms: 8-lane blocks and a remainder of 3
    var array = Array(inputs.prefix(19)), tanhOut = [Double](repeating: 0, count: 19)
    array.withUnsafeBufferPointer { x in tanhOut.withUnsafeMutableBufferPointer { applyTanh(x.baseAddress!, into: $0.baseAddress!, count: 19) } }
    array.withUnsafeMutableBufferPointer { applySigmoid($0.baseAddress!, count: 19) }
    for k in 0..<19 {
        #expect(same(array[k], sigmoid(inputs[k])) && same(tanhOut[k], hyperbolicTangent(inputs[k])))
    }
}

@Test(arguments: CellKind.allCases)
func wideCellGradientMatchesCentralDifferences(_ cell: CellKind) {
    // 19 hidden units: two 8-unit blocks and a remainder of 3 in every fused row kernel
    let data = randomDataset(count: 2, steps: 4)
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 2, hiddenSize: 19, outputSize: 2), seed: 17)
    let workspace = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: 2, maxSteps: 4)
    let indices = Array(0..<2)[...]
    var analytic = [Double](repeating: 0, count: network.parameterCount)
    _ = network.parameters.withUnsafeBufferPointer { p in
        analytic.withUnsafeMutableBufferPointer {
            workspace.meanSquaredError(data, indices: indices, window: 4, parameters: p.baseAddress!, gradient: $0.baseAddress!)
        }
    }
    let numeric = centralDifferenceGradient(at: network.parameters, step: 1e-5) { theta in
        theta.withUnsafeBufferPointer {
            workspace.meanSquaredError(data, indices: indices, window: 4, parameters: $0.baseAddress!, gradient: nil)
        }
    }
    let worst = worstGradientEntries(analytic: analytic, numeric: numeric, floor: 1e-4) { network.layout.describe(index: $0) }
    // the bound of gradientMatchesCentralDifferences: truncation ≈ h²/6·|L‴| and rounding ≈ u·|L|/h, ≈ 2e−7
    // relative against the floor 1e−4; a wrong lane or remainder term is off by O(1)
    #expect(worst[0].relativeError < 1e-6, "\(cell): worst entries\n\(worst.map(\.description).joined(separator: "\n"))")
}
