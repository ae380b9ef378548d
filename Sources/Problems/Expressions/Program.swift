// Straight-line register programs compiled from expression trees: one register file per call on the stack,
// shared subexpressions computed once, constants folded; evaluation allocates nothing.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled program computing several outputs from one register file.
///
/// Register layout: `[0, inputCount)` the inputs, `inputCount` the extra scalar (t for a vector field),
/// then the constants, then one register per distinct subexpression (SSA: each written once).
final class Program: @unchecked Sendable {
    enum Opcode: UInt8 {
        case add, subtract, multiply, divide, negate, power, square, cube, reciprocal, powerInteger
        case multiplyAdd, multiplySubtract  // r = a*b + c, r = a*b − c
        case sin, cos, tan, asin, acos, atan, atan2, sinh, cosh, tanh, exp, log, sqrt, abs, min, max, sign, select
    }

    struct Instruction {
        var op: Opcode
        var destination: Int32
        var a: Int32
        /// Second operand register, or the integer exponent of `powerInteger`.
        var b: Int32 = 0
        var c: Int32 = 0
        var d: Int32 = 0
    }

    /// Where an output goes: `target` 0 or 1 picks the output pointer, `index` the element.
    struct Output {
        var register: Int32
        var target: Int32
        var index: Int32
    }

    let inputCount: Int
    let registerCount: Int
    private let constants: UnsafeMutableBufferPointer<Double>
    private let code: UnsafeMutableBufferPointer<Instruction>
    private let outputs: UnsafeMutableBufferPointer<Output>

    var instructionCount: Int { code.count }

    /// Compiles `roots` (tree, target, index); slots `0..<inputCount` are inputs, slot `inputCount` the extra scalar.
    init(roots: [(node: Node, target: Int, index: Int)], inputCount: Int) {
        var builder = Builder(inputCount: inputCount)
        for root in roots { builder.collectConstants(root.node) }
        builder.nextRegister = Int32(inputCount + 1 + builder.constants.count)
        let outs = roots.map { root in
            Output(register: builder.register(for: root.node), target: Int32(root.target), index: Int32(root.index))
        }
        builder.outputRegisters = Set(outs.map(\.register))
        builder.fuse()
        self.inputCount = inputCount
        self.registerCount = Int(builder.nextRegister)
        constants = .allocate(capacity: builder.constants.count)
        _ = constants.initialize(from: builder.constants)
        code = .allocate(capacity: builder.code.count)
        _ = code.initialize(from: builder.code)
        outputs = .allocate(capacity: outs.count)
        _ = outputs.initialize(from: outs)
    }

    deinit {
        constants.deallocate()
        code.deallocate()
        outputs.deallocate()
    }

    /// Runs the program: reads `inputs[0..<inputCount]` and `extra`, writes each output to `output0` or `output1`.
    @inline(__always)
    func run(inputs: UnsafePointer<Double>, extra: Double,
             output0: UnsafeMutablePointer<Double>, output1: UnsafeMutablePointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: registerCount) { buffer in
            let r = buffer.baseAddress!
            for i in 0..<inputCount { r[i] = inputs[i] }
            r[inputCount] = extra
            let firstConstant = inputCount + 1
            for i in 0..<constants.count { r[firstConstant + i] = constants[i] }
            execute(r)
            for o in outputs {
                (o.target == 0 ? output0 : output1)[Int(o.index)] = r[Int(o.register)]
            }
        }
    }

    @inline(__always)
    private func execute(_ r: UnsafeMutablePointer<Double>) {
        for ins in code {
            let a = r[Int(ins.a)]
            let value: Double
            switch ins.op {
            case .add: value = a + r[Int(ins.b)]
            case .subtract: value = a - r[Int(ins.b)]
            case .multiply: value = a * r[Int(ins.b)]
            case .divide: value = a / r[Int(ins.b)]
            case .negate: value = -a
            case .power: value = Glibc_pow(a, r[Int(ins.b)])
            case .square: value = a * a
            case .cube: value = a * a * a
            case .reciprocal: value = 1 / a
            case .powerInteger: value = Program.power(a, Int(ins.b))
            case .multiplyAdd: value = a * r[Int(ins.b)] + r[Int(ins.c)]
            case .multiplySubtract: value = a * r[Int(ins.b)] - r[Int(ins.c)]
            case .sin: value = Glibc_sin(a)
            case .cos: value = Glibc_cos(a)
            case .tan: value = Glibc_tan(a)
            case .asin: value = Glibc_asin(a)
            case .acos: value = Glibc_acos(a)
            case .atan: value = Glibc_atan(a)
            case .atan2: value = Glibc_atan2(a, r[Int(ins.b)])
            case .sinh: value = Glibc_sinh(a)
            case .cosh: value = Glibc_cosh(a)
            case .tanh: value = Glibc_tanh(a)
            case .exp: value = Glibc_exp(a)
            case .log: value = Glibc_log(a)
            case .sqrt: value = a.squareRoot()
            case .abs: value = Swift.abs(a)
            case .min: let b = r[Int(ins.b)]; value = a <= b ? a : b
            case .max: let b = r[Int(ins.b)]; value = a >= b ? a : b
            case .sign: value = a > 0 ? 1 : (a < 0 ? -1 : 0)
            case .select: value = a <= r[Int(ins.b)] ? r[Int(ins.c)] : r[Int(ins.d)]
            }
            r[Int(ins.destination)] = value
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

    /// Turns trees into instructions, one register per distinct subexpression.
    private struct Builder {
        let inputCount: Int
        var constants: [Double] = []
        var code: [Instruction] = []
        var nextRegister: Int32
        var memo: [Node: Int32] = [:]
        var constantRegister: [UInt64: Int32] = [:]

        init(inputCount: Int) {
            self.inputCount = inputCount
            nextRegister = Int32(inputCount + 1)
        }

        mutating func register(for node: Node) -> Int32 {
            if let r = memo[node] { return r }
            let r: Int32
            switch node {
            case .slot(let i):
                precondition(i <= inputCount, "slot \(i) outside the program's inputs")
                return Int32(i)
            case .constant(let c):
                return constantRegister[c.bitPattern]!
            case .negate(let a):
                r = emit(.negate, [register(for: a)])
            case .binary(let op, let a, let b):
                if op == .power, let k = b.constantValue, k == k.rounded(), Swift.abs(k) <= 64 {
                    // Small integer exponents: multiplications instead of pow.
                    let base = register(for: a)
                    switch k {
                    case 2: r = emit(.square, [base])
                    case 3: r = emit(.cube, [base])
                    case -1: r = emit(.reciprocal, [base])
                    default: r = emit(.powerInteger, [base], immediate: Int32(k))
                    }
                } else if op == .power, b.constantValue == 0.5 {
                    r = emit(.sqrt, [register(for: a)])
                } else {
                    let ra = register(for: a), rb = register(for: b)
                    let opcode: Opcode = switch op {
                    case .add: .add
                    case .subtract: .subtract
                    case .multiply: .multiply
                    case .divide: .divide
                    case .power: .power
                    }
                    r = emit(opcode, [ra, rb])
                }
            case .call(let f, let args):
                let registers = args.map { register(for: $0) }
                let opcode: Opcode = switch f {
                case .sin: .sin
                case .cos: .cos
                case .tan: .tan
                case .asin: .asin
                case .acos: .acos
                case .atan: .atan
                case .atan2: .atan2
                case .sinh: .sinh
                case .cosh: .cosh
                case .tanh: .tanh
                case .exp: .exp
                case .log: .log
                case .sqrt: .sqrt
                case .abs: .abs
                case .pow: .power
                case .min: .min
                case .max: .max
                case .sign: .sign
                case .select: .select
                }
                r = emit(opcode, registers)
            }
            memo[node] = r
            return r
        }

        /// Allocates the constant registers first (they sit before the temporaries), skipping small integer
        /// exponents, which become `square`, `cube`, `reciprocal`, `powerInteger` or `sqrt`.
        mutating func collectConstants(_ node: Node) {
            switch node {
            case .slot: break
            case .constant(let c):
                if constantRegister[c.bitPattern] == nil {
                    constantRegister[c.bitPattern] = Int32(inputCount + 1 + constants.count)
                    constants.append(c)
                }
            case .negate(let a): collectConstants(a)
            case .binary(let op, let a, let b):
                collectConstants(a)
                if op == .power, let k = b.constantValue, Builder.isSpecialExponent(k) { break }
                collectConstants(b)
            case .call(_, let args): for a in args { collectConstants(a) }
            }
        }

        static func isSpecialExponent(_ k: Double) -> Bool { (k == k.rounded() && Swift.abs(k) <= 64) || k == 0.5 }

        mutating func emit(_ op: Opcode, _ operands: [Int32], immediate: Int32? = nil) -> Int32 {
            let r = nextRegister
            nextRegister += 1
            var ins = Instruction(op: op, destination: r, a: operands[0])
            if operands.count > 1 { ins.b = operands[1] }
            if operands.count > 2 { ins.c = operands[2] }
            if operands.count > 3 { ins.d = operands[3] }
            if let immediate { ins.b = immediate }
            code.append(ins)
            return r
        }

        /// Fuses `m = a*b; s = m + c` (or `c + m`, `m − c`) into one instruction when `m` has no other reader.
        mutating func fuse() {
            var readers: [Int32: Int] = [:]
            for ins in code {
                for (k, operand) in [ins.a, ins.b, ins.c, ins.d].enumerated() where operandIsRegister(ins, k) {
                    readers[operand, default: 0] += 1
                }
            }
            var producer: [Int32: Int] = [:]
            for (i, ins) in code.enumerated() { producer[ins.destination] = i }
            var removed = Set<Int>()
            for i in code.indices {
                let ins = code[i]
                guard ins.op == .add || ins.op == .subtract else { continue }
                func fusable(_ reg: Int32) -> Int? {
                    guard let p = producer[reg], code[p].op == .multiply, !removed.contains(p),
                          readers[reg] == 1, !outputRegisters.contains(reg) else { return nil }
                    return p
                }
                if let p = fusable(ins.a) {
                    let m = code[p]
                    code[i] = Instruction(op: ins.op == .add ? .multiplyAdd : .multiplySubtract,
                                          destination: ins.destination, a: m.a, b: m.b, c: ins.b)
                    removed.insert(p)
                } else if ins.op == .add, let p = fusable(ins.b) {
                    let m = code[p]
                    code[i] = Instruction(op: .multiplyAdd, destination: ins.destination, a: m.a, b: m.b, c: ins.a)
                    removed.insert(p)
                }
            }
            code = code.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }

        /// Registers read by the outputs: never fused away.
        var outputRegisters: Set<Int32> = []

        func operandIsRegister(_ ins: Instruction, _ k: Int) -> Bool {
            let count: Int = switch ins.op {
            case .negate, .square, .cube, .reciprocal, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh,
                 .exp, .log, .sqrt, .abs, .sign, .powerInteger: 1
            case .multiplyAdd, .multiplySubtract: 3
            case .select: 4
            default: 2
            }
            return k < count
        }
    }
}
