//! Session bookkeeping shared by both directions: creation within the table and quota limits,
//! expiry, per-packet state and timer updates, MSS clamping.

use super::*;

/// How often a full table may be scanned for expired sessions when new flows keep coming.
const FULL_SCAN_EVERY_MS: u32 = 1_000;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Updates a session for a packet going `direction` and returns it: TCP state, and the idle
    /// timer (TCP either way; UDP and ICMP outbound only, RFC 4787 REQ-6).
    pub(super) fn touch(&mut self, flow: &Flow, slot: Slot, direction: Direction, now: u32) -> Option<Session> {
        let session = self.tables.get_mut(flow.protocol).get_mut(slot)?;
        update(session, flow, direction, now);
        Some(*session)
    }

    /// Clamps the MSS of a TCP SYN to what a link of `mtu` carries, when configured.
    pub(super) fn clamp_mss(&mut self, packet: &mut [u8], flow: &Flow, mtu: u16) {
        if !self.config.mss_clamp || flow.protocol != Protocol::Tcp || flow.tcp_flags & tcp_flags::SYN == 0 {
            return;
        }
        if let Some(limit) = mss::max_mss(mtu) {
            if mss::clamp(packet, limit) {
                self.stats.mss_clamped = self.stats.mss_clamped.wrapping_add(1);
            }
        }
    }

    /// Stores a new session if the table and the host's quota allow. Expired sessions are
    /// reclaimed first, then a live one may give way as `Config::full_policy` says (see
    /// `evict`).
    ///
    /// A full table is scanned whole at most once a second when new flows keep coming: in
    /// between, a flow that finds it full again only searches a window of it for a session
    /// to evict, and is refused when there is none there (sessions expire at most a second
    /// late for it; `tick` reclaims them anyway).
    pub(super) fn create(&mut self, protocol: Protocol, session: Session, now: u32) -> Result<Slot, DropReason> {
        if self.tables.get(protocol).is_full() {
            let i = protocol.index();
            let done = self.full_scan.done.get(i).copied().unwrap_or(false);
            let at = self.full_scan.at.get(i).copied().unwrap_or(0);
            let whole = !done || now.wrapping_sub(at) >= FULL_SCAN_EVERY_MS;
            if whole {
                self.reclaim(protocol, now);
                if let (Some(done), Some(at)) = (self.full_scan.done.get_mut(i), self.full_scan.at.get_mut(i)) {
                    (*done, *at) = (true, now);
                }
            }
            if self.tables.get(protocol).is_full() && !self.evict_for(protocol, &session, whole, now) {
                return Err(DropReason::TableFull);
            }
        }
        self.hosts.acquire(session.inside, self.config.host_quota).map_err(|refused| match refused {
            Refused::Quota => DropReason::HostQuota,
            Refused::TooManyHosts => DropReason::TableFull,
        })?;
        match self.tables.get_mut(protocol).insert(session) {
            Ok(slot) => {
                let created = &mut self.stats.created[protocol.index()];
                *created = created.wrapping_add(1);
                Ok(slot)
            }
            Err(_) => {
                self.hosts.release(session.inside);
                Err(DropReason::TableFull)
            }
        }
    }

    /// A new outbound flow that found no room: counted, and answered with ICMP 3/13 when the
    /// configuration asks for it.
    pub(super) fn refuse(&mut self, reason: DropReason) -> Verdict {
        if self.config.reject_when_full {
            self.stats.count_drop(reason);
            Verdict::SendIcmp(IcmpRequest::AdminProhibited)
        } else {
            Verdict::Drop(reason)
        }
    }

    pub(super) fn reclaim(&mut self, protocol: Protocol, now: u32) {
        let config = self.config;
        let expired = &mut self.stats.expired[protocol.index()];
        let hosts = &mut self.hosts;
        self.tables.get_mut(protocol).remove_if(
            |s| is_expired(s.last_used, now, timeout_for(&config, protocol, s.protocol_state())),
            |s| {
                hosts.release(s.inside);
                *expired = expired.wrapping_add(1);
            },
        );
    }

    /// True when the session in `slot` is still alive; an expired one is removed on the spot,
    /// so a late `tick` never lets a dead mapping translate.
    pub(super) fn is_live(&mut self, protocol: Protocol, slot: Slot, now: u32) -> bool {
        let table = self.tables.get(protocol);
        let Some(session) = table.get(slot) else { return false };
        if !is_expired(session.last_used, now, self.timeout(protocol, session.protocol_state())) {
            return true;
        }
        if let Some(removed) = self.tables.get_mut(protocol).remove(slot) {
            self.hosts.release(removed.inside);
            let expired = &mut self.stats.expired[protocol.index()];
            *expired = expired.wrapping_add(1);
        }
        false
    }

    pub(super) fn timeout(&self, protocol: Protocol, state: u8) -> u32 {
        timeout_for(&self.config, protocol, state)
    }
}

/// A packet going `direction` through `session`: TCP state, and the idle timer (TCP either
/// way; UDP and ICMP outbound only, RFC 4787 REQ-6, except that the answer to a DNS or NTP
/// query starts its short timer). Shared by the general pipeline (`touch`) and the fast path.
#[inline(always)]
pub(super) fn update(session: &mut Session, flow: &Flow, direction: Direction, now: u32) {
    if flow.protocol == Protocol::Tcp {
        // A segment without SYN, FIN or RST changes no state.
        if flow.tcp_flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) != 0 {
            session.set_protocol_state(tcp::advance(session.protocol_state(), flow.tcp_flags, direction));
        }
        session.last_used = now;
    } else if direction == Direction::Outbound {
        session.last_used = now;
    } else if session.state & udp::QUERY != 0 {
        session.state |= udp::ANSWERED;
        session.last_used = now;
    }
}
