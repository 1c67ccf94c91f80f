//! TCP MSS clamping: a SYN's maximum segment size is lowered to what the link's MTU can carry
//! (MTU − 40), so hosts never send segments the uplink would have to fragment or drop. The
//! classic fix for PPPoE (MTU 1492) and VPN uplinks.
//!
//! Uses only `wire`.

use crate::wire::checksum::Delta;
use crate::wire::ipv4;
use crate::wire::tcp;

const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
/// IPv4 header (20) + TCP header (20) without options.
const HEADERS: u16 = 40;

/// The largest MSS a link with `mtu` carries without fragmentation, or `None` for an unknown
/// (0) or absurd MTU.
pub fn max_mss(mtu: u16) -> Option<u16> {
    mtu.checked_sub(HEADERS).filter(|&mss| mss >= 88)
}

/// Lowers every MSS option of the TCP segment in `packet` that is larger than `limit` to
/// `limit` (stacks differ on which of several options they take: none may get past the
/// clamp), fixing the TCP checksum incrementally. Returns true when an option was rewritten.
/// `limit` is not 0 ([`max_mss`] answers 88 or more).
pub fn clamp(packet: &mut [u8], limit: u16) -> bool {
    // `new_accepted`: `packet` is a datagram the pipeline accepted (`new_head`), possibly only
    // its first bytes (its headers), and cut to no more than its total length: the segment
    // runs from the header to the buffer's end (`after_header_mut`).
    let Ok(mut ip) = ipv4::Packet::new_accepted(packet) else { return false };
    let segment = ip.after_header_mut();
    // The header's length by its data offset (the flow's parse checked the header; these
    // checks only keep the walk in bounds): one longer than the segment is left alone, one
    // shorter than the fixed 20 bytes needs no test of its own, having no option to walk (the
    // walk starts at 20).
    let Some(&offset) = segment.get(tcp::field::DATA_OFFSET) else { return false };
    let header_len = usize::from(offset >> 4) * 4;
    if header_len > segment.len() {
        return false;
    }
    let mut delta = Delta::new();
    let mut from = tcp::HEADER_LEN;
    while let Some(value_at) = mss_value_offset(segment.get(..header_len).unwrap_or(&[]), from) {
        from = value_at + 2;
        // As a two-byte array: read and written as one halfword each.
        let value = segment.get_mut(value_at..value_at + 2).and_then(|v| <&mut [u8; 2]>::try_from(v).ok());
        let Some(value) = value else { break };
        let old = u16::from_be_bytes(*value);
        if old > limit {
            *value = limit.to_be_bytes();
            // At an odd offset the value's bytes are the low byte of one checksum word and the
            // high byte of the next: it adds to the sum byte-swapped (RFC 1071 2(B)), which is
            // the change times 2^8 modulo 0xFFFF. So the change is rotated right by 8 times the
            // offset: by 8 or 24 bits at an odd offset (times 2^24 or 2^8, each 2^8 modulo
            // 0xFFFF, a divisor of 2^32 - 1) and by 0 or 16 at an even one (times 1): one
            // rotation by a register rather than a choice of swapped words.
            delta.lowered_word(old, limit, (value_at as u32) << 3);
        }
    }
    // An option was rewritten exactly when the delta is not the empty one's 0: each rewrite
    // adds a change that is not 0 (`Delta::lowered_word`: `limit` is below `old`), and a
    // one's-complement sum of values that are not 0 is not 0.
    let clamped = delta != Delta::new();
    // The checksum taken with its bytes swapped (little-endian: as a halfword is loaded and
    // stored, with no byte swap of its own either way) and the change swapped to match (a
    // rotation, which joins the addition); applied as a change that is not 0 (see above).
    // The same bytes: a one's-complement sum of byte-swapped words is the byte-swapped sum
    // (RFC 1071 2(B)).
    if let (true, Some([lo, hi])) = (clamped, segment.get_mut(tcp::field::CHECKSUM)) {
        [*lo, *hi] = delta.swapped().apply_changed(u16::from_le_bytes([*lo, *hi])).to_le_bytes();
    }
    clamped
}

/// Offset of the value of the first well-formed MSS option at or after option offset `from`
/// inside a TCP header's bytes.
fn mss_value_offset(header: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at < header.len() {
        match *header.get(at)? {
            OPT_END => return None,
            OPT_NOP => at += 1,
            kind => {
                let len = usize::from(*header.get(at + 1)?);
                if len < 2 || at + len > header.len() {
                    return None;
                }
                if kind == OPT_MSS && len == 4 {
                    return Some(at + 2);
                }
                at += len;
            }
        }
    }
    None
}

/// MTUs of the netifs packets were forwarded out of, remembered so that an inbound SYN-ACK can
/// be clamped to the uplink it arrived on when the caller gives no MTU with a local route (the
/// lwIP shim always does). Learned from every outbound packet that opens a session and every
/// outbound SYN. Holds the [`SLOTS`](Self::SLOTS) uplinks learned most recently (a new one
/// replaces the one learned longest ago), so the SYN-ACK of a connection is clamped unless that
/// many other uplinks opened connections between its SYN and its SYN-ACK.
#[derive(Clone, Copy, Debug, Default)]
pub struct LinkMtus {
    /// Per uplink a word: the netif in the high half, its MTU in the low half (0: free); the
    /// netif compared as the word shifted down, one compare with a shifted operand. With
    /// no padding byte a reset is a plain zero fill (a padded (u8, u16) pair was built on the
    /// stack and copied, 36 bytes of code). Slots in use come first, most recent first: the
    /// free ones (all zero) only ever follow them, so a search may stop at the first slot whose
    /// high half is the netif, free or not.
    links: [u32; Self::SLOTS],
}

impl LinkMtus {
    /// Uplinks remembered at once.
    pub const SLOTS: usize = 4;

    pub const fn new() -> Self {
        LinkMtus { links: [0; Self::SLOTS] }
    }

    /// Remembers `netif`'s MTU as the most recent one (slot 0), moving older ones down and
    /// forgetting the oldest when all slots are taken.
    #[inline(always)]
    pub fn learn(&mut self, netif: u8, mtu: u16) {
        self.learn_words(u32::from(netif), u32::from(mtu));
    }

    /// [`learn`](Self::learn)'s body, out of line (the pipeline's outbound path would take it
    /// in line, for more flash than the call), the netif and MTU handed as words: the caller
    /// holds them so, and the body then needs no zero extension of its own.
    #[inline(never)]
    fn learn_words(&mut self, netif: u32, mtu: u32) {
        if mtu == 0 {
            return;
        }
        // One pass from slot 0: each slot takes the entry carried from the one before (the new
        // one first), until the entry given up is `netif`'s old one or the oldest, past the end.
        // A free slot (0) taken for netif 0's old entry stops the pass early, harmlessly: the
        // slots after it are free too (see `links`).
        let mut carry = netif << 16 | mtu;
        for slot in &mut self.links {
            let older = core::mem::replace(slot, carry);
            if older >> 16 == netif {
                break;
            }
            carry = older;
        }
    }

    /// `netif`'s MTU, 0 when none is remembered. A free slot found for netif 0 answers 0 as
    /// well: no slot after it is in use (see `links`).
    pub fn get(&self, netif: u8) -> u16 {
        self.links.iter().find(|&&link| link >> 16 == u32::from(netif)).map_or(0, |&link| link as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;

    /// IPv4 + TCP SYN with options NOP, MSS 1460 (value at odd offset 23 of the segment).
    fn syn_with_odd_mss() -> [u8; 48] {
        let mut p = [0u8; 48];
        p[..20].copy_from_slice(&[0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 168, 1, 2, 8, 8, 8, 8]);
        let seg = [0xc3, 0x50, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0];
        p[20..40].copy_from_slice(&seg);
        p[40..48].copy_from_slice(&[OPT_NOP, OPT_MSS, 4, 0x05, 0xb4, OPT_NOP, OPT_NOP, OPT_END]);
        ipv4::Packet::new_checked(&mut p[..]).unwrap().fill_checksum();
        let c = tcp_checksum(&p);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn tcp_checksum(p: &[u8]) -> u16 {
        let mut copy = p.to_vec();
        copy[36] = 0;
        copy[37] = 0;
        let sum = checksum::pseudo_header_sum(0xC0A8_0102, 0x0808_0808, 6, 28) + checksum::sum(&copy[20..]);
        !checksum::fold(sum)
    }

    #[test]
    fn clamps_an_odd_aligned_option_and_keeps_the_checksum_right() {
        let mut p = syn_with_odd_mss();
        assert!(clamp(&mut p, 1452));
        assert_eq!(&p[43..45], &1452u16.to_be_bytes());
        assert_eq!(u16::from_be_bytes([p[36], p[37]]), tcp_checksum(&p));
    }

    /// `clamp` answers whether it rewrote an option by the checksum delta it built not being
    /// empty (no flag of its own): pinned against the MSS compared with the limit for every MSS
    /// value, at an odd and an even offset, for the lowest limit `max_mss` gives, a common one
    /// and the highest, with the bytes and the checksum right after.
    #[test]
    fn clamp_answers_whether_the_mss_was_above_the_limit() {
        let odd = syn_with_odd_mss();
        // The same SYN with the MSS option first, its value at even offset 22 of the segment.
        let mut even = odd;
        even[40..48].copy_from_slice(&[OPT_MSS, 4, 0x05, 0xb4, OPT_NOP, OPT_NOP, OPT_NOP, OPT_END]);
        for (packet, at) in [(odd, 43), (even, 42)] {
            for limit in [max_mss(128).unwrap(), 1452, max_mss(u16::MAX).unwrap()] {
                for mss in 0..=u16::MAX {
                    let mut p = packet;
                    p[at..at + 2].copy_from_slice(&mss.to_be_bytes());
                    let c = tcp_checksum(&p);
                    p[36..38].copy_from_slice(&c.to_be_bytes());
                    assert_eq!(clamp(&mut p, limit), mss > limit, "{mss} {limit} at {at}");
                    assert_eq!(p[at..at + 2], mss.min(limit).to_be_bytes());
                    assert_eq!(u16::from_be_bytes([p[36], p[37]]), tcp_checksum(&p), "{mss} {limit} at {at}");
                }
            }
        }
    }

    #[test]
    fn smaller_mss_is_left_alone() {
        let mut p = syn_with_odd_mss();
        let before = p;
        assert!(!clamp(&mut p, 1460));
        assert_eq!(p, before);
    }

    #[test]
    fn malformed_options_are_left_alone() {
        let mut p = syn_with_odd_mss();
        p[42] = 9; // MSS option length beyond the header
        let before = p;
        assert!(!clamp(&mut p, 500));
        assert_eq!(p, before);
    }

    #[test]
    fn data_offsets_out_of_bounds_are_left_alone() {
        // Past the segment (15 words), and under the fixed header (4 words).
        for offset in [0xf0, 0x40] {
            let mut p = syn_with_odd_mss();
            p[32] = offset;
            let before = p;
            assert!(!clamp(&mut p, 500));
            assert_eq!(p, before);
        }
    }

    #[test]
    fn mtu_memory_keeps_the_most_recent_uplinks() {
        // Against a list, most recent first: a netif learned again moves to the front, a new
        // one pushes the oldest out once SLOTS are known.
        let (mut m, mut model) = (LinkMtus::new(), std::vec::Vec::<(u8, u16)>::new());
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let (netif, mtu) = ((seed % 7) as u8, (seed >> 8) as u16 % 4 * 500);
            m.learn(netif, mtu);
            if mtu != 0 {
                model.retain(|&(n, _)| n != netif);
                model.insert(0, (netif, mtu));
                model.truncate(LinkMtus::SLOTS);
            }
            for netif in 0..7 {
                let expected = model.iter().find(|&&(n, _)| n == netif).map_or(0, |&(_, mtu)| mtu);
                assert_eq!(m.get(netif), expected);
            }
        }
    }

    #[test]
    fn mtu_memory() {
        let mut m = LinkMtus::new();
        m.learn(2, 1492);
        m.learn(3, 1280);
        m.learn(2, 1500);
        assert_eq!((m.get(2), m.get(3), m.get(4)), (1500, 1280, 0));
        // Three more uplinks: 3 was learned longest ago and is forgotten, 2 is kept.
        for netif in 4..7 {
            m.learn(netif, 1400);
        }
        assert_eq!((m.get(2), m.get(3), m.get(6)), (1500, 0, 1400));
        assert_eq!(max_mss(1492), Some(1452));
        assert_eq!(max_mss(0), None);
    }
}
