//! The established-flow fast path: a packet of a live TCP/UDP session, in the shape nearly all
//! traffic has, translated in one pass (one parse, one lookup, one in-place update, one
//! rewrite at fixed offsets).
//!
//! It takes only what it can finish exactly as the general pipeline would: a [`Plain`] packet
//! that is no SYN (SYNs may start sessions and get their MSS clamped), needs no ICMP error
//! (TTL, DF against the MTU), comes from no martian source, is neither hairpinned nor reversed,
//! and belongs to a session that is still alive. Anything else is declined before any state
//! changes, and the general pipeline then decides about it in full. Tests check the two give
//! the same verdict, bytes, sessions and counters (`tests/fast_path.rs`).

use super::*;
use crate::flow;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Translates `packet` when it belongs to an established flow; `None` declines it.
    #[inline(always)]
    pub(super) fn established(
        &mut self,
        packet: &mut [u8],
        datagram_len: usize,
        ctx: &Context,
        now: u32,
    ) -> Option<Verdict> {
        // A forwarded packet no rule translates (most often none of the NAT's business) is
        // declined before it is parsed.
        if let Route::Forward { out_netif, .. } = ctx.route {
            if !self.rules.translates_remembered(ctx.in_netif, out_netif) {
                return None;
            }
        }
        let mut plain = flow::parse_plain_head(packet, datagram_len)?;
        // A plain flow is TCP or UDP (`parse_plain_head` gives no other): said again, in a form
        // the optimiser keeps, so that past refresh's test for TCP the rewrite knows UDP and
        // drops its ICMP case (the protocol is otherwise the IP header's byte, any number).
        plain.flow.protocol = if plain.flow.protocol == Protocol::Tcp { Protocol::Tcp } else { Protocol::Udp };
        let flow = &plain.flow;
        if flow.tcp_flags & tcp_flags::SYN != 0 || is_martian(flow.src) {
            return None;
        }
        match ctx.route {
            Route::Forward { out_netif, out_addr, out_mtu } => {
                if plain.dont_frag && out_mtu != 0 && plain.total_len > out_mtu {
                    return None;
                }
                let session = self.tables.plain(flow.protocol).outbound_mut(
                    out_netif,
                    flow.src,
                    flow.src_port,
                    flow.dst,
                    flow.dst_port,
                )?;
                let ext_port = refresh(&self.config, &self.udp_timeouts, session, flow, Direction::Outbound, now)?;
                rewrite::plain_endpoint(packet, &plain, Side::Source, out_addr, ext_port);
                self.renumber(packet);
                self.stats.translated_out = self.stats.translated_out.wrapping_add(1);
            }
            Route::Local { netif, .. } => {
                if ctx.in_netif != netif {
                    return None;
                }
                let session =
                    self.tables.plain(flow.protocol).inbound_mut(netif, flow.dst_port, flow.src, flow.src_port)?;
                let (inside, in_port) = (session.inside, session.in_port);
                refresh(&self.config, &self.udp_timeouts, session, flow, Direction::Inbound, now)?;
                rewrite::plain_endpoint(packet, &plain, Side::Destination, inside, in_port);
                self.stats.translated_in = self.stats.translated_in.wrapping_add(1);
            }
        }
        Some(Verdict::Translated)
    }
}

/// What `is_live` and `touch` do for the general pipeline, on a session in hand: `None` (and
/// no change) when it has expired, otherwise [`session::update`] and its external port.
#[inline(always)]
fn refresh(
    config: &Config,
    udp_timeouts: &[u32; 8],
    session: &mut Session,
    flow: &Flow,
    direction: Direction,
    now: u32,
) -> Option<u16> {
    let state = session.protocol_state();
    // `Nat::timeout` for the two protocols a plain packet can have.
    let timeout = match flow.protocol {
        Protocol::Tcp if tcp::is_established(state) => config.tcp_established_ms,
        Protocol::Tcp => config.tcp_transitory_ms,
        _ => udp_timeouts[usize::from(state & 7)],
    };
    if is_expired(session.last_used, now, timeout) {
        return None;
    }
    session::update(session, flow, direction, now);
    Some(session.ext_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4;

    /// What `established` relies on when it names a plain flow's protocol again: every IP
    /// protocol number in a datagram that would be plain as TCP or UDP, and only 6 (TCP) and 17
    /// (UDP) give a plain flow, of that protocol.
    #[test]
    fn a_plain_flow_is_tcp_or_udp() {
        for number in 0..=u8::MAX {
            let mut p = [0u8; 40];
            p[..20].copy_from_slice(&[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, number, 0, 0, 192, 168, 1, 2, 8, 8, 8, 8]);
            // Ports 12345 and 80; UDP length 20 (TCP's sequence number); TCP data offset 5, ACK.
            p[20..26].copy_from_slice(&[0x30, 0x39, 0x00, 0x50, 0x00, 20]);
            p[32..34].copy_from_slice(&[0x50, 0x10]);
            ipv4::Packet::new_checked(&mut p[..]).unwrap().fill_checksum();
            let protocol = flow::parse_plain_head(&p, p.len()).map(|plain| plain.flow.protocol);
            let expected = match number {
                6 => Some(Protocol::Tcp),
                17 => Some(Protocol::Udp),
                _ => None,
            };
            assert_eq!(protocol, expected, "IP protocol {number}");
        }
    }
}
