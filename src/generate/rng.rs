//! Seeded random streams, one per entity.
//!
//! Each lead, account and seller draws from its own ChaCha8 stream derived from the
//! workspace seed, a stream kind and its id. Results therefore do not depend on chunk
//! sizes, thread counts or the order work is done in: same seed, same bytes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Which kind of entity a stream belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// A lead and everything that happens to it.
    Lead = 1,
    /// An account.
    Account = 2,
    /// A seller.
    Seller = 3,
    /// Whether and how a lead is planted as a duplicate.
    Duplicate = 4,
    /// A lead's first and last name.
    Name = 5,
    /// How an account makes its people's email addresses.
    MailStyle = 6,
}

/// SplitMix64 finaliser: a fast bijective mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream of entity `id` of kind `stream` in the workspace seeded by `seed`.
pub fn entity_rng(seed: u64, stream: Stream, id: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(seed) ^ mix((stream as u64) << 56 ^ id)))
}
