// Straight-line accumulator programs compiled from expression trees: one accumulator kept in a machine register,
// operands read straight from the state, from immediates or from a small scratch file on the stack; shared
// subexpressions computed once; evaluation allocates nothing.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled program computing several outputs.
///
/// Each instruction updates the accumulator `acc` from one operand: an input `y[a]`, a scratch register `r[a]`
/// (`r[0]` holds the extra scalar, t for a vector field) or an immediate constant. Subexpressions used more than once
/// are computed first into their own scratch registers. Operations keep the tree's operand order, so results are
/// bit-for-bit those of evaluating the tree.
final class Program: @unchecked Sendable {
    enum Opcode: UInt8 {
        // acc = operand
        case loadInput, loadScratch, loadConstant
        // acc = acc ∘ operand
        case addInput, addScratch, addConstant
        case subtractInput, subtractScratch, subtractConstant
        case multiplyInput, multiplyScratch, multiplyConstant
        case divideInput, divideScratch, divideConstant
        // acc = operand ∘ acc
        case reverseSubtractInput, reverseSubtractScratch, reverseSubtractConstant
        case reverseDivideInput, reverseDivideScratch, reverseDivideConstant
        // acc = y[a] ∘ y[b], c ∘ y[b], y[a] ∘ c: both operands direct, one dispatch instead of two
        case addInputInput, subtractInputInput, multiplyInputInput, divideInputInput
        case addConstantInput, subtractConstantInput, multiplyConstantInput, divideConstantInput
        case addInputConstant, subtractInputConstant, multiplyInputConstant, divideInputConstant
        // acc = f(acc, r[a])
        case power, atan2, min, max
        // acc = r[a] ≤ r[b] ? r[c] : acc
        case select
        // acc = f(acc)
        case negate, square, cube, reciprocal, powerInteger
        case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, exp, log, sqrt, abs, sign
        // r[a] = acc; output0[a] = acc; output1[a] = acc
        case storeScratch, storeOutput0, storeOutput1
    }

    struct Instruction {
        var op: Opcode
        var a: Int32 = 0
        var b: Int32 = 0
        var c: Int32 = 0
        /// The constant operand, or the integer exponent of `powerInteger`.
        var constant: Double = 0
    }

    let inputCount: Int
    /// Scratch registers: `r[0]` = extra scalar, then shared subexpressions, then temporaries.
    let scratchCount: Int
    /// The instructions; the allocation holds at least one slot, `instructionCount` of them are initialised.
    private let code: UnsafeMutableBufferPointer<Instruction>

    let instructionCount: Int

    /// Compiles `roots` (tree, target, index); slots `0..<inputCount` are inputs, slot `inputCount` the extra scalar.
    init(roots: [(node: Node, target: Int, index: Int)], inputCount: Int) {
        var builder = Builder(inputCount: inputCount)
        builder.compile(roots)
        self.inputCount = inputCount
        scratchCount = builder.scratchCount
        // A program without roots (a vector field whose equations are all per-site) has no instructions.
        instructionCount = builder.code.count
        code = .allocate(capacity: max(1, builder.code.count))
        _ = code.initialize(from: builder.code)
    }

    deinit { code.deallocate() }

    /// Runs the program: reads `inputs[0..<inputCount]` and `extra`, writes the outputs to `output0` and `output1`.
    @inline(__always)
    func run(inputs y: UnsafePointer<Double>, extra: Double,
             output0: UnsafeMutablePointer<Double>, output1: UnsafeMutablePointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: scratchCount) { buffer in
            let r = buffer.baseAddress!
            r[0] = extra
            var acc = 0.0
            var p = UnsafePointer(code.baseAddress!)
            let end = p + instructionCount
            while p < end {
                let ins = p.pointee
                p += 1
                let a = Int(ins.a)
                switch ins.op {
                case .loadInput: acc = y[a]
                case .loadScratch: acc = r[a]
                case .loadConstant: acc = ins.constant
                case .addInput: acc += y[a]
                case .addScratch: acc += r[a]
                case .addConstant: acc += ins.constant
                case .subtractInput: acc -= y[a]
                case .subtractScratch: acc -= r[a]
                case .subtractConstant: acc -= ins.constant
                case .multiplyInput: acc *= y[a]
                case .multiplyScratch: acc *= r[a]
                case .multiplyConstant: acc *= ins.constant
                case .divideInput: acc /= y[a]
                case .divideScratch: acc /= r[a]
                case .divideConstant: acc /= ins.constant
                case .reverseSubtractInput: acc = y[a] - acc
                case .reverseSubtractScratch: acc = r[a] - acc
                case .reverseSubtractConstant: acc = ins.constant - acc
                case .reverseDivideInput: acc = y[a] / acc
                case .reverseDivideScratch: acc = r[a] / acc
                case .reverseDivideConstant: acc = ins.constant / acc
                case .addInputInput: acc = y[a] + y[Int(ins.b)]
                case .subtractInputInput: acc = y[a] - y[Int(ins.b)]
                case .multiplyInputInput: acc = y[a] * y[Int(ins.b)]
                case .divideInputInput: acc = y[a] / y[Int(ins.b)]
                case .addConstantInput: acc = ins.constant + y[Int(ins.b)]
                case .subtractConstantInput: acc = ins.constant - y[Int(ins.b)]
                case .multiplyConstantInput: acc = ins.constant * y[Int(ins.b)]
                case .divideConstantInput: acc = ins.constant / y[Int(ins.b)]
                case .addInputConstant: acc = y[a] + ins.constant
                case .subtractInputConstant: acc = y[a] - ins.constant
                case .multiplyInputConstant: acc = y[a] * ins.constant
                case .divideInputConstant: acc = y[a] / ins.constant
                case .power: acc = Glibc_pow(acc, r[a])
                case .atan2: acc = Glibc_atan2(acc, r[a])
                case .min: let b = r[a]; acc = acc <= b ? acc : b
                case .max: let b = r[a]; acc = acc >= b ? acc : b
                case .select: if r[a] <= r[Int(ins.b)] { acc = r[Int(ins.c)] }
                case .negate: acc = -acc
                case .square: acc = acc * acc
                case .cube: acc = acc * acc * acc
                case .reciprocal: acc = 1 / acc
                case .powerInteger: acc = Program.power(acc, Int(ins.constant))
                case .sin: acc = Glibc_sin(acc)
                case .cos: acc = Glibc_cos(acc)
                case .tan: acc = Glibc_tan(acc)
                case .asin: acc = Glibc_asin(acc)
                case .acos: acc = Glibc_acos(acc)
                case .atan: acc = Glibc_atan(acc)
                case .sinh: acc = Glibc_sinh(acc)
                case .cosh: acc = Glibc_cosh(acc)
                case .tanh: acc = Glibc_tanh(acc)
                case .exp: acc = Glibc_exp(acc)
                case .log: acc = Glibc_log(acc)
                case .sqrt: acc = acc.squareRoot()
                case .abs: acc = Swift.abs(acc)
                case .sign: acc = acc > 0 ? 1 : (acc < 0 ? -1 : 0)
                case .storeScratch: r[a] = acc
                case .storeOutput0: output0[a] = acc
                case .storeOutput1: output1[a] = acc
                }
            }
        }
    }

    /// x^n by repeated squaring (n may be negative).
    @inline(__always)
    static func power(_ x: Double, _ n: Int) -> Double {
        var base = n < 0 ? 1 / x : x
        var k = n < 0 ? -n : n
        var result = 1.0
        while k > 0 {
            if k & 1 == 1 { result *= base }
            base *= base
            k >>= 1
        }
        return result
    }

    /// Turns trees into accumulator code, working on the graph of their distinct subexpressions.
    private struct Builder {
        /// Where an operand is read from.
        enum Operand {
            case input(Int32), scratch(Int32), constant(Double)
        }

        let inputCount: Int
        var graph = ExpressionGraph()
        var code: [Instruction] = []
        /// Scratch register of each shared item, once computed.
        var shared: [Int32?] = []
        var nextShared: Int32 = 1
        var depth: Int32 = 0
        var maxDepth: Int32 = 0
        var scratchCount: Int { Int(nextShared + maxDepth) }

        init(inputCount: Int) { self.inputCount = inputCount }

        mutating func compile(_ roots: [(node: Node, target: Int, index: Int)]) {
            let rootItems = roots.map { graph.add($0.node) }
            // Compound items used twice or more are computed once, children first, into their own registers;
            // temporaries go above them.
            shared = Array(repeating: nil, count: graph.items.count)
            var planned: [(item: Int, register: Int32)] = []
            var slot: Int32 = 1
            for id in graph.items.indices where !graph.items[id].isLeaf && graph.uses[id] > 1 {
                planned.append((id, slot))
                slot += 1
            }
            nextShared = slot
            for (id, register) in planned {
                generate(id)
                emit(.storeScratch, a: register)
                shared[id] = register
            }
            for (root, id) in zip(roots, rootItems) {
                generate(id)
                emit(root.target == 0 ? .storeOutput0 : .storeOutput1, a: Int32(root.index))
            }
        }

        /// The item as a direct operand, when it is a leaf or an already computed shared value.
        func operand(_ id: Int) -> Operand? {
            switch graph.items[id] {
            case .constant(let c): return .constant(c)
            case .slot(let i):
                precondition(i <= inputCount, "slot \(i) outside the program's inputs")
                return i == inputCount ? .scratch(0) : .input(Int32(i))
            default:
                return shared[id].map { .scratch($0) }
            }
        }

        mutating func emit(_ op: Opcode, a: Int32 = 0, b: Int32 = 0, c: Int32 = 0, constant: Double = 0) {
            code.append(Instruction(op: op, a: a, b: b, c: c, constant: constant))
        }

        /// Emits `op` with the operand in its input, scratch or constant form (opcodes come in that order).
        mutating func emit(_ family: Opcode, _ operand: Operand) {
            let base = family.rawValue
            switch operand {
            case .input(let i): emit(Opcode(rawValue: base)!, a: i)
            case .scratch(let s): emit(Opcode(rawValue: base + 1)!, a: s)
            case .constant(let c): emit(Opcode(rawValue: base + 2)!, constant: c)
            }
        }

        /// A temporary scratch register, released by `release`.
        mutating func temporary() -> Int32 {
            let r = nextShared + depth
            depth += 1
            maxDepth = Swift.max(maxDepth, depth)
            return r
        }

        mutating func release() { depth -= 1 }

        /// Computes item `id` into a scratch register (returns it; a temporary must be released by the caller).
        mutating func intoScratch(_ id: Int) -> (register: Int32, temporary: Bool) {
            if case .scratch(let s)? = operand(id) { return (s, false) }
            generate(id)
            let r = temporary()
            emit(.storeScratch, a: r)
            return (r, true)
        }

        /// Leaves the value of item `id` in the accumulator.
        mutating func generate(_ id: Int) {
            if let direct = operand(id) {
                emit(.loadInput, direct)
                return
            }
            switch graph.items[id] {
            case .constant, .slot:
                preconditionFailure("leaves are operands")
            case .negate(let a):
                generate(a)
                emit(.negate)
            case .binary(.power, let a, let b):
                if let k = graph.constant(b), k == k.rounded(), Swift.abs(k) <= 64 {
                    // Small integer exponents: multiplications instead of pow.
                    generate(a)
                    switch k {
                    case 2: emit(.square)
                    case 3: emit(.cube)
                    case -1: emit(.reciprocal)
                    default: emit(.powerInteger, constant: k)
                    }
                } else if graph.constant(b) == 0.5 {
                    generate(a)
                    emit(.sqrt)
                } else {
                    binaryFunction(.power, a, b)
                }
            case .binary(let op, let a, let b):
                let families: (direct: Opcode, reversed: Opcode?) = switch op {
                case .add: (.addInput, .addInput)
                case .subtract: (.subtractInput, .reverseSubtractInput)
                case .multiply: (.multiplyInput, .multiplyInput)
                case .divide: (.divideInput, .reverseDivideInput)
                case .power: preconditionFailure("handled above")
                }
                let pairBase: Opcode = switch op {
                case .add: .addInputInput
                case .subtract: .subtractInputInput
                case .multiply: .multiplyInputInput
                default: .divideInputInput
                }
                switch (operand(a), operand(b)) {
                case let (.input(i)?, .input(j)?):
                    emit(pairBase, a: i, b: j); return
                case let (.constant(c)?, .input(j)?):
                    emit(Opcode(rawValue: pairBase.rawValue + 4)!, b: j, constant: c); return
                case let (.input(i)?, .constant(c)?):
                    emit(Opcode(rawValue: pairBase.rawValue + 8)!, a: i, constant: c); return
                default: break
                }
                if let right = operand(b) {
                    generate(a)
                    emit(families.direct, right)
                } else if let left = operand(a), let reversed = families.reversed {
                    generate(b)
                    emit(reversed, left)
                } else {
                    let (r, temporary) = intoScratch(b)
                    generate(a)
                    emit(families.direct, .scratch(r))
                    if temporary { release() }
                }
            case .call(let f, let args):
                switch f {
                case .atan2: binaryFunction(.atan2, args[0], args[1])
                case .pow: binaryFunction(.power, args[0], args[1])
                case .min: binaryFunction(.min, args[0], args[1])
                case .max: binaryFunction(.max, args[0], args[1])
                case .select:
                    let (ra, ta) = intoScratch(args[0])
                    let (rb, tb) = intoScratch(args[1])
                    let (rp, tp) = intoScratch(args[2])
                    generate(args[3])
                    emit(.select, a: ra, b: rb, c: rp)
                    for temporary in [ta, tb, tp] where temporary { release() }
                default:
                    generate(args[0])
                    let op: Opcode = switch f {
                    case .sin: .sin
                    case .cos: .cos
                    case .tan: .tan
                    case .asin: .asin
                    case .acos: .acos
                    case .atan: .atan
                    case .sinh: .sinh
                    case .cosh: .cosh
                    case .tanh: .tanh
                    case .exp: .exp
                    case .log: .log
                    case .sqrt: .sqrt
                    case .abs: .abs
                    case .sign: .sign
                    default: preconditionFailure("\(f) handled above")
                    }
                    emit(op)
                }
            }
        }

        /// acc = f(a, b), with b in a scratch register.
        mutating func binaryFunction(_ op: Opcode, _ a: Int, _ b: Int) {
            let (r, temporary) = intoScratch(b)
            generate(a)
            emit(op, a: r)
            if temporary { release() }
        }
    }
}
