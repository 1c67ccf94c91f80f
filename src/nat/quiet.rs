//! Packets the NAT has nothing to do with, answered before any parsing: forwarded between
//! netifs no rule names and no session uses, or addressed to the router on netifs no rule,
//! session or port forward concerns. The general pipeline would pass them too, after parsing
//! and looking them up; here a few bit tests on per-netif facts decide. The facts only ever
//! err toward "concerned" (sessions: set when one is created, recomputed from the tables when
//! sessions go), so a packet that may be the NAT's business always takes the full way.

use super::*;

/// Named by a rule (as input or output): forwarding from or to the netif may be translated or
/// go against a rule.
pub(crate) const NAMED: u8 = 1;
/// Outside by a rule: the router's own services there are guarded.
pub(crate) const OUTSIDE: u8 = 2;
/// The external netif of a port forward.
pub(crate) const PORTMAPPED: u8 = 4;
/// May hold sessions: a session was created on it since the tables were last looked over.
pub(crate) const SESSIONS: u8 = 8;

/// What each netif is to the NAT: one byte of the bits above per lwIP netif index (all 256),
/// and the packets the lwIP shim passed on these facts alone. `repr(C)`: the C API hands the
/// shim a pointer to it (`lwip_snat_concerns`), so that a packet the NAT has nothing to do
/// with costs the hook a few loads instead of a call into the core.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Concerns {
    pub(crate) netif: [u8; 256],
    pub(crate) passed: u32,
}

impl Concerns {
    pub(super) const fn new() -> Self {
        Concerns { netif: [0; 256], passed: 0 }
    }

    #[inline(always)]
    fn of(&self, netif: u8) -> u8 {
        self.netif.get(usize::from(netif)).copied().unwrap_or(u8::MAX)
    }

    /// True when a rule translates packets leaving by `netif` (`Rules::is_outside`): the
    /// bit `recount_rules` sets after every change to the rules, read instead of a scan of them.
    pub(super) fn is_outside(&self, netif: u8) -> bool {
        self.of(netif) & OUTSIDE != 0
    }

    fn mark(&mut self, netif: u8, bits: u8) {
        if let Some(byte) = self.netif.get_mut(usize::from(netif)) {
            *byte |= bits;
        }
    }

    /// True when `ctx`'s route is none of the NAT's business (see the module doc): none of
    /// the route's bits below is set on the input netif, nor on the output (or local) netif.
    #[inline(always)]
    fn unconcerned(&self, ctx: &Context) -> bool {
        let (out, in_bits, out_bits) = match ctx.route {
            Route::Forward { out_netif, .. } => (out_netif, NAMED, NAMED | SESSIONS),
            // Hairpinning needs a rule from the input to `netif`, so none on its own netif.
            Route::Local { netif, .. } if netif == ctx.in_netif => (netif, SESSIONS | PORTMAPPED | OUTSIDE, 0),
            Route::Local { netif, .. } => (netif, NAMED | OUTSIDE, NAMED | SESSIONS | PORTMAPPED),
        };
        self.of(ctx.in_netif) & in_bits == 0 && self.of(out) & out_bits == 0
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
        let Some(&[_, _, _, _, _, _, flags_hi, flags_lo, _, _, _, _, first, _, _, _]) = packet.get(..16) else {
            return false;
        };
        if u16::from_be_bytes([flags_hi, flags_lo]) & 0x3FFF != 0 {
            return false;
        }
        if matches!(ctx.route, Route::Forward { .. }) && is_martian_net(first) {
            return false;
        }
        self.stats.passed = self.stats.passed.wrapping_add(1);
        true
    }

    /// Recomputes what the rules and port forwards make of each netif, after either changed.
    pub(super) fn recount_rules(&mut self) {
        for byte in self.concerns.netif.iter_mut() {
            *byte &= SESSIONS;
        }
        // Each rule marks its netifs as named and its outside (`Rules::is_outside`) in one
        // pass, not a scan of the rules for each of the 256 netifs.
        for rule in self.rules.iter() {
            // The outside netif of an outbound or pair rule, marked in one place for both.
            let outside = match rule {
                // Every other netif is the outside of a source rule.
                // (Every netif marked, then the inside's byte put back with NAMED only: a
                // plain fill of the 256 bytes takes less flash than a test per netif.)
                Rule::Source(inside) => {
                    let kept = self.concerns.of(inside);
                    for byte in self.concerns.netif.iter_mut() {
                        *byte |= OUTSIDE;
                    }
                    if let Some(byte) = self.concerns.netif.get_mut(usize::from(inside)) {
                        *byte = kept | NAMED;
                    }
                    continue;
                }
                Rule::Outbound(netif) => netif,
                Rule::Pair(from, to) => {
                    self.concerns.mark(from, NAMED);
                    to
                }
            };
            self.concerns.mark(outside, NAMED | OUTSIDE);
        }
        // `for_each` rather than a `for` loop: 2 bytes less.
        self.portmaps.netifs().for_each(|netif| self.concerns.mark(netif, PORTMAPPED));
    }

    /// Recomputes which netifs hold sessions, after sessions went.
    pub(super) fn recount_sessions(&mut self) {
        for byte in self.concerns.netif.iter_mut() {
            *byte &= !SESSIONS;
        }
        // Slot by slot in place: walking `sessions()` borrows the whole NAT, and a copy of the
        // 260-byte facts to mark costs two block copies.
        // The three tables by number (`Tables::get_number_mut`): 1 ICMP, 6 TCP, 11 UDP (any
        // number but 1 and 6 is UDP's), counted in steps of 5 with no list of protocols to read
        // and no `Protocol` to pick a table by. The order does not matter: marks only add bits.
        // Ended by 16, the number after 11, compared for equality: the loop then tests the
        // number it has just counted (a compare fewer than `< 16`, which LLVM tested as the
        // old number below 11 beside the new one).
        let mut number = 1;
        while number != 16 {
            let table = self.tables.get_number_mut(number);
            // By index as wide as the machine's (`Table::get_at`): no slot truncated to a
            // `Slot` and widened back per step.
            for slot in 0..table.capacity() {
                if let Some(session) = table.get_at(slot) {
                    self.concerns.mark(session.netif, SESSIONS);
                }
            }
            number += 5;
        }
    }

    /// Notes a session created on `netif`.
    pub(super) fn session_created(&mut self, netif: u8) {
        self.concerns.mark(netif, SESSIONS);
    }

    /// The packets the lwIP shim passed on the per-netif facts alone, without the core.
    pub(crate) fn passed_by_shim(&self) -> u32 {
        self.concerns.passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bits `recount_rules` sets per rule are the rules' own answers for every netif.
    #[test]
    fn named_and_outside_bits_are_the_rules_answers() {
        let sets: [&[Rule]; 5] = [
            &[],
            &[Rule::Source(1)],
            &[Rule::Outbound(2)],
            &[Rule::Pair(1, 2), Rule::Source(3)],
            &[Rule::Source(0), Rule::Source(255), Rule::Pair(4, 4), Rule::Outbound(7)],
        ];
        for rules in sets {
            let mut nat = Nat::<16, 16, 16>::new();
            for &rule in rules {
                nat.add_rule(rule).unwrap();
            }
            for netif in 0..=u8::MAX {
                let named = rules.iter().any(|&rule| match rule {
                    Rule::Source(n) | Rule::Outbound(n) => n == netif,
                    Rule::Pair(from, to) => from == netif || to == netif,
                });
                assert_eq!(nat.concerns.of(netif) & NAMED != 0, named, "{rules:?} {netif}");
                assert_eq!(nat.concerns.is_outside(netif), nat.rules.is_outside(netif), "{rules:?} {netif}");
            }
            // Removing the rules clears both bits again.
            for &rule in rules {
                nat.remove_rule(rule).unwrap();
            }
            assert!(nat.concerns.netif.iter().all(|&byte| byte & (NAMED | OUTSIDE) == 0), "{rules:?}");
        }
    }

    /// `recount_sessions` marks exactly the netifs that hold a session, in each of the three
    /// tables: a TCP session on netif 1, a UDP one on 2, an ICMP one on 3.
    #[test]
    fn recount_marks_the_netifs_of_every_table() {
        let mut nat = Nat::<16, 16, 16>::new();
        for (protocol, netif) in [(Protocol::Tcp, 1), (Protocol::Udp, 2), (Protocol::Icmp, 3)] {
            let session = Session {
                inside: 0x0A00_0002,
                in_port: 1000 + u16::from(netif),
                ext_port: 2000 + u16::from(netif),
                remote: 0x0808_0808,
                remote_port: 53,
                netif,
                ..Session::default()
            };
            // The cap is asked where the build asks it (see `CapChecked`).
            #[cfg(not(any(feature = "filtering", feature = "portmap")))]
            let cap = nat.cap_checked(protocol, netif, (session.inside, session.in_port)).unwrap();
            #[cfg(any(feature = "filtering", feature = "portmap"))]
            let cap = ();
            nat.create(protocol, session, 0, cap).unwrap();
        }
        for byte in nat.concerns.netif.iter_mut() {
            *byte |= SESSIONS;
        }
        nat.recount_sessions();
        for netif in 0..=u8::MAX {
            assert_eq!(nat.concerns.of(netif) & SESSIONS != 0, (1..=3).contains(&netif), "{netif}");
        }
    }
}
