// The compiled right-hand side f(t, y) and its exact sparse Jacobian: scalar equations as one straight-line
// program, each array variable's per-site equation as one program run in a loop over the sites, its Jacobian as
// the derivatives by each value the site reads (a band for a local stencil), scattered into GSL's dense matrix.

/// f(t, y) and its Jacobian, compiled from the problem's equations. Evaluation is allocation-free and thread-safe.
public final class VectorField: Sendable {
    public let dimension: Int
    /// Names of the state components (the slots of `equations` before `t`).
    private let names: [String]
    /// The scalar equations: state index and tree over slots `0..<d` (the state) and `d` (t).
    private let scalarEquations: [(index: Int, node: Node)]
    private let sites: [CompiledSites]
    private let rightHandSide: Program
    private let jacobianProgram: Program
    /// The same functions compiled to machine code, when a C compiler is at hand (see `backend`).
    private let native: NativeFunctions?
    /// How f and the Jacobian are evaluated: `native`, or `interpreted (reason)`.
    public let backend: String

    /// One array's site equation with its programs: f at a site, and the band of its derivatives.
    private struct CompiledSites: Sendable {
        let equation: SiteEquation
        let rightHandSide: Program
        /// Writes ∂f/∂(source j) to output0[j] for j in `band`, ∂f/∂t to output1[0].
        let jacobian: Program
        /// The sources whose derivative is not the constant 0.
        let band: [Int]
    }

    /// The equations f_i, over the slots `variables + ["t"]`, parameters folded in (an array equation is written
    /// out once per site here; the evaluation paths never do that).
    public var equations: [Expression] {
        let slots = names + ["t"]
        var nodes = [Node](repeating: .constant(0), count: dimension)
        for (index, node) in scalarEquations { nodes[index] = node }
        for compiled in sites {
            let equation = compiled.equation, m = equation.sources.count
            for site in 0..<equation.target.count {
                nodes[equation.target.offset + site] = equation.node.substituting { j in
                    if j == m { return .slot(dimension) }
                    switch equation.sources[j] {
                    case .site: return .constant(Double(site))
                    default: return equation.column(of: j, site: site).map { .slot($0) } ?? .constant(0)
                    }
                }
            }
        }
        return nodes.map { Expression(node: $0, slots: slots, text: nil) }
    }

    /// dydt = f(t, y). `dydt` must not overlap `y` (GSL never passes the same array).
    @inline(__always)
    public func evaluate(t: Double, state y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
        assert(UnsafePointer(dydt) != y, "evaluate: dydt must not alias y")
        if let native {
            native.rightHandSide(t, y, dydt)
        } else {
            interpretRightHandSide(t: t, state: y, into: dydt)
        }
    }

    private func interpretRightHandSide(t: Double, state y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
        rightHandSide.run(inputs: y, extra: t, output0: dydt, output1: dydt)
        for compiled in sites {
            let equation = compiled.equation
            withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, equation.sources.count)) { buffer in
                let values = buffer.baseAddress!
                for site in 0..<equation.target.count {
                    equation.gather(site: site, state: y, into: values)
                    let out = dydt + equation.target.offset + site
                    compiled.rightHandSide.run(inputs: values, extra: t, output0: out, output1: out)
                }
            }
        }
    }

    /// dfdy[i * d + j] = ∂f_i/∂y_j (row-major, as GSL expects) and dfdt[i] = ∂f_i/∂t.
    @inline(__always)
    public func jacobian(t: Double, state y: UnsafePointer<Double>,
                         dfdy: UnsafeMutablePointer<Double>, dfdt: UnsafeMutablePointer<Double>) {
        // The programs write the structurally non-zero entries only.
        dfdy.update(repeating: 0, count: dimension * dimension)
        dfdt.update(repeating: 0, count: dimension)
        if let native {
            native.jacobian(t, y, dfdy, dfdt)
        } else {
            interpretJacobian(t: t, state: y, dfdy: dfdy, dfdt: dfdt)
        }
    }

    /// The Jacobian into zeroed arrays: each site's band, then its entries added into the row (two stencil
    /// offsets that wrap onto the same site of a small periodic array add up).
    private func interpretJacobian(t: Double, state y: UnsafePointer<Double>,
                                   dfdy: UnsafeMutablePointer<Double>, dfdt: UnsafeMutablePointer<Double>) {
        jacobianProgram.run(inputs: y, extra: t, output0: dfdy, output1: dfdt)
        for compiled in sites {
            let equation = compiled.equation, m = equation.sources.count
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * max(1, m)) { buffer in
                let values = buffer.baseAddress!, band = values + max(1, m)
                for site in 0..<equation.target.count {
                    let row = equation.target.offset + site
                    equation.gather(site: site, state: y, into: values)
                    compiled.jacobian.run(inputs: values, extra: t, output0: band, output1: dfdt + row)
                    for j in compiled.band {
                        if let column = equation.column(of: j, site: site) { dfdy[row * dimension + column] += band[j] }
                    }
                }
            }
        }
    }

    /// f(t, y) by the interpreted programs, whatever the backend (tests compare the two).
    func evaluateInterpreted(t: Double, state: [Double]) -> [Double] {
        arrayValue(state) { interpretRightHandSide(t: t, state: $0, into: $1) }
    }

    /// The Jacobian by the interpreted programs, whatever the backend.
    func jacobianInterpreted(t: Double, state: [Double]) -> (dfdy: [Double], dfdt: [Double]) {
        arrayJacobian(state) { interpretJacobian(t: t, state: $0, dfdy: $1, dfdt: $2) }
    }

    /// Convenience for tests and non-hot paths.
    public func evaluate(t: Double, state: [Double]) -> [Double] {
        arrayValue(state) { evaluate(t: t, state: $0, into: $1) }
    }

    /// Convenience for tests and non-hot paths: (dfdy row-major, dfdt).
    public func jacobian(t: Double, state: [Double]) -> (dfdy: [Double], dfdt: [Double]) {
        arrayJacobian(state) { jacobian(t: t, state: $0, dfdy: $1, dfdt: $2) }
    }

    /// f(y) into a new array, by a pointer-based evaluation.
    private func arrayValue(_ state: [Double],
                            _ body: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        precondition(state.count == dimension)
        var out = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { body(y.baseAddress!, $0.baseAddress!) } }
        return out
    }

    /// (∂f/∂y row-major, ∂f/∂t) into new arrays, by a pointer-based evaluation.
    private func arrayJacobian(_ state: [Double], _ body: (UnsafePointer<Double>, UnsafeMutablePointer<Double>,
                                                         UnsafeMutablePointer<Double>) -> Void) -> (dfdy: [Double], dfdt: [Double]) {
        precondition(state.count == dimension)
        var dfdy = [Double](repeating: 0, count: dimension * dimension)
        var dfdt = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in
            dfdy.withUnsafeMutableBufferPointer { a in
                dfdt.withUnsafeMutableBufferPointer { b in body(y.baseAddress!, a.baseAddress!, b.baseAddress!) }
            }
        }
        return (dfdy, dfdt)
    }

    /// Number of instructions of the compiled right-hand side and Jacobian (shared subexpressions counted once;
    /// a site equation counted once, not once per site).
    public var instructionCounts: (rightHandSide: Int, jacobian: Int) {
        (rightHandSide.instructionCount + sites.reduce(0) { $0 + $1.rightHandSide.instructionCount },
         jacobianProgram.instructionCount + sites.reduce(0) { $0 + $1.jacobian.instructionCount })
    }

    /// Compiles the equations `f[i]` of a problem without arrays, trees over slots `0..<d` (the state) and `d` (t).
    convenience init(equations f: [Node], variables: [String]) {
        self.init(scalarEquations: f.enumerated().map { ($0.offset, $0.element) }, sites: [], names: variables)
    }

    /// Compiles the scalar equations (state index, tree over slots `0..<d` and `d` = t) and the site equations;
    /// together they give every component of the state `names` once.
    init(scalarEquations: [(index: Int, node: Node)], sites siteEquations: [SiteEquation], names: [String]) {
        let d = names.count
        dimension = d
        self.names = names
        self.scalarEquations = scalarEquations
        rightHandSide = Program(roots: scalarEquations.map { ($0.node, 0, $0.index) }, inputCount: d)
        // Only the non-zero entries: each f_i is differentiated by the slots it reads; `jacobian` zeroes the rest.
        var roots: [(node: Node, target: Int, index: Int)] = []
        for (i, f) in scalarEquations {
            var used = Set<Int>()
            f.collectSlots(into: &used)
            for j in used.sorted() {
                let derivative = f.derivative(j)
                if derivative.constantValue == 0 { continue }
                roots.append(j < d ? (derivative, 0, i * d + j) : (derivative, 1, i))
            }
        }
        jacobianProgram = Program(roots: roots, inputCount: d)
        // Each site equation is differentiated once by each value it reads: the band.
        var nativeSites: [NativeCode.Sites] = []
        sites = siteEquations.map { equation in
            let m = equation.sources.count
            var used = Set<Int>()
            equation.node.collectSlots(into: &used)
            var bandRoots: [(node: Node, target: Int, index: Int)] = []
            var band: [Int] = []
            var bandNodes: [(j: Int, node: Node)] = []
            var timeDerivative: Node? = nil
            for j in used.sorted() {
                let derivative = equation.node.derivative(j)
                if derivative.constantValue == 0 { continue }
                if j == m {
                    timeDerivative = derivative
                    bandRoots.append((derivative, 1, 0))
                } else if equation.sources[j] != .site {
                    band.append(j)
                    bandNodes.append((j, derivative))
                    bandRoots.append((derivative, 0, j))
                }
            }
            nativeSites.append(NativeCode.Sites(equation: equation,
                                                band: bandNodes,
                                                timeDerivative: timeDerivative))
            return CompiledSites(equation: equation,
                                 rightHandSide: Program(roots: [(equation.node, 0, 0)], inputCount: m),
                                 jacobian: Program(roots: bandRoots, inputCount: m), band: band)
        }
        (native, backend) = NativeCode.compile(rightHandSide: scalarEquations, jacobian: roots, sites: nativeSites,
                                               dimension: d)
    }
}
