//! Packets the NAT has nothing to do with, answered before any parsing: forwarded between
//! netifs no rule names and no session uses, or addressed to the router on netifs no rule,
//! session or port forward concerns. The general pipeline would pass them too, after parsing
//! and looking them up; here a few bit tests on per-netif facts decide. The facts only ever
//! err toward "concerned" (sessions: set when one is created, recomputed from the tables when
//! sessions go), so a packet that may be the NAT's business always takes the full way.

use super::*;

/// A set of netif indices (lwIP's `u8` indices: all 256 of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Netifs([u32; 8]);

impl Netifs {
    pub(super) const fn new() -> Self {
        Netifs([0; 8])
    }

    pub(super) fn insert(&mut self, netif: u8) {
        if let Some(word) = self.0.get_mut(usize::from(netif >> 5)) {
            *word |= 1 << (netif & 31);
        }
    }

    #[inline(always)]
    pub(super) fn contains(&self, netif: u8) -> bool {
        self.0.get(usize::from(netif >> 5)).is_some_and(|word| word >> (netif & 31) & 1 != 0)
    }
}

/// What each netif is to the NAT.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Concerns {
    /// Named by a rule (as input or output): forwarding from or to it may be translated or
    /// go against a rule.
    named: Netifs,
    /// Outside by a rule: the router's own services there are guarded.
    outside: Netifs,
    /// The external netif of a port forward.
    portmapped: Netifs,
    /// May hold sessions: every netif a session was created on since the tables were last
    /// looked over.
    sessions: Netifs,
}

impl Concerns {
    pub(super) const fn new() -> Self {
        Concerns { named: Netifs::new(), outside: Netifs::new(), portmapped: Netifs::new(), sessions: Netifs::new() }
    }

    /// True when `ctx`'s route is none of the NAT's business (see the module doc).
    #[inline(always)]
    fn unconcerned(&self, ctx: &Context) -> bool {
        match ctx.route {
            Route::Forward { out_netif, .. } => {
                !self.named.contains(out_netif)
                    && !self.sessions.contains(out_netif)
                    && !self.named.contains(ctx.in_netif)
            }
            // Hairpinning needs a rule from the input to `netif`, so none on its own netif.
            Route::Local { netif, .. } => {
                !self.sessions.contains(netif)
                    && !self.portmapped.contains(netif)
                    && !self.outside.contains(ctx.in_netif)
                    && (ctx.in_netif == netif || !self.named.contains(netif) && !self.named.contains(ctx.in_netif))
            }
        }
    }
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// True (and counted as passed) for a packet none of the NAT's business: its route is
    /// unconcerned, it is no fragment (the pool may hold the rest of its datagram), and a
    /// forwarded one comes from no martian source. Its header is left for lwIP to check.
    #[inline(always)]
    pub(super) fn passes_quietly(&mut self, packet: &[u8], ctx: &Context) -> bool {
        if !self.concerns.unconcerned(ctx) {
            return false;
        }
        let Some(&[_, _, _, _, _, _, flags_hi, flags_lo, _, _, _, _, a, b, c, d]) = packet.get(..16) else {
            return false;
        };
        if u16::from_be_bytes([flags_hi, flags_lo]) & 0x3FFF != 0 {
            return false;
        }
        if matches!(ctx.route, Route::Forward { .. }) && is_martian(u32::from_be_bytes([a, b, c, d])) {
            return false;
        }
        self.stats.passed = self.stats.passed.wrapping_add(1);
        true
    }

    /// Recomputes what the rules and port forwards make of each netif, after either changed.
    pub(super) fn recount_rules(&mut self) {
        let mut concerns = Concerns { sessions: self.concerns.sessions, ..Concerns::new() };
        for rule in self.rules.iter() {
            match *rule {
                Rule::Source(netif) | Rule::Outbound(netif) => concerns.named.insert(netif),
                Rule::Pair(from, to) => {
                    concerns.named.insert(from);
                    concerns.named.insert(to);
                }
            }
        }
        for netif in 0..=u8::MAX {
            if self.rules.is_outside(netif) {
                concerns.outside.insert(netif);
            }
        }
        for map in self.portmaps.iter() {
            concerns.portmapped.insert(map.netif);
        }
        self.concerns = concerns;
    }

    /// Recomputes which netifs hold sessions, after sessions went.
    pub(super) fn recount_sessions(&mut self) {
        let mut sessions = Netifs::new();
        for (_, session) in self.sessions() {
            sessions.insert(session.netif);
        }
        self.concerns.sessions = sessions;
    }

    /// Notes a session created on `netif`.
    pub(super) fn session_created(&mut self, netif: u8) {
        self.concerns.sessions.insert(netif);
    }
}
