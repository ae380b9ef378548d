// Each cell's forward step against an independent implementation: PyTorch's nn.RNN, nn.LSTM and nn.GRU, dumped
// once by bench/torch_fixtures.py into Fixtures/*.json; and the ESN update against a case computed by hand.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// A fixture written by bench/torch_fixtures.py, in PyTorch's layout: weight_ih (G·H, I), weight_hh (G·H, H), gate
/// blocks stacked in PyTorch's order; input (steps, batch, I); per run the initial states (batch, H) and the
/// states after every step (steps, batch, H).
struct TorchForwardFixture: Decodable {
    struct Run: Decodable {
        var name: String
        var h0: [[Double]]
        var hidden: [[[Double]]]
        var c0: [[Double]]?
        var cell: [[[Double]]]?
    }
    var cell: String
    var generator: String
    var gateOrder: [String]
    var inputSize: Int
    var hiddenSize: Int
    var batch: Int
    var steps: Int
    var weight_ih: [[Double]]
    var weight_hh: [[Double]]
    var bias_ih: [Double]
    var bias_hh: [Double]
    var input: [[[Double]]]
    var runs: [Run]

    static func load(_ cell: CellKind) throws -> TorchForwardFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent("\(cell.rawValue)-forward.json")
        return try JSONDecoder().decode(TorchForwardFixture.self, from: Data(contentsOf: url))
    }

    var gateCount: Int { gateOrder.count }
}

/// Where each of our gate blocks comes from in PyTorch's stacking (our block g ← PyTorch block order[g]):
/// - RNN: one block.
/// - LSTM: ours [f | i | C̃ | o] (LSTMCell), PyTorch [i | f | g | o]: f ← 1, i ← 0, C̃ ← 2 (PyTorch's g), o ← 3.
/// - GRU: ours [r | z | n] (GRUCell), PyTorch [r | z | n]: the same, and the same formulation (the reset gate
///   multiplies W_hn·h + b_hn, after the product), so b_hh's n block is our b_hn.
func torchBlockOrder(_ cell: CellKind) -> [Int] {
    switch cell { case .rnn: [0]; case .lstm: [1, 0, 2, 3]; case .gru: [0, 1, 2] }
}

/// A one-layer network holding the fixture's weights in our layout, with the identity as readout (so `predict`
/// returns the hidden states: y = h·I + 0 adds only exact zeros). W_x = weight_ihᵀ, W_h = weight_hhᵀ, blocks
/// reordered by `order`; b = b_ih + b_hh, except GRU's n block: b = b_ih(n), b_hn = b_hh(n).
func networkFromTorch(_ f: TorchForwardFixture, cell: CellKind, order: [Int]) -> RecurrentNetwork {
    let i = f.inputSize, h = f.hiddenSize, g = f.gateCount
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: i, hiddenSize: h, layers: 1, outputSize: h), seed: 0)
    let ranges = network.layout.layers[0]
    var p = [Double](repeating: 0, count: network.parameterCount)
    for block in 0..<g {
        for j in 0..<h {
            let ours = block * h + j, theirs = order[block] * h + j
            for k in 0..<i { p[ranges.inputWeights.lowerBound + k * g * h + ours] = f.weight_ih[theirs][k] }
            for k in 0..<h { p[ranges.recurrentWeights.lowerBound + k * g * h + ours] = f.weight_hh[theirs][k] }
            if cell == .gru && block == 2 {
                p[ranges.bias.lowerBound + ours] = f.bias_ih[theirs]
                p[ranges.candidateRecurrentBias.lowerBound + j] = f.bias_hh[theirs]
            } else {
                p[ranges.bias.lowerBound + ours] = f.bias_ih[theirs] + f.bias_hh[theirs]
            }
        }
    }
    for j in 0..<h { p[network.layout.readoutWeights.lowerBound + j * h + j] = 1 }
    network.setParameters(p)
    return network
}

/// First-order forward-error bounds of h_t (and c_t) for every step, batch row and unit: how far any
/// implementation that sums in any order (Higham's γ_k) and evaluates σ and tanh within 2 ulp (4u relative; ours:
/// `activationsMatchLibm`, PyTorch's Sleef/libm kernels: ≤ 1 ulp) may stray from the exact states. Written in
/// PyTorch's layout from the fixture's own weights and reference states (the magnitudes, first order in u), so it
/// does not depend on our conversion. Each state's bound is its own rounding plus what the previous states' bounds
/// propagate (σ′ ≤ 1/4, tanh′ ≤ 1):
/// - a gate pre-activation a = W_ih·x + b_ih + W_hh·h + b_hh (I + H + 2 terms): γ_{I+H+2}·Σ|terms| + |W_hh|·e_h
/// - RNN: h = tanh(a): e_a + 4u|h|
/// - LSTM: c = f c₋ + i g: |f|e_c + |c₋|e_f + |i|e_g + |g|e_i + 3u(|f c₋| + |i g|); h = o tanh c: |o|(e_c + 4u|tanh c|) + |tanh c|e_o + u|h|
/// - GRU: n = tanh(a_n + r c_n), a_n and c_n summed apart (I + 1 and H + 1 terms); h = (1 − z) n + z h₋ (ours) or
///   n + z (h₋ − n) (PyTorch): both within 4u(|n| + |h₋|) of the exact blend, plus |1 − z|e_n + |z|e_h + |h₋ − n|e_z.
func torchForwardErrorBounds(_ f: TorchForwardFixture, run: TorchForwardFixture.Run) -> (hidden: [[[Double]]], cell: [[[Double]]]) {
    let u = unitRoundoff, activation = 4 * u
    let i = f.inputSize, h = f.hiddenSize
    var hiddenBounds: [[[Double]]] = [], cellBounds: [[[Double]]] = []
    var eh = [[Double]](repeating: [Double](repeating: 0, count: h), count: f.batch)   // initial states are exact
    var ec = eh
    func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    for t in 0..<f.steps {
        var nextH = eh, nextC = ec
        for b in 0..<f.batch {
            let x = f.input[t][b]
            let hPrev = t == 0 ? run.h0[b] : run.hidden[t - 1][b]
            let cPrev = t == 0 ? (run.c0?[b] ?? []) : (run.cell?[t - 1][b] ?? [])
            /// (value, bound) of W_ih·x + b_ih and of W_hh·h + b_hh for PyTorch's row r, and of their sum.
            func parts(_ r: Int) -> (input: Double, inputBound: Double, recurrent: Double, recurrentBound: Double, sum: Double, sumBound: Double) {
                var vi = f.bias_ih[r], mi = abs(f.bias_ih[r]), vh = f.bias_hh[r], mh = abs(f.bias_hh[r]), propagated = 0.0
                for k in 0..<i { vi += f.weight_ih[r][k] * x[k]; mi += abs(f.weight_ih[r][k] * x[k]) }
                for k in 0..<h {
                    vh += f.weight_hh[r][k] * hPrev[k]; mh += abs(f.weight_hh[r][k] * hPrev[k])
                    propagated += abs(f.weight_hh[r][k]) * eh[b][k]
                }
                return (vi, gamma(i + 1) * mi, vh, gamma(h + 1) * mh + propagated, vi + vh, gamma(i + h + 2) * (mi + mh) + propagated)
            }
            for j in 0..<h {
                switch f.cell {
                case "rnn":
                    let a = parts(j), value = tanh(a.sum)
                    nextH[b][j] = a.sumBound + activation * abs(value)
                case "lstm":
                    let (ai, af, ag, ao) = (parts(j), parts(h + j), parts(2 * h + j), parts(3 * h + j))
                    let (ig, fg, gg, og) = (sigmoid(ai.sum), sigmoid(af.sum), tanh(ag.sum), sigmoid(ao.sum))
                    let (ei, ef, eg, eo) = (ai.sumBound / 4 + activation * ig, af.sumBound / 4 + activation * fg,
                                            ag.sumBound + activation * abs(gg), ao.sumBound / 4 + activation * og)
                    let c = fg * cPrev[j] + ig * gg
                    let ecNew = fg * ec[b][j] + abs(cPrev[j]) * ef + ig * eg + abs(gg) * ei + 3 * u * (abs(fg * cPrev[j]) + abs(ig * gg))
                    let tc = tanh(c)
                    nextC[b][j] = ecNew
                    nextH[b][j] = og * (ecNew + activation * abs(tc)) + abs(tc) * eo + u * abs(og * tc)
                case "gru":
                    let (ar, az, an) = (parts(j), parts(h + j), parts(2 * h + j))
                    let (r, z) = (sigmoid(ar.sum), sigmoid(az.sum))
                    let (er, ez) = (ar.sumBound / 4 + activation * r, az.sumBound / 4 + activation * z)
                    let preN = an.input + r * an.recurrent
                    let ePreN = an.inputBound + r * an.recurrentBound + abs(an.recurrent) * er
                        + 2 * u * (abs(an.input) + abs(r * an.recurrent))
                    let n = tanh(preN), en = ePreN + activation * abs(n)
                    nextH[b][j] = (1 - z) * en + z * eh[b][j] + abs(hPrev[j] - n) * ez + 4 * u * (abs(n) + abs(hPrev[j]))
                default:
                    preconditionFailure("unknown cell \(f.cell)")
                }
            }
        }
        eh = nextH; ec = nextC
        hiddenBounds.append(eh); cellBounds.append(ec)
    }
    return (hiddenBounds, cellBounds)
}

/// Our states for a fixture run, step by step through `RecurrentNetwork.step` from the run's initial states:
/// (steps, batch, H) for h and, for LSTM, c.
func ourStates(_ network: RecurrentNetwork, _ f: TorchForwardFixture, run: TorchForwardFixture.Run) -> (hidden: [[[Double]]], cell: [[[Double]]]) {
    let h = f.hiddenSize
    var state = RecurrentState(batch: f.batch, hidden: [run.h0.flatMap { $0 }], cell: [run.c0?.flatMap { $0 } ?? []])
    var hidden: [[[Double]]] = [], cell: [[[Double]]] = []
    for t in 0..<f.steps {
        _ = network.step(f.input[t].flatMap { $0 }, state: &state)
        hidden.append((0..<f.batch).map { Array(state.hidden[0][($0 * h)..<(($0 + 1) * h)]) })
        if network.configuration.cell == .lstm {
            cell.append((0..<f.batch).map { Array(state.cell[0][($0 * h)..<(($0 + 1) * h)]) })
        }
    }
    return (hidden, cell)
}

/// Entries where |ours − PyTorch's| exceeds twice the bound (each lies within the bound of the exact states),
/// described, and the largest ratio |ours − PyTorch's| / (2·bound).
func compareStates(_ ours: [[[Double]]], _ theirs: [[[Double]]], bound: [[[Double]]], label: String) -> (outside: [String], worstRatio: Double) {
    var outside: [String] = [], worst = 0.0
    for t in theirs.indices {
        for b in theirs[t].indices {
            for j in theirs[t][b].indices {
                let difference = abs(ours[t][b][j] - theirs[t][b][j]), allowed = 2 * bound[t][b][j]
                worst = max(worst, difference / allowed)
                if !(difference <= allowed) {
                    outside.append("\(label) step \(t + 1) row \(b) unit \(j): ours \(ours[t][b][j]), PyTorch \(theirs[t][b][j]), "
                                   + "difference \(difference) > \(allowed)")
                }
            }
        }
    }
    return (outside, worst)
}

/// Every entry outside the bound, over both runs (zero and given initial states), h and c; and the worst ratio.
func compareWithTorch(_ cell: CellKind, order: [Int]) throws -> (outside: [String], worstRatio: Double, largestBound: Double) {
    let f = try TorchForwardFixture.load(cell)
    #expect(f.cell == cell.rawValue && f.gateCount == cell.gateCount)
    let network = networkFromTorch(f, cell: cell, order: order)
    var outside: [String] = [], worst = 0.0, largest = 0.0
    for run in f.runs {
        let bounds = torchForwardErrorBounds(f, run: run)
        largest = max(largest, bounds.hidden.joined().joined().max() ?? 0, bounds.cell.joined().joined().max() ?? 0)
        let ours = ourStates(network, f, run: run)
        let h = compareStates(ours.hidden, run.hidden, bound: bounds.hidden, label: "\(run.name) h")
        outside += h.outside; worst = max(worst, h.worstRatio)
        if let cells = run.cell {
            let c = compareStates(ours.cell, cells, bound: bounds.cell, label: "\(run.name) c")
            outside += c.outside; worst = max(worst, c.worstRatio)
        }
        // the batched multi-step path (`predict`, from zero states) gives the same h through the identity readout
        if run.h0.allSatisfy({ $0.allSatisfy { $0 == 0 } }) {
            var inputs: [Double] = []   // (batch, steps, I)
            for b in 0..<f.batch { for t in 0..<f.steps { inputs += f.input[t][b] } }
            let y = network.predict(inputs, batch: f.batch, steps: f.steps)
            let predicted = (0..<f.steps).map { t in
                (0..<f.batch).map { b in Array(y[((b * f.steps + t) * f.hiddenSize)..<((b * f.steps + t + 1) * f.hiddenSize)]) }
            }
            let p = compareStates(predicted, run.hidden, bound: bounds.hidden, label: "predict h")
            outside += p.outside; worst = max(worst, p.worstRatio)
        }
    }
    return (outside, worst, largest)
}

@Test(arguments: CellKind.allCases)
func cellForwardMatchesPyTorch(_ cell: CellKind) throws {
    let result = try compareWithTorch(cell, order: torchBlockOrder(cell))
    print("\(cell) vs PyTorch: worst |difference| / allowed \(result.worstRatio), largest bound \(result.largestBound)")
    #expect(result.outside.count == 0, "first entries outside:\n\(result.outside.prefix(6).joined(separator: "\n"))")
    // The bounds are a few hundred ulps of O(1) states at most: any wrong gate, bias or weight is off by far more.
    #expect(result.largestBound < 1e-13)
}

@Test func swappedLSTMGatesFailTheForwardCheck() throws {
    // reading PyTorch's i and f blocks the wrong way round (ours f ← i, i ← f) must put states outside the bound
    let result = try compareWithTorch(.lstm, order: [0, 1, 2, 3])
    #expect(!result.outside.isEmpty && result.worstRatio > 1e6, "a gate swap went unnoticed (worst ratio \(result.worstRatio))")
    let gru = try compareWithTorch(.gru, order: [1, 0, 2])    // r and z swapped
    #expect(!gru.outside.isEmpty && gru.worstRatio > 1e6, "a GRU gate swap went unnoticed (worst ratio \(gru.worstRatio))")
}

/// x_t = (1 − a) x_{t−1} + a tanh(W_in u_t + W x_{t−1} + b),  y_t = W_out [1; u_t; x_t], by hand for a 2-unit
/// reservoir with one input, a = 1/2, every weight a short binary fraction:
///   W = [[0.5, 0], [0.25, −0.5]],  W_in = [1, −2],  b = [0.125, 0],  W_out = [0.5, 1, 2, −1],  x₀ = [0.25, −0.5]
/// Step 1, u = 0.5:  z = [0.5 + 0.125 + 0 + 0.125, −1 + 0.0625 + 0.25 + 0] = [0.75, −0.6875]   (exact in binary)
///   tanh z = [0.63514895238728731921, −0.59637355547924233984]
///   x₁ = [0.125 + 0.31757447619364365961, −0.25 − 0.29818677773962116992] = [0.44257447619364365961, −0.54818677773962116992]
///   y₁ = 0.5 + 0.5 + 2·0.44257447619364365961 + 0.54818677773962116992 = 2.4333357301269084891
/// Step 2, u = −1:  z = [−1 + 0.22128723809682182980 + 0.125, 2 + 0.11064361904841091490 + 0.27409338886981058496]
///                    = [−0.65371276190317817020, 2.3847370079182214999]
///   tanh z = [−0.57416406795169047401, 0.98317308991356956466]
///   x₂ = [0.22128723809682182980 − 0.28708203397584523700, −0.27409338886981058496 + 0.49158654495678478233]
///      = [−0.065794795879023407201, 0.21749315608697419737]
///   y₂ = 0.5 − 1 − 0.13158959175804681440 − 0.21749315608697419737 = −0.84908274784502101177
/// (tanh to 20 digits from (e²ᶻ − 1)/(e²ᶻ + 1) in 40-digit decimal arithmetic.)
@Test func echoStateStepMatchesAHandComputedCase() throws {
    var c = ReservoirConfiguration(inputSize: 1, outputSize: 1)
    c.size = 2; c.connectivity = 1; c.spectralRadius = 0.5; c.leakRate = 0.5
    let checkpoint = Checkpoint(kind: EchoStateNetwork.checkpointKind,
                                arrays: ["reservoir.W": [0.5, 0, 0.25, -0.5], "reservoir.W_in": [1, -2], "reservoir.b": [0.125, 0],
                                         "reservoir.W_out": [0.5, 1, 2, -1], "reservoir.spectralRadius": [0.5]],
                                strings: ["reservoir.configuration": canonicalJSON(c)])
    let esn = try EchoStateNetwork(checkpoint: checkpoint)
    var x = [0.25, -0.5]
    let expected: [(u: Double, x: [Double], y: Double)] = [
        (0.5, [0.44257447619364365961, -0.54818677773962116992], 2.4333357301269084891),
        (-1, [-0.065794795879023407201, 0.21749315608697419737], -0.84908274784502101177),
    ]
    // Bound on x: per step, the pre-activation (4 terms: γ₄ ≤ 4.01u of Σ|terms|), tanh (FastTanh: ≤ 5u·|tanh z|), the
    // blend (3 roundings: 3u of its terms) give ≤ 13u × (|(1 − a)x| + a·Σ|terms of z|); an earlier error is carried with
    // a factor (1 − a) + a·max_i Σ_k|W_ik| = 0.875 < 1, so adding the steps' own bounds covers it. The readout
    // (4 terms) adds γ₄ of Σ|W_out f| and Σ|W_out|·(bound on x).
    let u = unitRoundoff
    var xBound = 0.0
    for (step, e) in expected.enumerated() {
        let termsOfZ = [abs(1 * e.u) + abs(0.5 * x[0]) + 0.125, abs(-2 * e.u) + abs(0.25 * x[0]) + abs(0.5 * x[1])]
        xBound += 13 * u * zip(x, termsOfZ).map { 0.5 * abs($0) + 0.5 * $1 }.max()!
        let y = esn.step([e.u], state: &x)
        let yBound = gamma(4) * (0.5 + abs(e.u) + 2 * abs(e.x[0]) + abs(e.x[1])) + 3 * xBound
        for k in 0..<2 { #expect(abs(x[k] - e.x[k]) <= xBound, "step \(step + 1): x[\(k)] = \(x[k]), by hand \(e.x[k]) (bound \(xBound))") }
        #expect(abs(y[0] - e.y) <= yBound, "step \(step + 1): y = \(y[0]), by hand \(e.y) (bound \(yBound))")
    }
}
