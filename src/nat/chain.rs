//! Datagrams held in a chain of buffers (lwIP's `PBUF_POOL` chains): translated in their first
//! buffer, in place, when everything the pipeline reads lies there. Addresses, ports and
//! identifiers sit in the headers and every checksum is updated incrementally, so the payload
//! is never needed; what does need it (the datagram an ICMP error quotes and its checksums,
//! fragments to reassemble) is declined, and the caller linearises it.

use super::*;
use crate::wire::icmp::{self, Class};

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// [`process`](Self::process) for a datagram of `datagram_len` bytes (as the caller claims:
    /// lwIP's `tot_len`) whose first `head.len()` bytes are `head`. Returns the verdict, with
    /// `head` rewritten in place when translated, exactly as [`process`](Self::process) would
    /// give for the whole datagram; or `None`, with nothing read into state or counted, when
    /// the headers alone cannot decide it: then call [`process`](Self::process) with the whole
    /// datagram in one span. Never reads or writes past `head`, whatever `datagram_len` says.
    pub fn process_head(&mut self, head: &mut [u8], datagram_len: usize, ctx: &Context, now: u32) -> Option<Verdict> {
        self.process_head_as(head, datagram_len, ctx, now, |verdict| verdict)
    }

    /// [`process_head`](Self::process_head) with the verdict handed to `convert` on each way
    /// out: the fast path's verdict is known at build time, so the C API's conversion of it
    /// folds into constants instead of joining the general pipeline's.
    #[inline(always)]
    pub(crate) fn process_head_as<R>(
        &mut self,
        head: &mut [u8],
        datagram_len: usize,
        ctx: &Context,
        now: u32,
        convert: impl Fn(Verdict) -> R,
    ) -> Option<R> {
        // What `process` does, spelled out: the C API runs every packet through here, one span
        // or a chain's head, so the firmware holds one copy of the fast path.
        let (packet, datagram_len) = if head.len() >= datagram_len {
            (head.get_mut(..datagram_len)?, datagram_len)
        } else {
            match fit(head, datagram_len) {
                Fit::Whole => {
                    let len = head.len();
                    (head, len)
                }
                Fit::Headers => (head, datagram_len),
                Fit::NeedsAll => return None,
            }
        };
        #[cfg(feature = "fast-path")]
        if let Some(verdict) = self.established(packet, datagram_len, ctx, now) {
            return Some(convert(verdict));
        }
        Some(convert(self.general(packet, datagram_len, ctx, now)))
    }
}

/// How much of a datagram the first buffer holds, for the pipeline's purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fit {
    /// All of it (what follows in the chain is link padding).
    Whole,
    /// Everything the pipeline reads or rewrites, or enough to find it malformed: the IP
    /// header and a whole TCP header (options and all, for MSS clamping), UDP header or ICMP
    /// query header.
    Headers,
    /// The pipeline needs more: an ICMP error (it checks the quoted datagram and the ICMP
    /// checksum over all of it), a fragment (reassembly copies the payload), or headers that
    /// do not fit in `head`.
    NeedsAll,
}

/// Classifies a first buffer shorter than its datagram (`head.len() < datagram_len`).
fn fit(head: &[u8], datagram_len: usize) -> Fit {
    let Some(&[ver_ihl, _, len_hi, len_lo, _, _, flags_hi, flags_lo, _, protocol]) = head.get(..10) else {
        return Fit::NeedsAll;
    };
    let header_len = usize::from(ver_ihl & 0x0F) * 4;
    let total_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    // Version 4 with a header of at least 20 bytes (IHL 5 or more), whole in `head`, within
    // the total length; the pipeline drops it whole or not, so it sees all there is. With the
    // fast path the version and IHL as two tests: a range test moved a spill onto the fast
    // path there (1 more M4 instruction per established packet). Without it, whole in `head`
    // alone: the pipeline's first step is the header's own tests (`ipv4::head_len`), so a
    // header they refuse (another version, IHL below 5, total length below the header's) is
    // dropped as malformed from `head`, whatever else `fit` answers, as from the whole
    // datagram. (With the fast path the quiet test comes first, which a shorter `head` may
    // answer otherwise.)
    #[cfg(feature = "fast-path")]
    if ver_ihl >> 4 != 4 || header_len < ipv4::HEADER_LEN || header_len > head.len() || total_len < header_len {
        return Fit::NeedsAll;
    }
    #[cfg(not(feature = "fast-path"))]
    if header_len > head.len() {
        return Fit::NeedsAll;
    }
    // Longer than the datagram: malformed, which the IP header alone shows. (Without the fast
    // path its own test in the pipeline drops it, whatever `fit` answers: see above.)
    if cfg!(feature = "fast-path") && total_len > datagram_len {
        return Fit::Headers;
    }
    if total_len <= head.len() {
        return Fit::Whole;
    }
    if u16::from_be_bytes([flags_hi, flags_lo]) & 0x3FFF != 0 {
        return Fit::NeedsAll;
    }
    let l4 = head.get(header_len..).unwrap_or(&[]);
    let needed = match protocol {
        // The data offset in bytes, once the header's fixed 20 are there (which an offset
        // below 5 words then needs no test of its own to ask for).
        ipv4::protocol::TCP => match l4.get(..crate::wire::tcp::HEADER_LEN) {
            Some(fixed) => usize::from(fixed[12] >> 4) * 4,
            None => return Fit::NeedsAll,
        },
        ipv4::protocol::UDP => 8,
        ipv4::protocol::ICMP => match l4.first() {
            Some(&kind) if icmp::class(kind) == Class::Error => return Fit::NeedsAll,
            _ => 8,
        },
        // No session translates it: its IP header decides; the 8 bytes an ICMP error about
        // it quotes are there too.
        _ => 8,
    };
    if l4.len() >= needed {
        Fit::Headers
    } else {
        Fit::NeedsAll
    }
}
