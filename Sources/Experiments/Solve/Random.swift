// Seeded randomness for experiments: independent named streams of SplitMix64 (from Problems) derived from one
// seed, so that, e.g., the test trajectories do not change when the number of training trajectories does.
import Problems
import Support

extension SplitMix64 {
    /// A generator for the named stream `name` of `seed`: independent of the other names.
    public static func stream(_ name: String, seed: UInt64) -> SplitMix64 {
        SplitMix64(seed: seed ^ StableHash.fnv1a64(name))
    }
}
