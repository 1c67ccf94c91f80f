//! Internet checksums: the full sum of RFC 1071 and the incremental update of RFC 1624.
//!
//! The NAT never recomputes a checksum over a payload: every rewrite records the 16-bit words
//! it changed in a [`Delta`] and folds that into each checksum that covers them (RFC 1624,
//! equation 3: `HC' = ~(~HC + ~m + m')`). Equation 3 never produces the `0xFFFF` that
//! equation 2 could, so the result is bit-identical to a full recompute.

/// One's-complement sum of `data` (odd length padded with a zero byte), not yet folded (at
/// most 0x1FFFE, so a few such sums add up without overflow).
///
/// Adds 32-bit words with end-around carry: since 2^16 ≡ 1 (mod 0xFFFF), that is the same
/// one's-complement sum as adding 16-bit words, in half the steps; a 32-bit accumulator, not
/// a 64-bit one, so a 32-bit core needs no 64-bit arithmetic (2^32 − 1 is a multiple of
/// 0xFFFF, and a carry added back never turns a non-zero sum into 0).
pub fn sum(data: &[u8]) -> u32 {
    let acc = accumulate::<false>(data);
    (acc & 0xFFFF) + (acc >> 16)
}

/// [`sum`] before its halves are added: the 32-bit end-around-carry accumulator, whose
/// [`fold`] is the same 16-bit sum. Over big-endian words, or (`AS_LOADED`) over the words as
/// the machine loads them, without a byte swap per word: byte order only swaps the folded
/// sum's two bytes (RFC 1071 2.B), which [`complement`]'s callers undo where they need the
/// value and need not where they test it against 0.
#[inline(always)]
fn accumulate<const AS_LOADED: bool>(data: &[u8]) -> u32 {
    let little = AS_LOADED && cfg!(target_endian = "little");
    let mut acc: u32 = 0;
    // Word by word off the front of the slice: no length split into words and remainder first
    // (a mask LLVM shrinks to a constant that takes two instructions to build).
    let mut rest = data;
    while let &[a, b, c, d, ref tail @ ..] = rest {
        let word = if little { u32::from_le_bytes([a, b, c, d]) } else { u32::from_be_bytes([a, b, c, d]) };
        acc = add_around(acc, word);
        rest = tail;
    }
    // The last 1 to 3 bytes, as the zero-padded word they start. Little-endian (the words as
    // loaded): built from the last byte back, each shifted in below the ones after it, then
    // added once (not at all for no bytes, the usual whole words); no rotation count is kept,
    // where each byte rotated into its place and added (steps of 24 from 32) took more code.
    // Big-endian: each byte rotated right by 8, 16, 24 (shifted left by 24, 16, 8), where a
    // shift by a register would be masked first.
    if little {
        if !rest.is_empty() {
            acc = add_around(acc, rest.iter().rev().fold(0, |tail, &byte| tail << 8 | u32::from(byte)));
        }
        return acc;
    }
    let mut shift = 8;
    for &byte in rest {
        acc = add_around(acc, u32::from(byte).rotate_right(shift));
        shift += 8;
    }
    acc
}

/// True when an IPv4 header without options has a correct checksum: its one's-complement sum
/// folds to 0xFFFF. The sum is taken over five 32-bit words as loaded, in the machine's byte
/// order: byte order only swaps the folded sum's two bytes (RFC 1071 2.B), and 0xFFFF is the
/// same either way. Two ways to the same answer, the cheaper for the machine's word size.
#[inline(always)]
pub fn header_ok(header: &[u8; 20]) -> bool {
    if cfg!(target_pointer_width = "64") {
        header_ok_wide(header)
    } else {
        header_ok_narrow(header)
    }
}

/// With 64-bit arithmetic: the plain sum of the words is a non-zero multiple of 0xFFFF exactly
/// when the one's-complement sum folds to 0xFFFF (2^16 ≡ 1 mod 0xFFFF); one remainder by a
/// constant (a multiplication) replaces the folds.
#[inline(always)]
fn header_ok_wide(header: &[u8; 20]) -> bool {
    let h = header;
    // Spelled out with constant indices: a loop is not unrolled at opt-level "s".
    let acc = u64::from(u32::from_ne_bytes([h[0], h[1], h[2], h[3]]))
        + u64::from(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]))
        + u64::from(u32::from_ne_bytes([h[8], h[9], h[10], h[11]]))
        + u64::from(u32::from_ne_bytes([h[12], h[13], h[14], h[15]]))
        + u64::from(u32::from_ne_bytes([h[16], h[17], h[18], h[19]]));
    acc != 0 && acc % 0xFFFF == 0
}

/// With 32-bit arithmetic (where a 64-bit remainder is a library call): the five words' sum
/// with every carry added back, then one fold. Spelled out word by word: at opt-level "s" a loop
/// stays a loop, a counter and a branch per word. The header's address is hidden from the
/// optimiser, which would otherwise keep the five words for the parse that follows (and spill
/// them): by `ffi::hide_ref`'s empty `asm!`, not `black_box` (a store, an add and a load per
/// packet). Thumb-2 adds a carry in with each word (`sum_carrying`: one `adcs` a word, thumbv7em
/// full 8 bytes and 2 instructions a packet less); other targets (ARMv6-M, RISC-V, which has no
/// carry flag) keep an end-around carry per word (`sum_around`): on thumbv6m the chain took 44
/// bytes more.
#[inline(always)]
fn header_ok_narrow(header: &[u8; 20]) -> bool {
    let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, e0, e1, e2, e3] = *crate::ffi::hide_ref(header);
    let words = [
        u32::from_ne_bytes([a0, a1, a2, a3]),
        u32::from_ne_bytes([b0, b1, b2, b3]),
        u32::from_ne_bytes([c0, c1, c2, c3]),
        u32::from_ne_bytes([d0, d1, d2, d3]),
        u32::from_ne_bytes([e0, e1, e2, e3]),
    ];
    let acc = if cfg!(target_feature = "thumb2") { sum_carrying(words) } else { sum_around(words) };
    fold(acc) == 0xFFFF
}

/// The five words' one's-complement sum, an end-around carry after each word.
#[inline(always)]
fn sum_around([a, b, c, d, e]: [u32; 5]) -> u32 {
    add_around(add_around(add_around(add_around(a, b), c), d), e)
}

/// The five words' one's-complement sum as one chain of additions, each word's carry out added
/// with the next word and the last one around the end: the same residue as [`sum_around`] (each
/// carry, worth 2^32 ≡ 1 mod 0xFFFF, is added once either way), and 0 only for five zero words.
#[inline(always)]
fn sum_carrying([a, b, c, d, e]: [u32; 5]) -> u32 {
    let (acc, carry) = a.overflowing_add(b);
    let (acc, carry) = add_carrying(acc, c, carry);
    let (acc, carry) = add_carrying(acc, d, carry);
    let (acc, carry) = add_carrying(acc, e, carry);
    add_around(acc, u32::from(carry))
}

/// Folds a 32-bit one's-complement accumulator into 16 bits: the end-around-carry sum of its
/// halves. Adding the accumulator to itself rotated by 16 puts `high + low + carry` in the top
/// half in one addition (the carry out of the low half is the end-around carry).
#[inline(always)]
pub fn fold(acc: u32) -> u16 {
    (acc.wrapping_add(acc.rotate_left(16)) >> 16) as u16
}

/// True when `data` holds a correct checksum: its one's-complement sum folds to 0xFFFF, its
/// [`checksum`] is 0 (the IPv4 header's and the ICMP message's tests).
pub fn verifies(data: &[u8]) -> bool {
    complement(data) == 0
}

/// The RFC 1071 checksum of `data`: the complement of its folded sum.
pub fn checksum(data: &[u8]) -> u16 {
    u16::from_be(complement(data) as u16)
}

/// [`checksum`] in a whole register (its top half clear), over the words as loaded: its two
/// bytes swapped on a little-endian machine, which [`checksum`] swaps back; 0 either way when
/// the data's checksum is right ([`verifies`]). Out of line, the one copy of the sum and its
/// fold for the checksum tests and the checksums filled in (a 0 tested at the caller costs
/// less than the fold's 0xFFFF, and a whole register needs no zero extension there).
#[inline(never)]
fn complement(data: &[u8]) -> u32 {
    u32::from(!fold(accumulate::<true>(data)))
}

/// Sum of the TCP/UDP pseudo header (source, destination, protocol, L4 length).
pub fn pseudo_header_sum(src: u32, dst: u32, protocol: u8, l4_len: u16) -> u32 {
    (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + u32::from(protocol) + u32::from(l4_len)
}

/// `a + b + carry` and its carry out, in the shape LLVM joins into one add-with-carry.
#[inline(always)]
fn add_carrying(a: u32, b: u32, carry: bool) -> (u32, bool) {
    let (sum, c1) = a.overflowing_add(b);
    let (sum, c2) = sum.overflowing_add(u32::from(carry));
    (sum, c1 | c2)
}

/// One's-complement addition of 32-bit values: the carry out wraps around into bit 0, which
/// keeps the sum's residue modulo 0xFFFF (2^32 ≡ 1), so [`fold`] of it is the 16-bit sum.
#[inline(always)]
fn add_around(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum + u32::from(carry)
}

/// The 16-bit words a rewrite changed, kept as a one's-complement sum of `~old + new` (in 32
/// bits, folded to 16 only when applied; a 32-bit value adds in one step).
///
/// One `Delta` is applied to every checksum that covers the changed words, which is how an
/// ICMP error's four checksums stay consistent with each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta(u32);

impl Delta {
    pub const fn new() -> Self {
        Delta(0)
    }

    /// Records that the 16-bit word `old` became `new`.
    #[inline(always)]
    pub fn word(&mut self, old: u16, new: u16) {
        self.0 = add_around(self.0, u32::from(!old) + u32::from(new));
    }

    /// [`word`](Self::word) for a word lowered (`new` below `old`) whose change adds to the
    /// checksum rotated right by `bits`: rotated, its residue modulo 0xFFFF is multiplied by
    /// 2^(32 - bits) (0xFFFF divides 2^32 - 1). `old` is complemented as a 32-bit value (one
    /// instruction, where the 16-bit complement took a constant): 0xFFFF0000 more, a multiple
    /// of 0xFFFF, so the same residue; with `new` below `old` the sum has no carry out and is
    /// 0xFFFF0000 or more, never 0. So the sum it joins folds as with `word` whenever that
    /// sum is not 0.
    #[inline(always)]
    pub fn lowered_word(&mut self, old: u16, new: u16, bits: u32) {
        debug_assert!(new < old);
        self.0 = add_around(self.0, (!u32::from(old)).wrapping_add(u32::from(new)).rotate_right(bits));
    }

    /// Records that the 32-bit value `old` (e.g. an address) became `new`: both of its 16-bit
    /// words at once (the complement of a 32-bit value complements both halves).
    #[inline(always)]
    pub fn dword(&mut self, old: u32, new: u32) {
        self.0 = add_around(add_around(self.0, !old), new);
    }

    /// Adds another delta to this one.
    pub fn merge(&mut self, other: Delta) {
        self.0 = add_around(self.0, other.0);
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        fold(self.0) == 0 || fold(self.0) == 0xFFFF
    }

    /// RFC 1624 equation 3 applied to a stored checksum: `!fold(~old + change)`, which is
    /// [`apply_either`](Self::apply_either)'s formula with `u` 0 (the formula written once).
    #[inline(always)]
    pub fn apply(&self, checksum: u16) -> u16 {
        self.apply_either(checksum, 0)
    }

    /// The same change over the words with their bytes swapped, to apply to a checksum read
    /// so: a byte swap of a 16-bit value is its product by 2^8 modulo 0xFFFF, and so is the
    /// rotation of the 32-bit sum by 8 bits (0xFFFF divides 2^32 - 1). Rotated, a change is 0
    /// exactly when it was, as the change over the swapped words is (0 only when each word
    /// went from 0xFFFF to 0, which swapped are the same words): so joined to any other change
    /// it applies as that one would.
    #[inline(always)]
    pub fn swapped(self) -> Delta {
        Delta(self.0.rotate_right(8))
    }

    /// [`apply`](Self::apply) for a delta that is not the empty one's 0 (the MSS clamp's, which
    /// applies only a change it made), the checksum complemented as a 32-bit value (one
    /// instruction, where the 16-bit complement took a constant): 0xFFFF0000 more, a multiple
    /// of 0xFFFF, so the same residue. `apply`'s sum is 0, folding to 0 rather than 0xFFFF,
    /// only when the delta is 0 too; with a delta that is not 0, neither sum is 0, and the two
    /// fold to the same value.
    #[inline(always)]
    pub fn apply_changed(&self, checksum: u16) -> u16 {
        debug_assert_ne!(self.0, 0);
        !fold(add_around(!u32::from(checksum), self.0))
    }

    /// As [`apply`](Self::apply), for a UDP checksum: 0 means "no checksum" and stays 0, and a
    /// computed 0 is transmitted as 0xFFFF (RFC 768). [`apply_either`](Self::apply_either)'s
    /// formula, not a test of the stored checksum and two of the result.
    #[inline(always)]
    pub fn apply_udp(&self, checksum: u16) -> u16 {
        self.apply_either(checksum, 1)
    }

    /// [`apply`](Self::apply) when `u` is 0, [`apply_udp`](Self::apply_udp) when `u` is 1 (a
    /// UDP checksum), in one formula rather than a choice between the two results:
    /// `!fold(~old + u + change) + u`. With `u` 1 the sum is one more and the result one more
    /// than its complement: the same value, except that a sum whose residue is 0 folds to 1
    /// rather than 0xFFFF, so a computed 0 comes out 0xFFFF (RFC 768). An `old` below `u` is
    /// a UDP checksum of 0 ("none"), which stays 0. `u` is 0 or 1 (a test pins both against
    /// the rules, for every `old`).
    #[inline(always)]
    pub fn apply_either(&self, checksum: u16, u: u32) -> u16 {
        let new = (!fold(add_around(u32::from(!checksum) + u, self.0))).wrapping_add(u as u16);
        if u32::from(checksum) < u {
            0
        } else {
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a UDP checksum `old` becomes when the update gives `applied`, as RFC 768 puts it:
    /// 0 ("no checksum") stays 0, and a computed 0 is transmitted as 0xFFFF.
    fn udp_rule(old: u16, applied: u16) -> u16 {
        match (old, applied) {
            (0, _) => 0,
            (_, 0) => 0xFFFF,
            (_, c) => c,
        }
    }

    /// For every change that is not 0, `apply_changed` gives what `apply` gives, and the
    /// change `swapped` applied to a checksum's swapped bytes gives its answer's bytes swapped.
    #[test]
    fn a_change_applies_the_same_as_changed_and_over_swapped_bytes() {
        let words = (0..=u16::MAX).step_by(811).chain([0, 1, 0xFF, 0xFF00, 0xFFFE, 0xFFFF]);
        for old in words.clone() {
            for new in words.clone().step_by(7) {
                for before in [None, Some((0xFFFF, 0)), Some((0x1234, 0xFEDC))] {
                    let mut delta = Delta::new();
                    if let Some((a, b)) = before {
                        delta.word(a, b);
                    }
                    delta.word(old, new);
                    if delta == Delta::new() {
                        continue;
                    }
                    for checksum in words.clone().step_by(3) {
                        let applied = delta.apply(checksum);
                        assert_eq!(delta.apply_changed(checksum), applied, "{old} {new} {before:?} {checksum}");
                        let swapped = delta.swapped().apply_changed(checksum.swap_bytes());
                        assert_eq!(swapped, applied.swap_bytes(), "{old} {new} {before:?} {checksum}");
                    }
                }
            }
        }
    }

    /// A word's change over its values, swapped, joins another change as the change over its
    /// swapped words does: every checksum, plain or UDP's, comes out the same.
    #[test]
    fn a_swapped_word_joins_as_the_word_over_swapped_bytes() {
        let words = (0..=u16::MAX).step_by(1009).chain([0, 1, 0xFF, 0xFF00, 0xFFFE, 0xFFFF]);
        for old in words.clone() {
            for new in words.clone() {
                for before in [None, Some((0xFFFF, 0)), Some((0x1234, 0xFEDC)), Some((0, 0xFFFF))] {
                    let mut base = Delta::new();
                    if let Some((a, b)) = before {
                        base.word(a, b);
                    }
                    let (mut moved, mut swapped) = (Delta::new(), base);
                    moved.word(old, new);
                    swapped.word(old.swap_bytes(), new.swap_bytes());
                    let mut joined = base;
                    joined.merge(moved.swapped());
                    assert_eq!(joined.is_empty(), swapped.is_empty());
                    for checksum in words.clone().step_by(5).chain([0xFFFF]) {
                        assert_eq!(joined.apply(checksum), swapped.apply(checksum), "{old} {new} {before:?} {checksum}");
                        assert_eq!(joined.apply_udp(checksum), swapped.apply_udp(checksum), "{old} {new} {before:?}");
                    }
                }
            }
        }
    }

    /// `lowered_word` rotated by 0 or 16 bits gives every checksum `word` gives, and rotated by
    /// 8 or 24 bits every one `word` gives over the two words byte-swapped (the MSS clamp's
    /// even and odd offsets): lowered words across the range, alone and after another change,
    /// applied to stored checksums across the range (but for `word`'s sum of 0, see
    /// `lowered_word`; the clamp lowers to 88 or more).
    #[test]
    fn a_lowered_word_rotated_is_the_word_swapped() {
        for old in (1..=u16::MAX).step_by(1021).chain([u16::MAX]) {
            for new in (0..old).step_by(997).chain([old - 1]) {
                for bits in [0, 8, 16, 24] {
                    let swap = |v: u16| if bits % 16 == 0 { v } else { v.swap_bytes() };
                    for before in [None, Some((0x1234, 0xFEDC)), Some((0xFFFF, 0))] {
                        let (mut rotated, mut swapped) = (Delta::new(), Delta::new());
                        if let Some((a, b)) = before {
                            rotated.word(a, b);
                            swapped.word(a, b);
                        }
                        rotated.lowered_word(old, new, bits);
                        swapped.word(swap(old), swap(new));
                        assert_ne!(rotated, Delta::new());
                        // `word`'s one sum of 0 (0xFFFF lowered to 0, after nothing or the
                        // same): there the two differ, as `lowered_word` says.
                        if swapped == Delta::new() {
                            continue;
                        }
                        for checksum in (0..=u16::MAX).step_by(4099).chain([0, 0xFFFF]) {
                            assert_eq!(rotated.apply(checksum), swapped.apply(checksum), "{old} {new} {bits} {before:?} {checksum}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rfc1071_example() {
        // The worked example of RFC 1071 section 3: sum 0xddf2 before complement.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_is_zero_padded() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56, 0x78, 0x9a])), fold(0x1234 + 0x5678 + 0x9a00));
    }

    #[test]
    fn word_sum_equals_16_bit_sum_for_every_length() {
        let data: [u8; 67] = core::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7));
        for len in 0..data.len() {
            let slow =
                data[..len].chunks(2).map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))).sum::<u32>();
            assert_eq!(fold(sum(&data[..len])), fold(slow), "length {len}");
            assert!(sum(&data[..len]) <= 0x1FFFE);
        }
        assert_eq!(fold(sum(&[0xFF; 64])), 0xFFFF, "never folds a non-zero sum to 0");
    }

    /// `checksum` folds the accumulator `sum` adds the halves of: the same checksum for every
    /// length and for sums with carries out of either half (`checksum` sums the words as
    /// loaded and swaps the result back, `sum` takes them big-endian), and `verifies` is its
    /// test against 0.
    #[test]
    fn checksum_is_the_complement_of_the_folded_sum() {
        let data: [u8; 67] = core::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7));
        for fill in [&data[..], &[0xFF; 67], &[0; 67], &[0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 1, 0x80, 0x80, 0x80]] {
            for len in 0..fill.len() {
                assert_eq!(checksum(&fill[..len]), !fold(sum(&fill[..len])), "length {len}");
                assert_eq!(verifies(&fill[..len]), checksum(&fill[..len]) == 0, "length {len}");
            }
        }
    }

    #[test]
    fn header_ok_agrees_with_the_folded_sum() {
        let mut header = [0x45u8, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 0x40, 1, 0, 0, 192, 168, 1, 2, 8, 8, 8, 8];
        let c = checksum(&header);
        header[10..12].copy_from_slice(&c.to_be_bytes());
        for check in [header_ok, header_ok_wide, header_ok_narrow] {
            assert!(check(&header));
            for i in 0..20 {
                for bit in 0..8 {
                    let mut bad = header;
                    bad[i] ^= 1 << bit;
                    assert_eq!(check(&bad), fold(sum(&bad)) == 0xFFFF, "byte {i} bit {bit}");
                }
            }
            assert!(!check(&[0; 20]), "all zero sums to 0, not 0xFFFF");
            // 0xFFFF words: the one's-complement sum folds to 0xFFFF.
            assert!(check(&[0xFF; 20]));
            // Sums that fold to 0xFFFF with carries out of both halves.
            let mut carries = [0u8; 20];
            carries[..4].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFE]);
            carries[4..8].copy_from_slice(&[0x00, 0x00, 0x00, 0x01]);
            assert_eq!(check(&carries), fold(sum(&carries)) == 0xFFFF);
        }
    }

    /// The narrow test on this machine and both of its sums (each carry into the next word's
    /// addition, or around the end after each word) against the wide sum, over every header of
    /// five words taken from values at the edges of a carry.
    #[test]
    fn header_ok_narrow_sums_as_the_wide_sum() {
        let edges = [0u32, 1, 0xFFFF, 0x1_0000, 0xFFFF_0000, 0xFFFF_FFFE, 0xFFFF_FFFF];
        for n in 0..edges.len().pow(5) {
            let mut header = [0u8; 20];
            let mut words = [0u32; 5];
            let mut rest = n;
            for (at, word) in words.iter_mut().enumerate() {
                *word = edges[rest % edges.len()];
                header[at * 4..at * 4 + 4].copy_from_slice(&word.to_ne_bytes());
                rest /= edges.len();
            }
            let wide = header_ok_wide(&header);
            assert_eq!(header_ok_narrow(&header), wide, "{header:x?}");
            assert_eq!(fold(sum_carrying(words)) == 0xFFFF, wide, "carrying {words:x?}");
            assert_eq!(fold(sum_around(words)) == 0xFFFF, wide, "around {words:x?}");
        }
    }

    #[test]
    fn fold_is_the_end_around_carry_sum_of_the_halves() {
        let slow = |acc: u32| {
            let acc = (acc & 0xFFFF) + (acc >> 16);
            ((acc & 0xFFFF) + (acc >> 16)) as u16
        };
        let mut x = 0x9E37_79B9u32;
        for edge in [0, 1, 0xFFFF, 0x1_0000, 0x1_FFFE, 0xFFFE_FFFF, 0xFFFF_0000, 0xFFFF_FFFF, 0x8000_8000] {
            assert_eq!(fold(edge), slow(edge), "{edge:#x}");
        }
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            assert_eq!(fold(x), slow(x), "{x:#x}");
        }
    }

    #[test]
    fn incremental_equals_full_recompute() {
        let mut data = [0x45u8, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0, 0, 192, 168, 1, 2, 8, 8, 8, 8];
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        let mut d = Delta::new();
        d.dword(u32::from_be_bytes([192, 168, 1, 2]), u32::from_be_bytes([10, 0, 0, 1]));
        data[12..16].copy_from_slice(&[10, 0, 0, 1]);
        let updated = d.apply(c);
        data[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(updated, checksum(&data));
    }

    #[test]
    fn a_dword_change_is_its_two_word_changes() {
        let mut x = 0x1234_5678u32;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let (old, new, checksum) = (x, x.rotate_left(7) ^ 0xA5A5_0F0F, (x >> 3) as u16);
            let mut one = Delta::new();
            one.dword(old, new);
            let mut two = Delta::new();
            two.word((old >> 16) as u16, (new >> 16) as u16);
            two.word(old as u16, new as u16);
            assert_eq!(one.apply(checksum), two.apply(checksum), "{old:#x} -> {new:#x}");
            assert_eq!(one.apply_udp(checksum), two.apply_udp(checksum));
        }
    }

    #[test]
    fn rfc1624_never_yields_negative_zero() {
        // RFC 1624 section 3: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives 0x0000 with eqn 3.
        let mut d = Delta::new();
        d.word(0x5555, 0x3285);
        assert_eq!(d.apply(0xDD2F), 0x0000);
    }

    #[test]
    fn udp_zero_checksum_is_kept_and_computed_zero_is_ffff() {
        let mut d = Delta::new();
        d.word(0x0001, 0x0002);
        assert_eq!(d.apply_udp(0), 0);
        // A checksum that becomes 0 after the update must be sent as 0xFFFF.
        let mut d = Delta::new();
        d.word(0x1234, 0x1235);
        assert_eq!(d.apply(0x0001), 0x0000);
        assert_eq!(d.apply_udp(0x0001), 0xFFFF);
    }

    /// RFC 1624 equation 3, `~(~old + change)`, summed with an end-around carry in 64 bits:
    /// written apart from `fold` and `add_around`, so that the test below checks the one
    /// formula `apply` and `apply_udp` share against it rather than against itself.
    fn rfc1624(old: u16, change: u32) -> u16 {
        let mut sum = u64::from(!old) + u64::from(change);
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// `apply_either` with `u` 0 (as `apply`) is RFC 1624's equation 3, and with `u` 1 (as
    /// `apply_udp`) that result under RFC 768's zero rules: for every stored checksum, with
    /// changes that fold to 0, to 0xFFFF, that are 0 and that are not.
    #[test]
    fn apply_either_is_rfc1624_then_rfc768() {
        let mut x = 0x2545_F491u32;
        let random: [u32; 24] = core::array::from_fn(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        });
        let fixed = [0, 1, 0xFFFF, 0x1_0000, 0xFFFE, 0xFFFF_0000, 0xFFFF_FFFF, 0xFFFE_0001, 0x8000_7FFF];
        for change in fixed.into_iter().chain(random) {
            let d = Delta(change);
            for old in 0..=u16::MAX {
                let expected = rfc1624(old, change);
                assert_eq!(d.apply(old), expected, "{old:#x} + {change:#x}");
                assert_eq!(d.apply_udp(old), udp_rule(old, expected), "{old:#x} + {change:#x}, UDP");
            }
        }
    }

    #[test]
    fn empty_delta_is_identity() {
        let d = Delta::new();
        assert!(d.is_empty());
        assert_eq!(d.apply(0xABCD), 0xABCD);
    }
}
