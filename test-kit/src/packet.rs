//! Real packets built byte by byte for seeds and for the differential target's expectations:
//! IPv4 with options, TCP, UDP, ICMP queries and errors, and the "reply" of a packet.

use crate::oracle::{self, be16, canonicalize, put16, ICMP, TCP, UDP};

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;

/// An IPv4 datagram around `payload`, every checksum a full recompute.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, ttl: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let options_len = options.len().min(40).div_ceil(4) * 4;
    let header_len = 20 + options_len;
    let mut p = vec![0u8; header_len];
    p[0] = 0x40 | (header_len / 4) as u8;
    put16(&mut p, 2, (header_len + payload.len()) as u16);
    put16(&mut p, 4, 0x1c46);
    p[8] = ttl;
    p[9] = protocol;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[20..20 + options.len().min(40)].copy_from_slice(&options[..options.len().min(40)]);
    p.extend_from_slice(payload);
    canonicalize(&mut p);
    p
}

pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(8 + payload.len());
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    l4.extend_from_slice(&[0xAA, 0xAA]); // non-zero: canonicalize fills in the real one
    l4.extend_from_slice(payload);
    ipv4(src, dst, UDP, 64, &[], &l4)
}

/// A TCP segment; `options` (padded to 4 bytes) go in the header.
pub fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let options_len = options.len().min(40).div_ceil(4) * 4;
    let mut l4 = vec![0u8; 20 + options_len];
    put16(&mut l4, 0, sport);
    put16(&mut l4, 2, dport);
    l4[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    if flags & ACK != 0 {
        l4[8..12].copy_from_slice(&0x0a0b_0c0du32.to_be_bytes());
    }
    l4[12] = (((20 + options_len) / 4) as u8) << 4;
    l4[13] = flags;
    put16(&mut l4, 14, 64240);
    l4[20..20 + options.len().min(40)].copy_from_slice(&options[..options.len().min(40)]);
    l4.extend_from_slice(payload);
    ipv4(src, dst, TCP, 64, &[], &l4)
}

/// An ICMP query (echo 8/0, timestamp 13/14, information 15/16).
pub fn icmp_query(src: [u8; 4], dst: [u8; 4], icmp_type: u8, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = vec![icmp_type, 0, 0, 0];
    l4.extend_from_slice(&ident.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(payload);
    ipv4(src, dst, ICMP, 64, &[], &l4)
}

/// An ICMP error from `src` to `dst` quoting `quoted` exactly as given (the quote is not
/// touched: only the outer IP and ICMP checksums are computed).
pub fn icmp_error(src: [u8; 4], dst: [u8; 4], icmp_type: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
    let mut l4 = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
    if icmp_type == 3 && code == 4 {
        put16(&mut l4, 6, 1280);
    }
    l4.extend_from_slice(quoted);
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    put16(&mut p, 2, (20 + l4.len()) as u16);
    p[8] = 64;
    p[9] = ICMP;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    let c = checksum_of(&l4);
    put16(&mut l4, 2, c);
    p.extend_from_slice(&l4);
    let h = checksum_of(&p[..20]);
    put16(&mut p, 10, h);
    p
}

fn checksum_of(data: &[u8]) -> u16 {
    let mut acc = 0u64;
    for pair in data.chunks(2) {
        acc += u64::from(pair[0]) << 8 | u64::from(pair.get(1).copied().unwrap_or(0));
    }
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
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
    let header = if offset == 0 { &whole[..header_len] } else { &whole[..20] };
    let mut p = header.to_vec();
    if offset != 0 {
        p[0] = 0x45;
    }
    p.extend_from_slice(&whole[header_len + offset..header_len + end]);
    let total = p.len() as u16;
    put16(&mut p, 2, total);
    put16(&mut p, 6, (offset / 8) as u16 | if more { 0x2000 } else { 0 });
    canonicalize(&mut p);
    p
}
