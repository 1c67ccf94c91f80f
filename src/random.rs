//! The unpredictable numbers behind external port choice (RFC 6056, algorithm 1 with a keyed
//! generator).
//!
//! The core has no entropy of its own: the caller passes a 128-bit seed (from a hardware RNG,
//! `LWIP_RAND()`, ...) and may stir in more at any time. The seed is folded into a 64-bit key,
//! and output *n* is HalfSipHash-2-4 of the 64-bit counter *n* under that key, so without the
//! key the next port cannot be guessed from the ports seen before it. The counter is 64 bits,
//! not 32: IP IDs draw one output per non-atomic datagram, and a 32-bit counter would start
//! the stream over after 2^32 of them, replaying the ports an observer saw before.
//!
//! HalfSipHash is SipHash on 32-bit words: a 32-bit core computes it with plain register
//! arithmetic, where SipHash's 64-bit words cost it register pairs and several times the code.
//!
//! Uses nothing else in the crate.

/// In C order, the counter first: the order rustc chose put the key first, which cost
/// `next_u32` 4 B (measured in the commit that set this one).
#[repr(C)]
pub struct Random {
    /// The 64-bit counter as the message's two words, low first: two 32-bit words, so the
    /// NAT keeps 4-byte alignment for its fields.
    counter: [u32; 2],
    key: [u32; 2],
}

impl Random {
    /// The key is the seed's two halves xored, the second rotated first: an odd rotation, so
    /// no seed but all-zero or all-one words folds two equal halves away.
    pub const fn new(seed: [u64; 2]) -> Self {
        let key = seed[0] ^ seed[1].rotate_left(17);
        Random { key: [key as u32, (key >> 32) as u32], counter: [0, 0] }
    }

    /// Takes `new(seed)`'s key and keeps the counter: on a generator whose counter is 0 (one
    /// `new` made), the same state as `new(seed)` without writing the counter's zeros again.
    pub(crate) fn rekey(&mut self, seed: [u64; 2]) {
        debug_assert_eq!(self.counter, [0, 0]);
        self.key = Self::new(seed).key;
    }

    /// Mixes more entropy into the key: all of it through the hash (under the old key, so
    /// the new key is no simple function of the entropy), its high half also directly. Any
    /// change of the entropy's high half changes the key, one of its low half all but surely
    /// does (a 2^-32 collision of the hash), and so every later output.
    pub fn stir(&mut self, entropy: u64) {
        let [low, high] = self.counter;
        let mixed = half_siphash(self.key, &[entropy as u32 ^ low, (entropy >> 32) as u32 ^ high]);
        self.key = [self.key[0] ^ mixed, self.key[1].rotate_left(17) ^ (entropy >> 32) as u32];
    }

    /// Out of line: its callers (port choice, IP IDs, table secrets) are not per-packet work.
    #[inline(never)]
    pub fn next_u32(&mut self) -> u32 {
        let [low, high] = self.counter;
        let low = low.wrapping_add(1);
        self.counter = [low, high.wrapping_add(u32::from(low == 0))];
        half_siphash(self.key, &self.counter)
    }

    /// A number in `0..bound` (`bound` > 0), with negligible bias for 16-bit bounds. A
    /// remainder, not a 64-bit product: a Cortex-M0+ has no 32x32->64 multiply and would
    /// link one for this alone, while a division it links anyway.
    pub fn below(&mut self, bound: u32) -> u32 {
        self.next_u32().checked_rem(bound).unwrap_or(0)
    }
}

/// HalfSipHash-2-4 with a 32-bit output (the SipHash authors' 32-bit variant: 64-bit key,
/// four 32-bit words of state) of a message of whole 32-bit little-endian words. The generator
/// hashes two words; the test vectors take every whole-word length. All rounds in one loop
/// (not unrolled): port choice is not per-packet work. In line in its callers: `next_u32`,
/// itself out of line, is the only one the C API links (`stir` is the Rust API's), and a call
/// of it out of line cost more than it saved (the key's loads, the message's address and a
/// second frame: 20 bytes on the M4).
#[inline(always)]
fn half_siphash(key: [u32; 2], message: &[u32]) -> u32 {
    let mut v = [key[0], key[1], key[0] ^ 0x6c79_6765, key[1] ^ 0x7465_6462];
    // One loop over every round (one copy of the round's code): two compression rounds per
    // word, then for the length block (the length in bytes in its top byte, no tail bytes
    // left over), then 0xff into v2 and four finalisation rounds (with no word: 0).
    let length = (message.len() as u32).wrapping_mul(4) << 24;
    let mut round = 0usize;
    loop {
        let block = round / 2;
        let word = match message.get(block) {
            Some(&word) => word,
            None if block == message.len() => length,
            None => 0,
        };
        // The word goes into v3 before an even round and into v0 after an odd one: masked by
        // the round's parity (all ones when odd) rather than tested twice; 0xff into v2 after
        // the length block's second round, as the first finalisation round starts: an
        // immediate there, where after that round's last rotation LLVM merged the rotation
        // into the xor and kept 0xff in a register (with the counter below, 12 B on the M4).
        let odd = 0u32.wrapping_sub(round as u32 & 1);
        if round == message.len().wrapping_mul(2).wrapping_add(2) {
            v[2] ^= 0xff;
        }
        v[3] ^= word & !odd;
        sip_round(&mut v);
        v[0] ^= word & odd;
        // Counted up and tested after the round, not as a `for` range (which with the test
        // above kept the former code: 0xff in a register and one more saved).
        round = round.wrapping_add(1);
        if round == message.len().wrapping_mul(2).wrapping_add(6) {
            break;
        }
    }
    v[1] ^ v[3]
}

/// One SipRound on 32-bit words (HalfSipHash's rotations: 5, 16, 8, 7, 13, 16).
fn sip_round(v: &mut [u32; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(5) ^ v[0];
    v[0] = v[0].rotate_left(16);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(8) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(7) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[2];
    v[2] = v[2].rotate_left(16);
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

    /// `Nat::reset_valid` rekeys the generator its fill has just made (`new([0, 0])`'s, counter
    /// 0) rather than writing `new(seed)` whole: the same state, so the same stream.
    #[test]
    fn rekeying_a_new_generator_is_new_with_that_seed() {
        for seed in [[0, 0], [1, 2], [u64::MAX, 0], [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]] {
            let mut rekeyed = Random::new([0, 0]);
            rekeyed.rekey(seed);
            let mut made = Random::new(seed);
            assert_eq!((rekeyed.counter, rekeyed.key), (made.counter, made.key));
            let a: [u32; 4] = core::array::from_fn(|_| rekeyed.next_u32());
            let b: [u32; 4] = core::array::from_fn(|_| made.next_u32());
            assert_eq!(a, b);
        }
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

    /// HalfSipHash-2-4-32 against the reference vectors: key bytes 00..07, message bytes
    /// 00..n-1, for every whole-word length n. The numbers are `vectors_hsip32` (entries 0, 4,
    /// ..., 60, read little-endian) from vectors.h in the SipHash authors' repository,
    /// github.com/veorq/SipHash.
    #[test]
    fn half_siphash_matches_the_reference_vectors() {
        const VECTORS: [u32; 16] = [
            0x5b9f_35a9, 0x8946_6e2a, 0x8f84_b8d0, 0x2f87_f057, 0x84ac_b5d9, 0x4510_4de3, 0x630c_4027, 0x0040_64b0,
            0x1221_e7fe, 0xecc6_5ce7, 0x4018_bcb6, 0x48d5_0577, 0xe32c_e169, 0xd4f3_853b, 0x40b9_c5a5, 0x736c_e7d4,
        ];
        let key = [0x0302_0100, 0x0706_0504];
        let bytes: [u8; 60] = core::array::from_fn(|i| i as u8);
        let words: [u32; 15] = core::array::from_fn(|i| {
            u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]])
        });
        for (n, expected) in VECTORS.iter().enumerate() {
            assert_eq!(half_siphash(key, &words[..n]), *expected, "{} message bytes", 4 * n);
        }
    }

    /// The generator's outputs: HalfSipHash of the counter 1, 2, 3 (8 bytes, little-endian)
    /// under the folded seed, then under the stirred key. A rewrite must compute the same
    /// numbers, not merely some numbers.
    #[test]
    fn outputs_are_half_siphash_of_the_counter() {
        // The seed's fold is the reference key 00..07: the second word rotates to zero.
        let mut r = Random::new([0x0706_0504_0302_0100, 0]);
        let first: [u32; 3] = core::array::from_fn(|_| r.next_u32());
        let key = [0x0302_0100, 0x0706_0504];
        assert_eq!(first, [half_siphash(key, &[1, 0]), half_siphash(key, &[2, 0]), half_siphash(key, &[3, 0])]);
        // The same numbers from the reference C implementation (halfsiphash.c, 2-4, 4-byte
        // output, messages 01 00 00 00 00 00 00 00, 02 00 ..., 03 00 ...).
        assert_eq!(first, [0x9668_c2ab, 0x15c5_d4bc, 0x6650_cef8]);
        r.stir(0x1234_5678_dead_beef);
        let mixed = half_siphash(key, &[0xdead_beef ^ 3, 0x1234_5678]);
        let stirred = [key[0] ^ mixed, key[1].rotate_left(17) ^ 0x1234_5678];
        assert_eq!(r.next_u32(), half_siphash(stirred, &[4, 0]));
        // `below` is the next output's remainder; a zero bound gives 0, not a panic.
        assert_eq!(r.below(49_151), half_siphash(stirred, &[5, 0]) % 49_151);
        assert_eq!(r.below(0), 0);
    }

    /// 2^32 draws on (IP IDs draw one per non-atomic datagram), the stream does not start
    /// over: the ports after that are no replay of the ports seen before.
    #[test]
    fn the_stream_does_not_repeat_after_2_pow_32_draws() {
        let seed = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        let fresh: [u32; 2] = {
            let mut r = Random::new(seed);
            core::array::from_fn(|_| r.next_u32())
        };
        let mut r = Random::new(seed);
        r.counter = [u32::MAX, 0];
        let after: [u32; 2] = core::array::from_fn(|_| r.next_u32());
        assert_ne!(after[1], fresh[0]);
        assert_ne!(after[1], fresh[1]);
    }

    /// New entropy in either half changes every later output.
    #[test]
    fn either_half_of_the_entropy_changes_the_stream() {
        let base = Random::new([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);
        let stream = |mut r: Random, entropy: u64| -> [u32; 4] {
            r.stir(entropy);
            core::array::from_fn(|_| r.next_u32())
        };
        let plain = stream(Random { ..base }, 0);
        for entropy in [1, 1 << 32, 1 << 63] {
            let other = stream(Random { ..base }, entropy);
            assert!(plain.iter().zip(other.iter()).all(|(a, b)| a != b), "{entropy:#x}");
        }
    }

    #[test]
    fn stir_changes_the_stream() {
        let mut a = Random::new([5, 5]);
        let mut b = Random::new([5, 5]);
        b.stir(99);
        assert_ne!(a.next_u32(), b.next_u32());
    }
}
