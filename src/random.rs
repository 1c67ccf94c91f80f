//! The unpredictable numbers behind external port choice (RFC 6056, algorithm 1 with a keyed
//! generator).
//!
//! The core has no entropy of its own: the caller passes a 128-bit seed (from a hardware RNG,
//! `LWIP_RAND()`, ...) and may stir in more at any time. Output *n* is SipHash-1-3 of the
//! counter *n* under that key, so without the key the next port cannot be guessed from the
//! ports seen before it.
//!
//! Uses nothing else in the crate.

pub struct Random {
    key: [u64; 2],
    counter: u64,
}

impl Random {
    pub const fn new(seed: [u64; 2]) -> Self {
        Random { key: seed, counter: 0 }
    }

    /// Mixes more entropy into the key.
    pub fn stir(&mut self, entropy: u64) {
        let mixed = siphash13(self.key, entropy ^ self.counter);
        self.key = [self.key[0] ^ mixed, self.key[1].rotate_left(17) ^ entropy];
    }

    /// Out of line: its callers (port choice, IP IDs, table secrets) are not per-packet work.
    #[inline(never)]
    pub fn next_u32(&mut self) -> u32 {
        self.counter = self.counter.wrapping_add(1);
        siphash13(self.key, self.counter) as u32
    }

    /// A number in `0..bound` (`bound` > 0), with negligible bias for 16-bit bounds.
    pub fn below(&mut self, bound: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(bound)) >> 32) as u32
    }
}

/// SipHash-1-3 of one 8-byte message. Out of line, with one round function called in loops
/// (not unrolled): port choice is not per-packet work, and five inlined rounds of 64-bit
/// arithmetic cost a 32-bit core half a kilobyte of flash.
#[inline(never)]
fn siphash13(key: [u64; 2], message: u64) -> u64 {
    // The initial state's constants as one table, xored with the key in a loop: eight 32-bit
    // immediates cost more code than the table.
    const INIT: [u64; 4] = [0x736f_6d65_7073_6575, 0x646f_7261_6e64_6f6d, 0x6c79_6765_6e65_7261, 0x7465_6462_7974_6573];
    let mut v = INIT;
    for (i, word) in v.iter_mut().enumerate() {
        *word ^= key[i & 1];
    }
    // Five rounds in one loop: a compression round per 8-byte word (the message, then the
    // length block, 8 bytes), then 0xff into v2 and three finalisation rounds.
    let words = [message, 8u64 << 56];
    for round in 0..5 {
        let word = words.get(round).copied().unwrap_or(0);
        v[3] ^= word;
        sip_round(&mut v);
        v[0] ^= word;
        if round == 1 {
            v[2] ^= 0xff;
        }
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[inline(never)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_seeds_give_different_streams() {
        let mut a = Random::new([1, 2]);
        let mut b = Random::new([1, 3]);
        let sa: [u32; 4] = core::array::from_fn(|_| a.next_u32());
        let sb: [u32; 4] = core::array::from_fn(|_| b.next_u32());
        assert_ne!(sa, sb);
        assert_ne!(sa[0], sa[1]);
    }

    #[test]
    fn below_stays_below_and_spreads() {
        let mut r = Random::new([7, 7]);
        let mut seen = [false; 16];
        for _ in 0..1000 {
            let x = r.below(16);
            assert!(x < 16);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    /// The outputs for one key, pinned: a rewrite of the rounds must compute the same
    /// SipHash-1-3, not merely some numbers.
    #[test]
    fn outputs_are_siphash13_of_the_counter() {
        let mut r = Random::new([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        let first: [u32; 3] = core::array::from_fn(|_| r.next_u32());
        assert_eq!(first, [0xe472_f19b, 0x024f_c6ec, 0xda89_49f2]);
        r.stir(0xdead_beef);
        assert_eq!(r.next_u32(), 0xdec6_5a06);
    }

    #[test]
    fn stir_changes_the_stream() {
        let mut a = Random::new([5, 5]);
        let mut b = Random::new([5, 5]);
        b.stir(99);
        assert_ne!(a.next_u32(), b.next_u32());
    }
}
