// The catalog: problem files under `problems/`, found by name, or any `.toml` path.
// CONTRACT SKELETON: public signatures are fixed; bodies are filled in.
import Foundation

public enum Catalog {
    /// The `problems/` folder: `$RNNODE_PROBLEMS`, else `./problems`, else found upward from the executable.
    public static func directory() throws -> URL { fatalError("not implemented") }
    /// Names of the ODE problems in the catalog, sorted.
    public static func names() throws -> [String] { fatalError("not implemented") }
    /// A catalog name (`lorenz`) or a path to a `.toml` file. An unknown name lists the known ones.
    public static func load(_ nameOrPath: String) throws -> Problem { fatalError("not implemented") }
    /// Parses problem-file text; `file` is used in error messages.
    public static func parse(_ text: String, file: String) throws -> Problem { fatalError("not implemented") }
}
