//! A checksum oracle written independently of the library's `wire` module: it recomputes every
//! checksum of a packet from scratch (RFC 1071), so the fuzzers can compare the NAT's
//! incremental updates (RFC 1624) against a full recompute.

/// ICMP types whose body quotes a datagram (destination unreachable, time exceeded,
/// parameter problem).
pub const ICMP_ERRORS: [u8; 3] = [3, 11, 12];

pub const ICMP: u8 = 1;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

pub fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

pub fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

pub fn put16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// The RFC 1071 checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

fn sum(data: &[u8]) -> u64 {
    let mut acc = 0u64;
    for pair in data.chunks(2) {
        acc += u64::from(pair[0]) << 8 | u64::from(pair.get(1).copied().unwrap_or(0));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// The RFC 1071 checksum of `data` with the 16-bit field at `field` counted as zero.
fn checksum_without(data: &[u8], field: usize, extra: u64) -> u16 {
    let stored = u64::from(be16(data, field));
    // Removing a word from a one's-complement sum = adding its complement.
    !fold(sum(data) + extra + (0xFFFF - stored))
}

/// An IPv4 header whose version, header length and bytes are all present. `total` is what
/// the header announces, which may be more than the bytes at hand (a quoted datagram) or less.
#[derive(Clone, Copy, Debug)]
pub struct Ip {
    pub header_len: usize,
    pub total: usize,
    pub protocol: u8,
    pub src: u32,
    pub dst: u32,
    pub fragment: bool,
}

pub fn ip(p: &[u8]) -> Option<Ip> {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(p[0] & 0xF) * 4;
    if header_len < 20 || header_len > p.len() {
        return None;
    }
    let flags_offset = be16(p, 6);
    Some(Ip {
        header_len,
        total: usize::from(be16(p, 2)),
        protocol: p[9],
        src: be32(p, 12),
        dst: be32(p, 16),
        fragment: flags_offset & 0x3FFF != 0,
    })
}

impl Ip {
    /// The transport bytes when the whole datagram the header announces is present.
    pub fn whole_payload<'a>(&self, p: &'a [u8]) -> Option<&'a [u8]> {
        if self.total < self.header_len || self.total > p.len() || self.fragment {
            return None;
        }
        Some(&p[self.header_len..self.total])
    }

    fn pseudo(&self, len: usize) -> u64 {
        sum(&self.src.to_be_bytes()) + sum(&self.dst.to_be_bytes()) + u64::from(self.protocol) + len as u64
    }
}

/// Where a transport checksum sits in `l4` and what a full recompute says it must be.
/// `None`: this protocol has no checksum to check, or not enough bytes to hold it.
pub fn transport_checksum(ip: &Ip, l4: &[u8]) -> Option<(usize, u16)> {
    match ip.protocol {
        TCP if l4.len() >= 18 => Some((16, checksum_without(l4, 16, ip.pseudo(l4.len())))),
        UDP if l4.len() >= 8 => {
            let len = usize::from(be16(l4, 4));
            if len < 8 || len > l4.len() || be16(l4, 6) == 0 {
                // A bad length has no canonical checksum; 0 means "none" (RFC 768).
                return None;
            }
            let c = checksum_without(&l4[..len], 6, ip.pseudo(len));
            Some((6, if c == 0 { 0xFFFF } else { c }))
        }
        ICMP if l4.len() >= 4 => Some((2, checksum_without(l4, 2, 0))),
        _ => None,
    }
}

/// Rewrites every checksum of `p` (an IPv4 packet) to its full recompute: the quoted datagram
/// of an ICMP error first (its IP header, and its transport checksum when it is whole), then
/// the transport checksum, then the IP header. Bytes that do not parse are left alone.
pub fn canonicalize(p: &mut [u8]) {
    let Some(ip) = ip(p) else { return };
    if let Some(l4) = ip.whole_payload(p) {
        let l4_range = ip.header_len..ip.header_len + l4.len();
        let l4 = &mut p[l4_range];
        if ip.protocol == ICMP && l4.len() >= 8 && ICMP_ERRORS.contains(&l4[0]) {
            canonicalize_quoted(&mut l4[8..]);
        }
        if let Some((at, value)) = transport_checksum(&ip, l4) {
            put16(l4, at, value);
        }
    }
    let header = &mut p[..ip.header_len];
    put16(header, 10, checksum_without(header, 10, 0));
}

fn canonicalize_quoted(q: &mut [u8]) {
    let Some(ip) = ip(q) else { return };
    if let Some(l4) = ip.whole_payload(q) {
        let nested_error = ip.protocol == ICMP && l4.first().is_some_and(|t| ICMP_ERRORS.contains(t));
        if !nested_error {
            let range = ip.header_len..ip.header_len + l4.len();
            if let Some((at, value)) = transport_checksum(&ip, &q[range.clone()]) {
                put16(&mut q[range], at, value);
            }
        }
    }
    let header = &mut q[..ip.header_len];
    put16(header, 10, checksum_without(header, 10, 0));
}

/// Recomputes the IPv4 header checksum of `p` after its header was edited, nothing else.
pub fn fill_header_checksum(p: &mut [u8]) {
    let header_len = usize::from(p[0] & 0xF) * 4;
    let header = &mut p[..header_len];
    put16(header, 10, checksum_without(header, 10, 0));
}

/// Checks that every checksum of `p` equals its full recompute (what [`canonicalize`] would
/// write). Returns which one differs.
pub fn check_canonical(p: &[u8]) -> Result<(), String> {
    let ip = ip(p).ok_or("IPv4 header does not parse")?;
    check_header(&p[..ip.header_len], "IP header")?;
    if let Some(l4) = ip.whole_payload(p) {
        check_transport(&ip, l4, "transport")?;
        if ip.protocol == ICMP && l4.len() >= 8 && ICMP_ERRORS.contains(&l4[0]) {
            let q = &l4[8..];
            if let Some(inner) = self::ip(q) {
                check_header(&q[..inner.header_len], "quoted IP header")?;
                if let Some(inner_l4) = inner.whole_payload(q) {
                    let nested_error =
                        inner.protocol == ICMP && inner_l4.first().is_some_and(|t| ICMP_ERRORS.contains(t));
                    if !nested_error {
                        check_transport(&inner, inner_l4, "quoted transport")?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_header(header: &[u8], what: &str) -> Result<(), String> {
    let want = checksum_without(header, 10, 0);
    let got = be16(header, 10);
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} checksum {got:#06x}, full recompute {want:#06x}"))
    }
}

fn check_transport(ip: &Ip, l4: &[u8], what: &str) -> Result<(), String> {
    match transport_checksum(ip, l4) {
        Some((at, want)) if be16(l4, at) != want => {
            Err(format!("{what} (protocol {}) checksum {:#06x}, full recompute {want:#06x}", ip.protocol, be16(l4, at)))
        }
        _ => Ok(()),
    }
}

/// True when every checksum of `p` already equals its full recompute.
pub fn is_canonical(p: &[u8]) -> bool {
    check_canonical(p).is_ok()
}

/// True when the IP header checksum and the transport checksum of `p` verify: each sums to all
/// ones with its field, whichever of the two forms of zero the writer chose (a UDP checksum of
/// 0 means none, RFC 768). Weaker than [`is_canonical`], which wants the full recompute's form.
pub fn checksums_verify(p: &[u8]) -> bool {
    let Some(ip) = ip(p) else { return false };
    let Some(l4) = ip.whole_payload(p) else { return false };
    let header_ok = fold(sum(&p[..ip.header_len])) == 0xFFFF;
    let l4_ok = match ip.protocol {
        UDP if l4.len() >= 8 && be16(l4, 6) == 0 => true,
        TCP | UDP => fold(sum(l4) + ip.pseudo(l4.len())) == 0xFFFF,
        ICMP => fold(sum(l4)) == 0xFFFF,
        _ => false,
    };
    header_ok && l4_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet;

    #[test]
    fn built_packets_verify_and_a_flipped_bit_does_not() {
        let tcp = packet::tcp([192, 168, 1, 10], 40000, [203, 0, 113, 5], 80, packet::SYN, &[], b"hi");
        let udp = packet::udp([192, 168, 1, 10], 5000, [203, 0, 113, 5], 53, b"query");
        let ping = packet::icmp_query([192, 168, 1, 10], [203, 0, 113, 5], 8, 7, 1, b"");
        for p in [tcp, udp, ping] {
            assert!(checksums_verify(&p) && is_canonical(&p), "{p:?}");
            for at in [10, p.len() - 1] {
                let mut bad = p.clone();
                bad[at] ^= 0x40;
                assert!(!checksums_verify(&bad), "byte {at} of {p:?}");
            }
        }
    }
}
