//! Session bookkeeping shared by both directions: creation within the table and quota limits,
//! expiry, per-packet state and timer updates, MSS clamping.

use super::*;

/// How often a full table may be scanned for expired sessions when new flows keep coming.
const FULL_SCAN_EVERY_MS: u32 = 1_000;

/// Proof, for [`Nat::create`], that a new session's mapping is below its cap. Built without
/// `filtering` and `portmap` the caller asks the cap ([`Nat::cap_checked`], the one place that
/// makes this token: its field is private here), so a caller that skipped it does not compile;
/// zero-sized, it costs no code. With either feature `create` asks the cap itself and takes `()`.
#[cfg(not(any(feature = "filtering", feature = "portmap")))]
pub(super) struct CapChecked(());

/// With `filtering` or `portmap`, [`Nat::create`] asks the mapping's cap itself.
#[cfg(any(feature = "filtering", feature = "portmap"))]
pub(super) type CapChecked = ();

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Updates a session for a packet going `direction` and returns it: TCP state, and the idle
    /// timer (TCP either way; UDP and ICMP outbound only, RFC 4787 REQ-6).
    #[inline(always)]
    pub(super) fn touch(&mut self, flow: &Flow, slot: Slot, direction: Direction, now: u32) -> Option<&Session> {
        self.touch_at(flow.tcp_flags, flow.protocol, u32::from(slot), direction, now)
    }

    /// [`Nat::touch`] with the slot as a word (out of line, a `Slot` argument was
    /// zero-extended again on entry), and of the flow its TCP flags and protocol alone, all
    /// that [`update`] reads of it: the flow by reference took minimal 14 B more (the
    /// protocol's number as a word, full 2 B more).
    #[inline(never)]
    fn touch_at(&mut self, tcp_flags: u8, protocol: Protocol, slot: u32, direction: Direction, now: u32) -> Option<&Session> {
        let session = self.tables.get_mut(protocol).get_mut_at(slot as usize)?;
        update_by(session, protocol == Protocol::Tcp, tcp_flags, direction, now);
        Some(session)
    }

    /// Clamps the MSS of a TCP SYN to what a link of `mtu` carries, when configured. The MTU
    /// (16 bits) as a word, widened by the callers: not zero-extended again on entry (full 2 B).
    /// The MTU before the flow: of the six orders, the least flash (full 4 B less than the flow
    /// before the MTU).
    #[cfg(feature = "mss-clamp")]
    pub(super) fn clamp_mss(&mut self, packet: &mut [u8], mtu: u32, flow: &Flow) {
        // Three pure tests, in the order that took the least code.
        if flow.protocol != Protocol::Tcp || flow.tcp_flags & tcp_flags::SYN == 0 || !self.config.mss_clamp {
            return;
        }
        if let Some(limit) = mss::max_mss(mtu as u16) {
            if mss::clamp(packet, limit) {
                self.stats.mss_clamped = self.stats.mss_clamped.wrapping_add(1);
            }
        }
    }

    /// Built without MSS clamping: SYNs keep the MSS their sender chose.
    #[cfg(not(feature = "mss-clamp"))]
    pub(super) fn clamp_mss(&mut self, _packet: &mut [u8], _mtu: u32, _flow: &Flow) {}

    /// The MTU inbound SYNs on `netif` are clamped to: the route's (`mtu`) when known, else
    /// one learned from outbound traffic. Only MSS clamping reads it, and a build without it
    /// learns none: there the route's is handed back without a search of the learned ones
    /// (which the compiler would keep, unread). As words (16-bit MTUs), as `clamp_mss` takes it.
    pub(super) fn local_mtu(&self, netif: u8, mtu: u32) -> u32 {
        if mtu != 0 || !cfg!(feature = "mss-clamp") {
            mtu
        } else {
            u32::from(self.link_mtus.get(netif))
        }
    }

    /// True when a live session already joins the inside endpoint of `session` to its remote
    /// endpoint (through another external port): a second one, opened from outside through
    /// another port forward, would move the inside host's flow to that port.
    pub(super) fn inside_flow_taken(&mut self, protocol: Protocol, session: &Session, now: u32) -> bool {
        let s = session;
        self.live_outbound(protocol, s.netif, (s.inside, s.in_port), (s.remote, s.remote_port), now).is_some()
    }

    /// The live session of exactly this inside and remote endpoint on `netif`, and its
    /// external port ([`Table::find_outbound`], then [`is_live`](Self::is_live), which removes
    /// an expired one).
    #[inline(always)]
    pub(super) fn live_outbound(
        &mut self,
        protocol: Protocol,
        netif: u8,
        inside: (u32, u16),
        remote: (u32, u16),
        now: u32,
    ) -> Option<(Slot, u16)> {
        // The two ports as one word, the inside port low: fewer arguments on the stack.
        let ports = crate::tables::table::both_ports(inside.1, remote.1);
        // Mapped, not taken apart after a `?`: full 2 B less.
        let both = self.live_outbound_word(protocol, u32::from(netif), inside.0, ports, remote.0, now);
        (both != 0).then_some(((both >> 16) as Slot, both as u16))
    }

    /// [`live_outbound`](Self::live_outbound) out of line, its answer as one word (the slot in
    /// the high half, the external port in the low), handed back in one register rather than
    /// through memory, 0 for none: a live session's external port is never 0 (`port::allocate`
    /// never hands out 0, its test `port_zero_is_never_handed_out`; `Portmaps::add` refuses an
    /// external port of 0; a session opened from outside takes the port of a forward or of a
    /// mapping), so the word of a session is never 0, and each caller tests it by one `cbz`.
    /// Six callers share one copy (`live_session_word` calls it itself, with the ports word it
    /// builds by a rotation). The netif as a word (its byte, zero-extended by the callers), not
    /// zero-extended again on entry (minimal and full 2 B). The inside address, then the ports
    /// word, then the remote address: of the orders measured, the least flash (full 2 B less
    /// than the two addresses together).
    #[inline(never)]
    pub(super) fn live_outbound_word(&mut self, protocol: Protocol, netif: u32, inside: u32, ports: u32, remote: u32, now: u32) -> u32 {
        let (in_port, remote_port) = (ports as u16, (ports >> 16) as u16);
        let Some(slot) = self.tables.get(protocol).find_outbound(netif as u8, inside, in_port, remote, remote_port) else {
            return 0;
        };
        let Some(ext_port) = self.live_port(protocol, u32::from(slot), now) else { return 0 };
        u32::from(slot) << 16 | u32::from(ext_port)
    }

    /// Gives a translated non-atomic datagram a random IP ID: once several inside hosts share
    /// one source address, the IDs they chose may collide at a server that reassembles their
    /// fragments (RFC 6864). Random, so the IDs tell outsiders nothing of the NAT's traffic.
    #[inline(always)]
    pub(super) fn renumber(&mut self, packet: &mut [u8]) {
        if rewrite::non_atomic(packet) {
            self.renumber_non_atomic(packet);
        }
    }

    /// [`renumber`](Self::renumber) out of line, with the test again: the fast path, whose TCP
    /// mostly sets DF, pays only its test in line and calls this for a non-atomic datagram; the
    /// general pipeline's three callers call it straight away and share one copy of the test.
    #[cold]
    #[inline(never)]
    pub(super) fn renumber_non_atomic(&mut self, packet: &mut [u8]) {
        // Every caller's datagram has an accepted IPv4 header: its fixed 20 bytes, cut once,
        // spare the ID's and the checksum's words a bounds check each.
        let Some(header) = packet.get_mut(..ipv4::HEADER_LEN) else { return };
        if rewrite::non_atomic(header) {
            rewrite::ident(header, self.random.next_u32() as u16);
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
    pub(super) fn create(
        &mut self,
        protocol: Protocol,
        session: Session,
        now: u32,
        _cap: CapChecked,
    ) -> Result<Slot, DropReason> {
        // Before any session gives way for it: a flow its mapping refuses gets no slot.
        // One choice of the table for the mapping cap, the quota and the full test. The pure
        // reads come before the mapping cap's call (which changes nothing): fewer values are
        // kept across it.
        let table = self.tables.get(protocol);
        let quota = self.quota_of(table, &session);
        let full = table.is_full();
        // Taken once, before the branches: every later use (the scan times, the eviction
        // window, the host counts, the counter) shares this one computation.
        let i = protocol.index();
        // (Built without `filtering` and `portmap`, the caller asked it: `_cap`.)
        #[cfg(any(feature = "filtering", feature = "portmap"))]
        if self.mapping_full_at(table.mapping_of(session.netif, session.inside, session.in_port)) {
            return Err(DropReason::MappingFull);
        }
        if full {
            // `Protocol::index` is below 3 by construction: no bounds check is linked.
            let whole = !self.full_scan[i].done || now.wrapping_sub(self.full_scan[i].at) >= FULL_SCAN_EVERY_MS;
            if whole {
                // Noted before the scan, which does not read it.
                (self.full_scan[i].done, self.full_scan[i].at) = (true, now);
                self.reclaim(protocol, now);
            }
            // Room made by the whole scan, else by an eviction: without the scan the table is
            // as full as it was found (nothing since removed a session), not asked again.
            let room = whole && !self.tables.get(protocol).is_full();
            if !room && !self.evict_for(protocol, &session, quota, whole, now) {
                return Err(DropReason::TableFull);
            }
        }
        let counted = self.account(protocol, &session, quota)?;
        // The table has room here: it was not full, or the whole scan or an eviction (which
        // removes a live session) made some, and `account` touches no table. A table that is
        // not full takes a session (table test `insert_fails_only_when_full`), so this refusal
        // is never reached and gives no count back.
        debug_assert!(!self.tables.get(protocol).is_full());
        let Some(slot) = self.tables.get_mut(protocol).insert_counted(&session, counted) else {
            return Err(DropReason::TableFull);
        };
        let created = &mut self.stats.created[i];
        *created = created.wrapping_add(1);
        #[cfg(feature = "fast-path")]
        self.session_created(session.netif);
        Ok(slot)
    }

    /// The proof [`create`](Self::create) takes, when the mapping of `inside` on `netif` in
    /// `protocol`'s table holds fewer than `mapping_sessions` sessions; `None` when it is full.
    #[cfg(not(any(feature = "filtering", feature = "portmap")))]
    #[inline(always)]
    pub(super) fn cap_checked(&self, protocol: Protocol, netif: u8, inside: (u32, u16)) -> Option<CapChecked> {
        let mapping = self.tables.get(protocol).mapping_of(netif, inside.0, inside.1);
        (!self.mapping_full_at(mapping)).then_some(CapChecked(()))
    }

    /// True when a mapping (its word from [`Table::mapping_of`]: the session count in the high
    /// half) holds `mapping_sessions` sessions already.
    #[inline(always)]
    pub(super) fn mapping_full_at(&self, mapping: u32) -> bool {
        let cap = u32::from(self.config.mapping_sessions);
        cap != 0 && mapping >> 16 >= cap
    }

    /// Who opens `session` (the inside host, or a remote sender) and how many sessions that
    /// opener may hold for its host in `table` (0 = no limit).
    pub(super) fn quota_of(&self, table: &Table, session: &Session) -> (Opener, u16) {
        let capacity = table.capacity();
        if session.opened_by_remote() {
            (Opener::Remote, self.config.remote_quota_in(capacity))
        } else {
            (Opener::Host, self.config.host_quota_in(capacity))
        }
    }

    /// Accounts a new session to its inside host: refused when its opener (the host, or remote
    /// senders) reached the host's quota in this table (`quota`, from [`quota_of`](Self::quota_of)).
    /// True when the host tracker had room for the host, which counts it; otherwise it is
    /// served uncounted (and counted in the stats).
    fn account(
        &mut self,
        protocol: Protocol,
        session: &Session,
        (opener, quota): (Opener, u16),
    ) -> Result<bool, DropReason> {
        match self.hosts.acquire(session.inside, protocol, opener, quota) {
            Ok(Acquired::Counted) => Ok(true),
            Ok(Acquired::Untracked) => {
                self.stats.hosts_untracked = self.stats.hosts_untracked.wrapping_add(1);
                Ok(false)
            }
            Err(Refused::Quota) => Err(DropReason::HostQuota),
            Err(Refused::RemoteQuota) => Err(DropReason::RemoteQuota),
        }
    }

    /// A new outbound flow that found no room: counted, and answered with ICMP 3/13 when the
    /// configuration asks for it.
    pub(super) fn refuse(&mut self, reason: DropReason) -> NoSession {
        if self.config.reject_when_full {
            self.stats.count_drop(reason);
            NoSession::Prohibited
        } else {
            NoSession::Drop(reason)
        }
    }

    pub(super) fn reclaim(&mut self, protocol: Protocol, now: u32) {
        self.remove_expired(protocol, 0, now);
    }

    /// Removes the expired sessions of one mapping (`netif`, `ext_port`), so that an inbound
    /// packet is judged against live sessions only: an expired one never admits it, nor
    /// makes a mapping look in use.
    pub(super) fn reclaim_port(&mut self, protocol: Protocol, netif: u8, ext_port: u16, now: u32) {
        self.remove_expired(protocol, crate::tables::table::mapping_key(netif, ext_port), now);
    }

    /// Removes expired sessions: all of them (`mapping` 0), or those of one mapping. In line:
    /// its callers call [`Nat::remove_from`] themselves, with less flash than a function of its
    /// own took (full 10 B, minimal 14 B).
    #[inline(always)]
    fn remove_expired(&mut self, protocol: Protocol, mapping: u32, now: u32) {
        self.remove_from(protocol, None, mapping, now);
    }

    /// True when the session in `slot` (a word, as `Inbound` holds it) is still alive; an
    /// expired one is removed on the spot, so a late `tick` never lets a dead mapping
    /// translate.
    #[inline(always)]
    pub(super) fn is_live(&mut self, protocol: Protocol, slot: u32, now: u32) -> bool {
        self.live_port(protocol, slot, now).is_some()
    }

    /// [`is_live`](Self::is_live) handing back the live session's external port: the lookups
    /// that need it read it here, not from the slot again.
    #[inline(always)]
    fn live_port(&mut self, protocol: Protocol, slot: u32, now: u32) -> Option<u16> {
        self.live_session(protocol, slot, now).map(|session| session.ext_port)
    }

    /// The session in `slot` when it is still alive (see [`is_live`](Self::is_live)): the
    /// callers that need more of it than its external port (an inbound ICMP error's rewrite)
    /// read it here, not by a second lookup of the slot.
    #[inline(never)]
    pub(super) fn live_session(&mut self, protocol: Protocol, slot: u32, now: u32) -> Option<&Session> {
        let session = self.tables.get(protocol).get_at(slot as usize)?;
        // The timeout asked first: the last use is then read after the call, not held across it
        // in a register saved for it (full and minimal 2 B less).
        let timeout = self.timeout(protocol, session.state);
        if is_expired(session.last_used, now, timeout) {
            self.discard(protocol, slot, true);
            return None;
        }
        // The same lookup again (nothing changed the table since): a reference held across
        // the removal above would not borrow-check.
        self.tables.get(protocol).get_at(slot as usize)
    }

    /// Removes the live session in `slot`, if any, gives it back to its host's count and, when
    /// it `expired`, counts it in `Stats::expired`. Out of line: expiry, eviction and
    /// refiltering share one copy. The slot as a word (`u32::from` of a `Slot`, or an index
    /// below the capacity), as its callers mostly hold it: no zero-extension on entry.
    #[inline(never)]
    pub(super) fn discard(&mut self, protocol: Protocol, slot: u32, expired: bool) {
        let Some(removed) = self.tables.get_mut(protocol).remove_at(slot) else { return };
        self.hosts.release(protocol, &removed);
        // The flag added as 0 or 1: no branch (a removal not by expiry writes the count back
        // as it was).
        let count = &mut self.stats.expired[protocol.index()];
        *count = count.wrapping_add(u32::from(expired));
    }

    /// The idle timeout of a session in `protocol`'s table with state bits `state` (its protocol
    /// bits, or its whole state byte: the same answer, see [`Nat::timeout_of`]): in line,
    /// [`Nat::timeout_of`] with the state as a word.
    #[inline(always)]
    pub(super) fn timeout(&self, protocol: Protocol, state: u8) -> u32 {
        self.timeout_of(protocol, u32::from(state))
    }

    /// [`Nat::timeout`] with the state as a word (every caller's is a byte it loaded, zero-extended
    /// already; out of line, a `u8` argument was zero-extended again on entry).
    /// UDP's from `udp_timeouts` (the `Nat`'s table of them), one load instead of a
    /// choice. Out of line, the one copy that expiry checks, the removal loop and dumps share.
    /// The state's bookkeeping bits need no mask: TCP's test is [`evict::established`], and
    /// UDP's index takes its low three bits. `live_session` and the removal loop hand the state
    /// byte as loaded, unmasked (minimal and full 4 B less; the removal loop full 18 B less,
    /// and in the minimal build with the clock as its last argument 2 B less).
    #[inline(never)]
    fn timeout_of(&self, protocol: Protocol, state: u32) -> u32 {
        match protocol {
            Protocol::Tcp if evict::established(state) => self.config.tcp_established_ms,
            Protocol::Tcp => self.config.tcp_transitory_ms,
            Protocol::Udp => self.udp_timeouts[(state & 7) as usize],
            Protocol::Icmp => self.config.icmp_ms,
        }
    }
}

/// A packet going `direction` through `session`: TCP state, and the idle timer (TCP either
/// way; UDP and ICMP outbound only, RFC 4787 REQ-6, except that the answer to a DNS or NTP
/// query starts its short timer). Shared by the general pipeline (`touch`) and the fast path.
#[inline(always)]
pub(super) fn update(session: &mut Session, flow: &Flow, direction: Direction, now: u32) {
    update_by(session, flow.protocol == Protocol::Tcp, flow.tcp_flags, direction, now);
}

/// [`update`] given of the flow whether it is TCP and its TCP flags.
#[inline(always)]
fn update_by(session: &mut Session, is_tcp: bool, flags: u8, direction: Direction, now: u32) {
    if is_tcp {
        // A segment without SYN, FIN or RST changes no state, unless it follows an RST.
        if flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) != 0 || session.state & tcp::RST != 0 {
            session.set_protocol_state(tcp::advance(direction, session.protocol_state(), flags));
        }
        session.last_used = now;
    } else if direction == Direction::Outbound {
        session.last_used = now;
        // The inside endpoint has sent to the remote.
        session.state &= !UDP_INBOUND_ONLY;
    } else if session.state & udp::QUERY != 0 {
        session.state |= udp::ANSWERED;
        session.last_used = now;
    }
}
