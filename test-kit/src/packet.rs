//! Real packets built byte by byte for seeds and for the differential target's expectations:
//! IPv4 with options, TCP, UDP, ICMP queries and errors, and the "reply" of a packet.

use crate::oracle::{self, be16, canonicalize, put16, ICMP, TCP, UDP};

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;

/// The IPv4 header fields that differ between senders: [`ipv4`] and the fuzz seeds use
/// [`Ipv4Fields::KIT`]; the integration tests use [`Ipv4Fields::DF`] (a host doing path MTU
/// discovery, RFC 1191).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Fields {
    pub ttl: u8,
    pub ident: u16,
    pub dont_fragment: bool,
}

impl Ipv4Fields {
    /// TTL 64, IP ID 0x1c46, DF clear.
    pub const KIT: Ipv4Fields = Ipv4Fields { ttl: 64, ident: 0x1c46, dont_fragment: false };
    /// TTL 64, IP ID 0, DF set.
    pub const DF: Ipv4Fields = Ipv4Fields { ttl: 64, ident: 0, dont_fragment: true };
}

/// An IPv4 datagram around `payload` (`options` padded to 4 bytes): the transport checksum of
/// `payload` and the header checksum are computed, nothing else is touched (the datagram an
/// ICMP error quotes stays exactly as given).
pub fn datagram(
    src: [u8; 4],
    dst: [u8; 4],
    protocol: u8,
    fields: Ipv4Fields,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let options_len = options.len().min(40).div_ceil(4) * 4;
    let header_len = 20 + options_len;
    let mut p = vec![0u8; header_len];
    p[0] = 0x40 | (header_len / 4) as u8;
    put16(&mut p, 2, (header_len + payload.len()) as u16);
    put16(&mut p, 4, fields.ident);
    if fields.dont_fragment {
        p[6] = 0x40;
    }
    p[8] = fields.ttl;
    p[9] = protocol;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[20..20 + options.len().min(40)].copy_from_slice(&options[..options.len().min(40)]);
    p.extend_from_slice(payload);
    if let Some(ip) = oracle::ip(&p) {
        let l4 = &mut p[header_len..];
        if let Some((at, value)) = oracle::transport_checksum(&ip, l4) {
            put16(l4, at, value);
        }
    }
    oracle::fill_header_checksum(&mut p);
    p
}

/// An IPv4 datagram around `payload` ([`Ipv4Fields::KIT`] but for `ttl`), every checksum a
/// full recompute.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, ttl: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = datagram(src, dst, protocol, Ipv4Fields { ttl, ..Ipv4Fields::KIT }, options, payload);
    canonicalize(&mut p);
    p
}

/// A UDP header and `payload` (checksum left for [`datagram`] to fill in).
pub fn udp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(8 + payload.len());
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    l4.extend_from_slice(&[0xAA, 0xAA]); // non-zero ("none" is 0): the real one is filled in
    l4.extend_from_slice(payload);
    l4
}

/// The TCP header fields a test chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFields {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// A TCP header (`options` padded with zeros to 4 bytes) and `payload`.
pub fn tcp_segment(f: TcpFields, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let options_len = options.len().min(40).div_ceil(4) * 4;
    let mut l4 = vec![0u8; 20 + options_len];
    put16(&mut l4, 0, f.sport);
    put16(&mut l4, 2, f.dport);
    l4[4..8].copy_from_slice(&f.seq.to_be_bytes());
    l4[8..12].copy_from_slice(&f.ack.to_be_bytes());
    l4[12] = (((20 + options_len) / 4) as u8) << 4;
    l4[13] = f.flags;
    put16(&mut l4, 14, f.window);
    l4[20..20 + options.len().min(40)].copy_from_slice(&options[..options.len().min(40)]);
    l4.extend_from_slice(payload);
    l4
}

/// An ICMP message: type, code, the four bytes after the checksum, then `body`.
pub fn icmp_message(icmp_type: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut l4 = vec![icmp_type, code, 0, 0];
    l4.extend_from_slice(&rest);
    l4.extend_from_slice(body);
    l4
}

/// The four bytes after an ICMP query's checksum: identifier, sequence number.
pub fn ident_seq(ident: u16, seq: u16) -> [u8; 4] {
    let [i0, i1] = ident.to_be_bytes();
    let [s0, s1] = seq.to_be_bytes();
    [i0, i1, s0, s1]
}

/// A TCP MSS option (kind 2, RFC 9293).
pub fn mss_option(mss: u16) -> [u8; 4] {
    let [hi, lo] = mss.to_be_bytes();
    [2, 4, hi, lo]
}

/// The TCP no-operation option.
pub const NOP: u8 = 1;

pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    ipv4(src, dst, UDP, 64, &[], &udp_segment(sport, dport, payload))
}

/// A TCP segment; `options` (padded to 4 bytes) go in the header.
pub fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ack = if flags & ACK != 0 { 0x0a0b_0c0d } else { 0 };
    let fields = TcpFields { sport, dport, seq: 0x0102_0304, ack, flags, window: 64240 };
    ipv4(src, dst, TCP, 64, &[], &tcp_segment(fields, options, payload))
}

/// An ICMP query (echo 8/0, timestamp 13/14, information 15/16).
pub fn icmp_query(src: [u8; 4], dst: [u8; 4], icmp_type: u8, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    ipv4(src, dst, ICMP, 64, &[], &icmp_message(icmp_type, 0, ident_seq(ident, seq), payload))
}

/// An ICMP error from `src` to `dst` quoting `quoted` exactly as given (the quote is not
/// touched: only the outer IP and ICMP checksums are computed).
pub fn icmp_error(src: [u8; 4], dst: [u8; 4], icmp_type: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
    let rest = if icmp_type == 3 && code == 4 { [0, 0, 0x05, 0x00] } else { [0; 4] };
    let fields = Ipv4Fields { ident: 0, ..Ipv4Fields::KIT };
    datagram(src, dst, ICMP, fields, &[], &icmp_message(icmp_type, code, rest, quoted))
}

/// What a flow packet is, as far as a reply goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Udp,
    /// An ICMP query request (echo 8, timestamp 13, information 15); replies are 0, 14, 16.
    IcmpRequest,
}

/// The kind of a whole, unfragmented packet that opens a flow, if it is one.
pub fn flow_kind(p: &[u8]) -> Option<Kind> {
    let ip = oracle::ip(p)?;
    let l4 = ip.whole_payload(p)?;
    match ip.protocol {
        TCP if l4.len() >= 20 => Some(Kind::Tcp),
        UDP if l4.len() >= 8 => Some(Kind::Udp),
        ICMP if l4.len() >= 8 && matches!(l4[0], 8 | 13 | 15) => Some(Kind::IcmpRequest),
        _ => None,
    }
}

/// The reply a remote would send to `p`: addresses and ports swapped (an ICMP request becomes
/// its reply, same identifier), TTL 64, the rest of the bytes as they were, every checksum a
/// full recompute.
pub fn reply(p: &[u8], kind: Kind) -> Vec<u8> {
    let mut r = p.to_vec();
    let header_len = usize::from(r[0] & 0xF) * 4;
    r[8] = 64;
    let (src, dst) = (r[12..16].to_vec(), r[16..20].to_vec());
    r[12..16].copy_from_slice(&dst);
    r[16..20].copy_from_slice(&src);
    let l4 = &mut r[header_len..];
    match kind {
        Kind::Tcp | Kind::Udp => {
            let (sport, dport) = (be16(l4, 0), be16(l4, 2));
            put16(l4, 0, dport);
            put16(l4, 2, sport);
            if kind == Kind::Tcp {
                l4[13] = if l4[13] & SYN != 0 { SYN | ACK } else { ACK };
            }
        }
        Kind::IcmpRequest => l4[0] = if l4[0] == 8 { 0 } else { l4[0] + 1 },
    }
    canonicalize(&mut r);
    r
}

pub fn src(p: &[u8]) -> [u8; 4] {
    [p[12], p[13], p[14], p[15]]
}

pub fn dst(p: &[u8]) -> [u8; 4] {
    [p[16], p[17], p[18], p[19]]
}

/// Payload bytes `offset..end` of the unfragmented datagram `whole` as a fragment (MF set when
/// `more`). Later fragments lose the header options, as a sender's fragmentation does.
pub fn fragment(whole: &[u8], offset: usize, end: usize, more: bool) -> Vec<u8> {
    let header_len = usize::from(whole[0] & 0xF) * 4;
    let mut p = if offset == 0 {
        raw_fragment(whole, offset, end, more)
    } else {
        let mut stripped = whole[..20].to_vec();
        stripped[0] = 0x45;
        stripped.extend_from_slice(&whole[header_len..]);
        raw_fragment(&stripped, offset, end, more)
    };
    canonicalize(&mut p);
    p
}

/// Payload bytes `offset..end` of the datagram `whole` as a fragment: header (options kept)
/// with DF clear, MF exactly as `more` says (also where a sender would not set it), the
/// header checksum recomputed and nothing else.
pub fn raw_fragment(whole: &[u8], offset: usize, end: usize, more: bool) -> Vec<u8> {
    let header_len = usize::from(whole[0] & 0xF) * 4;
    let mut p = whole[..header_len].to_vec();
    p.extend_from_slice(&whole[header_len + offset..header_len + end]);
    let total = p.len() as u16;
    put16(&mut p, 2, total);
    put16(&mut p, 6, (offset / 8) as u16 | if more { 0x2000 } else { 0 });
    oracle::fill_header_checksum(&mut p);
    p
}

/// `whole` (20-byte header) cut into fragments of at most `size` payload bytes (a multiple of
/// 8), in order, as a sender would.
pub fn fragments_of(whole: &[u8], size: usize) -> Vec<Vec<u8>> {
    let payload_len = whole.len() - 20;
    (0..payload_len)
        .step_by(size)
        .map(|offset| {
            let end = (offset + size).min(payload_len);
            raw_fragment(whole, offset, end, end < payload_len)
        })
        .collect()
}

/// Puts fragments (same datagram, any order) back together: header of the first (MF cleared),
/// payload by offset.
pub fn join_fragments(frags: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut header = None;
    for f in frags {
        let header_len = usize::from(f[0] & 0xF) * 4;
        let offset = usize::from(be16(f, 6) & 0x1FFF) * 8;
        let data = &f[header_len..usize::from(be16(f, 2))];
        if payload.len() < offset + data.len() {
            payload.resize(offset + data.len(), 0);
        }
        payload[offset..offset + data.len()].copy_from_slice(data);
        if offset == 0 {
            header = Some(f[..header_len].to_vec());
        }
    }
    let mut whole = header.expect("a first fragment");
    whole[6] &= !0x20;
    let total = (whole.len() + payload.len()) as u16;
    put16(&mut whole, 2, total);
    oracle::fill_header_checksum(&mut whole);
    whole.extend_from_slice(&payload);
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_join_back_into_the_datagram_they_were_cut_from() {
        let whole =
            datagram([192, 168, 1, 10], [203, 0, 113, 5], UDP, Ipv4Fields::DF, &[], &udp_segment(1, 2, &[7; 300]));
        let frags = fragments_of(&whole, 96);
        assert_eq!(frags.len(), 4);
        assert!(frags.iter().all(|f| be16(f, 6) & 0x4000 == 0), "DF cleared");
        let mut joined = join_fragments(&frags);
        assert_eq!(joined[6] & 0x20, 0, "MF cleared");
        joined[6] |= 0x40;
        oracle::fill_header_checksum(&mut joined);
        assert_eq!(joined, whole);
    }

    #[test]
    fn an_icmp_error_quotes_its_datagram_untouched() {
        let mut quoted = udp([192, 168, 1, 10], 1, [203, 0, 113, 5], 2, b"x");
        quoted[10] ^= 0xFF; // a quote with a wrong header checksum stays wrong
        let error = icmp_error([203, 0, 113, 5], [192, 168, 1, 10], 3, 4, &quoted);
        assert_eq!(&error[28..], &quoted[..]);
        assert_eq!(be16(&error, 26), 1280, "next-hop MTU of Fragmentation Needed");
        assert!(oracle::checksums_verify(&error));
    }
}
