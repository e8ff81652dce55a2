//! Seeds and random streams. Every stream is a PCG-64 generator keyed by (replication
//! seed, kind, index), so a draw depends only on what it is for, never on the thread or on
//! the order other streams were used in.

use rand_pcg::Pcg64;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `rep` (0-based) of a run with master seed `seed`.
pub fn replication_seed(seed: u64, rep: u32) -> u64 {
    splitmix64(splitmix64(seed) ^ splitmix64(0x5245_5000_0000_0000 ^ rep as u64))
}

/// Stream kinds: each gets a disjoint family of generators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u64)]
pub(crate) enum StreamKind {
    SessionArrivals = 1,
    Session = 2,
    Gateway = 3,
    BoundArrivals = 4,
    BoundRequest = 5,
    NewRequest = 6,
    /// Per-account-hour fault processes, by account x 3 + fault kind.
    AccountFaults = 16,
    TraceClients = 7,
}

/// The streams of one kind in one replication. The part of the seeding that depends only
/// on (replication seed, kind) is computed once here rather than for every stream: a
/// session's streams are built at each session arrival.
#[derive(Clone, Copy)]
pub(crate) struct Family {
    base: u64,
}

impl Family {
    pub(crate) fn new(rep_seed: u64, kind: StreamKind) -> Family {
        Family {
            base: splitmix64(rep_seed ^ splitmix64(kind as u64)),
        }
    }

    /// The stream of this family with index `index` (the same as [`stream`]).
    #[inline]
    pub(crate) fn stream(self, index: u64) -> Pcg64 {
        let b = splitmix64(self.base ^ splitmix64(index));
        let c = splitmix64(b ^ 0x243F_6A88_85A3_08D3);
        let d = splitmix64(c ^ 0x1319_8A2E_0370_7344);
        let e = splitmix64(d ^ index);
        Pcg64::new(
            ((b as u128) << 64) | c as u128,
            ((d as u128) << 64) | e as u128,
        )
    }

    /// The stream with index `index`, built on its first draw.
    pub(crate) fn lazy(self, index: u64) -> LazyStream {
        LazyStream {
            family: self,
            index,
            rng: None,
        }
    }
}

/// The families a replication builds a stream of for every session (or open-mode request).
pub(crate) struct Families {
    pub(crate) session: Family,
    pub(crate) gateway: Family,
    pub(crate) bound_request: Family,
    pub(crate) new_request: Family,
}

impl Families {
    pub(crate) fn new(rep_seed: u64) -> Families {
        Families {
            session: Family::new(rep_seed, StreamKind::Session),
            gateway: Family::new(rep_seed, StreamKind::Gateway),
            bound_request: Family::new(rep_seed, StreamKind::BoundRequest),
            new_request: Family::new(rep_seed, StreamKind::NewRequest),
        }
    }
}

/// A stream built on its first draw: most sessions never need their gateway stream (it
/// is drawn from only on exact ties and for poll jitter), and building a PCG-64 stream
/// costs several hashes. Its draws are those of [`stream`] with the same key.
pub(crate) struct LazyStream {
    family: Family,
    index: u64,
    /// Inline, not boxed: a waiting request draws its poll jitter from it at every poll,
    /// and a generator in a box of its own is a second cache miss after the session's
    /// (the session, with the generator in it, is fetched ahead of its event).
    rng: Option<Pcg64>,
}

impl LazyStream {
    #[inline]
    fn get(&mut self) -> &mut Pcg64 {
        let (family, index) = (self.family, self.index);
        self.rng.get_or_insert_with(|| family.stream(index))
    }
}

impl rand::RngCore for LazyStream {
    fn next_u32(&mut self) -> u32 {
        self.get().next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.get().next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.get().fill_bytes(dst)
    }
}

/// A PCG-64 generator for (replication seed, kind, index). PCG's output for a given
/// state is fixed by its specification, so streams are stable across versions and machines.
pub(crate) fn stream(rep_seed: u64, kind: StreamKind, index: u64) -> Pcg64 {
    Family::new(rep_seed, kind).stream(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_kind_and_index() {
        let mut seen = std::collections::HashSet::new();
        for kind in [
            StreamKind::Session,
            StreamKind::Gateway,
            StreamKind::NewRequest,
        ] {
            for i in 0..100 {
                let x: u64 = stream(7, kind, i).random();
                assert!(seen.insert(x), "stream collision");
            }
        }
        assert_ne!(replication_seed(1, 0), replication_seed(1, 1));
        assert_ne!(replication_seed(1, 0), replication_seed(2, 0));
    }

    /// The seeding as it was written before families: a family's streams must stay
    /// exactly these (results for a given seed depend on it).
    #[test]
    fn family_streams_are_the_keyed_streams() {
        let keyed = |rep_seed: u64, kind: StreamKind, index: u64| {
            let a = splitmix64(rep_seed ^ splitmix64(kind as u64));
            let b = splitmix64(a ^ splitmix64(index));
            let c = splitmix64(b ^ 0x243F_6A88_85A3_08D3);
            let d = splitmix64(c ^ 0x1319_8A2E_0370_7344);
            let e = splitmix64(d ^ index);
            Pcg64::new(
                ((b as u128) << 64) | c as u128,
                ((d as u128) << 64) | e as u128,
            )
        };
        for (seed, kind, index) in [
            (0, StreamKind::Session, 0),
            (7, StreamKind::Gateway, 42),
            (u64::MAX, StreamKind::AccountFaults, 1 << 40),
        ] {
            let mut a = Family::new(seed, kind).stream(index);
            let mut b = keyed(seed, kind, index);
            for _ in 0..10 {
                assert_eq!(a.random::<u64>(), b.random::<u64>());
            }
        }
    }

    #[test]
    fn lazy_stream_draws_what_the_stream_draws() {
        let mut eager = stream(9, StreamKind::Gateway, 42);
        let mut lazy = Family::new(9, StreamKind::Gateway).lazy(42);
        for _ in 0..100 {
            assert_eq!(lazy.random::<u64>(), eager.random::<u64>());
            assert_eq!(lazy.random_range(0..7u32), eager.random_range(0..7u32));
        }
    }
}
