// Array variables: a variable with n sites x[0] … x[n-1] whose equation is written once for site i and reads its
// neighbours x[i+k] through a boundary rule. The per-site equation is compiled once and run in a loop over sites.

/// What `x[j]` reads for j outside 0 … n-1.
public enum ArrayBoundary: String, Sendable, Hashable, CaseIterable {
    /// x[j] = x[j mod n].
    case periodic
    /// x[j] = 0.
    case zero
}

/// An array variable's place in the state vector: `x[k]` is component `offset + k`, for k in 0 ..< count.
public struct ArrayVariable: Sendable, Hashable {
    public let name: String
    /// Index of x[0] in the state vector.
    public let offset: Int
    public let count: Int
    public let boundary: ArrayBoundary

    public init(name: String, offset: Int, count: Int, boundary: ArrayBoundary) {
        self.name = name; self.offset = offset; self.count = count; self.boundary = boundary
    }

    /// The state component that site `site` + `shift` reads, or nil where a zero boundary reads 0.
    /// `shift` is less than `count` in magnitude (checked when the file is read).
    @inline(__always)
    func component(site: Int, shift: Int) -> Int? {
        var j = site + shift
        if j < 0 || j >= count {
            guard boundary == .periodic else { return nil }
            j = j < 0 ? j + count : j - count
        }
        return offset + j
    }

    /// Column names of its sites: `x[0]`, …, `x[n-1]`.
    var componentNames: [String] { (0..<count).map { "\(name)[\($0)]" } }
}

/// The array variables an expression may read, for the parser.
struct ArrayNames: Sendable {
    /// Slots of the array variables' names.
    var names: Set<Int>
    /// Slot of the site index `i`.
    var site: Int
    /// Slot of the first read; read r is slot `firstRead + r`.
    var firstRead: Int
}

/// One way an expression reads an array variable.
struct ArrayRead: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// x[i + k]
        case relative(Int)
        /// x[k]
        case element(Int)
        /// sum(x) = x[0] + … + x[n-1]
        case sum
        /// mean(x) = sum(x)/n
        case mean
    }
    /// Slot of the array's name.
    var array: Int
    var kind: Kind
    /// Column of the read in the text (not part of its identity).
    var column: Int

    static func == (a: ArrayRead, b: ArrayRead) -> Bool { a.array == b.array && a.kind == b.kind }
    func hash(into hasher: inout Hasher) { hasher.combine(array); hasher.combine(kind) }
}

/// An array variable's equation f(x[i+k], …, i, t) at every site i, compiled once over local slots: the
/// values it reads (`sources`, gathered for each site) and t after them.
struct SiteEquation: Sendable {
    enum Source: Sendable, Hashable {
        /// x[site + shift] of the array variable.
        case neighbour(ArrayVariable, shift: Int)
        /// A fixed state component (a scalar variable, or one element x[k]).
        case component(Int)
        /// The site index i, as a number.
        case site
    }
    /// The array whose sites this equation gives.
    let target: ArrayVariable
    /// The expression over slots `0..<sources.count` (the sources) and `sources.count` (t).
    let node: Node
    let sources: [Source]

    /// Writes the sources' values at `site` into `values`.
    @inline(__always)
    func gather(site: Int, state y: UnsafePointer<Double>, into values: UnsafeMutablePointer<Double>) {
        for (j, source) in sources.enumerated() {
            switch source {
            case .neighbour(let array, let shift):
                values[j] = array.component(site: site, shift: shift).map { y[$0] } ?? 0
            case .component(let k):
                values[j] = y[k]
            case .site:
                values[j] = Double(site)
            }
        }
    }

    /// The state component source `j` reads at `site` (nil for `i`, and outside a zero boundary).
    @inline(__always)
    func column(of j: Int, site: Int) -> Int? {
        switch sources[j] {
        case .neighbour(let array, let shift): array.component(site: site, shift: shift)
        case .component(let k): k
        case .site: nil
        }
    }
}
