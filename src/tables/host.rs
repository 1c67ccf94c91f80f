//! Per-host session quota (RFC 6888 REQ-4): one inside host cannot take a whole table.
//!
//! A small fixed array of inside hosts with their session counts per protocol table, split by
//! who opened the session: the host itself, or a remote sender (through a port forward or a
//! filter that admits it). It is consulted only when a session is created or removed, never
//! per translated packet.
//!
//! The tracker never refuses a host for lack of room: when every slot is taken by hosts that
//! hold sessions, a new host is served uncounted ([`Acquired::Untracked`]), so spoofing
//! `H` source addresses cannot shut out host `H + 1`. Each session remembers whether it was
//! counted (`Session::host_counted`) and only a counted one is given back: a host's counts
//! always equal the counted sessions it holds, whatever happened while it was untracked.

use super::{Protocol, Session};

/// Why a host may not open another session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The host opened its quota of sessions in this protocol's table.
    Quota,
    /// Remote senders opened as many sessions to the host as they may.
    RemoteQuota,
}

/// Who opens a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opener {
    /// The inside host (an outbound flow).
    Host = 0,
    /// A remote sender (an inbound flow a port forward or the filter lets in).
    Remote = 1,
}

/// How a session that may be created was accounted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// Counted in the host's slot: give it back with [`Hosts::release`].
    Counted,
    /// Every slot is taken: the host is served, its quota not enforced, nothing to give back.
    Untracked,
}

/// Sessions of one host: `counts[table][opener]`, the table as `Protocol::index`, the opener
/// as its discriminant: a table's two counts are one aligned word, so a free entry is three
/// word compares. A table holds at most 32768 sessions, so a `u16` count cannot
/// overflow; the arithmetic saturates anyway.
///
/// In C order, the counts first and the address in the last word (the counts stay aligned
/// words): the order rustc chose, address first, cost `create` and `release_in` 8 B.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct Host {
    counts: [[u16; 2]; 3],
    addr: u32,
}

impl Host {
    const FREE: Host = Host { addr: 0, counts: [[0; 2]; 3] };

    fn is_free(&self) -> bool {
        let [tcp, udp, icmp] = self.counts;
        // The three tests as values, joined without a branch (2 B less than `&&`).
        (tcp == [0; 2]) & (udp == [0; 2]) & (icmp == [0; 2])
    }

    /// Where `opener`'s count in the table of [`Protocol::index`] `table` sits in `counts`: the
    /// one place both the reading ([`Hosts::sessions`]) and the counting ([`Host::count`]) look
    /// it up.
    fn at(table: usize, opener: Opener) -> (usize, usize) {
        (table, opener as usize)
    }

    /// `opener`'s count in the table of [`Protocol::index`] `table` (acquiring and releasing).
    fn count(&mut self, table: usize, opener: Opener) -> Option<&mut u16> {
        let (table, opener) = Self::at(table, opener);
        self.counts.get_mut(table)?.get_mut(opener)
    }
}

/// [`Hosts::search`]'s mark of a free entry's index: the top bit, above any index of an entry
/// (`H` entries of 16 bytes fit in memory), so `& !FREE` gives the index back.
const FREE: usize = !(usize::MAX >> 1);

/// Session counts of up to `H` inside hosts. 16 bytes per host.
pub struct Hosts<const H: usize> {
    hosts: [Host; H],
}

impl<const H: usize> Hosts<H> {
    pub const fn new() -> Self {
        Hosts { hosts: [Host::FREE; H] }
    }

    /// Counted sessions `opener` opened for `addr` in `protocol`'s table.
    pub fn sessions(&self, addr: u32, protocol: Protocol, opener: Opener) -> usize {
        let Some(host) = self.hosts.get(self.search(addr)) else {
            return 0;
        };
        let (table, opener) = Host::at(protocol.index(), opener);
        host.counts.get(table).and_then(|t| t.get(opener)).map_or(0, |&c| usize::from(c))
    }

    /// The one search of the entries, out of line, for every question about a host: the
    /// index of the entry tracking `addr` (below `H`); else the index of the first free entry
    /// with [`FREE`] set; else `H` (every entry taken by other hosts). A host's own entry
    /// is then a bounds-checked `get` of the answer, and counting, releasing, quota checks and
    /// `may_hold_sessions` share one loop.
    #[inline(never)]
    fn search(&self, addr: u32) -> usize {
        let mut free = H;
        // From the last entry down, so the last free one seen is the first: no `min` per free
        // entry (2 bytes less). The index counted down and each entry looked up by it, not
        // `enumerate().rev()` (full and minimal 10 B less: one counter, no index shifted out
        // of a byte offset).
        let mut i = H;
        while let Some(host) = i.checked_sub(1).and_then(|last| self.hosts.get(last)) {
            i -= 1;
            if host.is_free() {
                free = FREE | i;
            } else if host.addr == addr {
                // At most one entry that is not free tracks a host: `acquire` takes another
                // only when the search finds none.
                return i;
            }
        }
        free
    }

    /// False only when `addr` surely holds no session: it has no slot while some slot is free
    /// (with every slot taken, it may hold sessions untracked).
    pub fn may_hold_sessions(&self, addr: u32) -> bool {
        // Its own entry's index or `H` (none free), not a free entry's `FREE | i`: the top bit
        // clear.
        self.search(addr) & FREE == 0
    }

    /// Counts one more session `opener` opens for `addr` in `protocol`'s table unless that
    /// would exceed `quota` (0 = no quota).
    pub fn acquire(&mut self, addr: u32, protocol: Protocol, opener: Opener, quota: u16) -> Result<Acquired, Refused> {
        // The host's entry, else the first free one ([`FREE`] set above its index): one mask
        // leaves the index of either. `H` (none) stays past every entry.
        let index = self.search(addr) & !FREE;
        let Some(host) = self.hosts.get_mut(index) else {
            return Ok(Acquired::Untracked);
        };
        host.addr = addr;
        let Some(count) = host.count(protocol.index(), opener) else {
            return Ok(Acquired::Untracked);
        };
        // As words: one test (`quota - 1 < count`, wrapping) with nothing to zero-extend.
        let (held, quota) = (u32::from(*count), u32::from(quota));
        if quota != 0 && held >= quota {
            return Err(match opener {
                Opener::Host => Refused::Quota,
                Opener::Remote => Refused::RemoteQuota,
            });
        }
        *count = count.saturating_add(1);
        Ok(Acquired::Counted)
    }

    /// Gives back a session removed from `protocol`'s table, if it was counted.
    #[inline(always)]
    pub fn release(&mut self, protocol: Protocol, session: &Session) {
        self.release_in(protocol.index(), session);
    }

    /// [`release`](Self::release) from the table of [`Protocol::index`] `table`. In line: its
    /// one caller, `Nat::discard`, has the index at hand (its stats are indexed by it too),
    /// and out of line the call took more than its body (minimal 18 B, full 26 B).
    #[inline(always)]
    fn release_in(&mut self, table: usize, session: &Session) {
        // Read before the counted test: LLVM then takes the bit from the state byte without
        // zero-extending it again after the search (2 B).
        let opener = if session.opened_by_remote() { Opener::Remote } else { Opener::Host };
        if !session.host_counted() {
            return;
        }
        let index = self.search(session.inside);
        let host = self.hosts.get_mut(index);
        if let Some(count) = host.and_then(|h| h.count(table, opener)) {
            *count = count.saturating_sub(1);
        }
    }
}

impl<const H: usize> Default for Hosts<H> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP: Protocol = Protocol::Udp;

    /// A counted session of `inside` opened by `opener`.
    fn counted(inside: u32, opener: Opener) -> Session {
        let mut session = Session { inside, ..Session::default() };
        session.set_host_counted();
        if opener == Opener::Remote {
            session.set_opened_by_remote();
        }
        session
    }

    #[test]
    fn quota_is_per_host_per_protocol_and_released() {
        let mut hosts = Hosts::<2>::new();
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 2), Ok(Acquired::Counted));
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 2), Ok(Acquired::Counted));
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 2), Err(Refused::Quota));
        assert_eq!(hosts.acquire(1, Protocol::Tcp, Opener::Host, 2), Ok(Acquired::Counted), "another table");
        assert_eq!(hosts.acquire(1, UDP, Opener::Remote, 1), Ok(Acquired::Counted), "remote senders apart");
        assert_eq!(hosts.acquire(1, UDP, Opener::Remote, 1), Err(Refused::RemoteQuota));
        assert_eq!(hosts.acquire(2, UDP, Opener::Host, 2), Ok(Acquired::Counted));
        assert_eq!(hosts.acquire(3, UDP, Opener::Host, 2), Ok(Acquired::Untracked), "no room: served");
        hosts.release(UDP, &counted(1, Opener::Host));
        assert_eq!(hosts.sessions(1, UDP, Opener::Host), 1);
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 2), Ok(Acquired::Counted));
        // A session a remote opened (none exists without `portmap` and `filtering`).
        #[cfg(any(feature = "filtering", feature = "portmap"))]
        {
            hosts.release(UDP, &counted(1, Opener::Remote));
            assert_eq!(hosts.acquire(1, UDP, Opener::Remote, 1), Ok(Acquired::Counted));
        }
        hosts.release(UDP, &Session { inside: 2, ..Session::default() });
        assert_eq!(hosts.sessions(2, UDP, Opener::Host), 1, "an uncounted session gives nothing back");
        hosts.release(UDP, &counted(2, Opener::Host));
        assert_eq!(
            hosts.acquire(3, UDP, Opener::Host, 0),
            Ok(Acquired::Counted),
            "a host with no sessions frees its slot"
        );
    }

    #[test]
    fn may_hold_sessions_only_when_tracked_or_every_entry_taken() {
        let mut hosts = Hosts::<2>::new();
        assert!(!hosts.may_hold_sessions(1), "entries free, none for it");
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 0), Ok(Acquired::Counted));
        assert!(hosts.may_hold_sessions(1));
        assert!(!hosts.may_hold_sessions(2));
        assert_eq!(hosts.acquire(2, UDP, Opener::Remote, 0), Ok(Acquired::Counted));
        assert!(hosts.may_hold_sessions(3), "every entry taken: it may hold untracked ones");
        hosts.release(UDP, &counted(1, Opener::Host));
        assert!(!hosts.may_hold_sessions(1), "its entry freed");
        assert!(!hosts.may_hold_sessions(3));
        assert_eq!(hosts.acquire(3, UDP, Opener::Host, 0), Ok(Acquired::Counted), "the freed entry reused");
        assert_eq!(hosts.sessions(3, UDP, Opener::Host), 1);
        assert_eq!(hosts.sessions(1, UDP, Opener::Host), 0);
    }

    /// `search` scans the entries from the last down: the answer is the same as a scan up
    /// only if no two entries in use track one host (`acquire` takes an entry for a host only
    /// when the search finds none) and a host new to the tracker takes the first free entry.
    #[test]
    fn one_entry_per_host_and_the_first_free_taken() {
        let mut hosts = Hosts::<4>::new();
        let mut state = 0x1234_5678u32;
        for _ in 0..20_000 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let (addr, opener) = (1 + (state >> 8) % 6, if state >> 20 & 1 == 0 { Opener::Host } else { Opener::Remote });
            let protocol = [Protocol::Tcp, UDP, Protocol::Icmp][(state >> 24) as usize % 3];
            let before = hosts.hosts;
            let tracked = before.iter().position(|h| !h.is_free() && h.addr == addr);
            if state >> 16 & 3 == 0 {
                hosts.release(protocol, &counted(addr, opener));
            } else if hosts.acquire(addr, protocol, opener, 0) == Ok(Acquired::Counted) && tracked.is_none() {
                let first_free = before.iter().position(Host::is_free);
                assert_eq!(hosts.hosts.iter().position(|h| h.addr == addr && !h.is_free()), first_free);
            }
            for (i, a) in hosts.hosts.iter().enumerate() {
                let twice = hosts.hosts.iter().skip(i + 1).any(|b| !a.is_free() && !b.is_free() && a.addr == b.addr);
                assert!(!twice, "two entries in use track host {}", a.addr);
            }
        }
    }

    /// `search`'s three answers: the host's own entry, the first free one marked with `FREE`
    /// (never an index below `H`, never taken by `may_hold_sessions` for one), and `H` when
    /// every entry is another host's (past every entry, so `acquire` serves it untracked).
    #[test]
    fn search_answers_own_free_or_none() {
        let mut hosts = Hosts::<3>::new();
        assert_eq!(hosts.search(7), FREE);
        assert_eq!(hosts.acquire(1, UDP, Opener::Host, 0), Ok(Acquired::Counted));
        assert_eq!(hosts.acquire(2, UDP, Opener::Host, 0), Ok(Acquired::Counted));
        assert_eq!(hosts.acquire(3, UDP, Opener::Host, 0), Ok(Acquired::Counted));
        assert_eq!((hosts.search(1), hosts.search(2), hosts.search(3)), (0, 1, 2));
        assert_eq!(hosts.search(7), 3, "every entry another host's");
        assert!(hosts.may_hold_sessions(7));
        assert_eq!(hosts.acquire(7, UDP, Opener::Host, 0), Ok(Acquired::Untracked));
        hosts.release(UDP, &counted(2, Opener::Host));
        assert_eq!(hosts.search(7), FREE | 1, "the freed entry");
        assert!(!hosts.may_hold_sessions(7));
        assert_eq!(hosts.search(2), FREE | 1, "its entry freed");
        assert_eq!(hosts.acquire(7, UDP, Opener::Host, 1), Ok(Acquired::Counted));
        assert_eq!(hosts.search(7), 1, "it took the freed entry");
        assert_eq!(hosts.acquire(7, UDP, Opener::Host, 1), Err(Refused::Quota));
    }

    #[test]
    fn counts_saturate_instead_of_overflowing() {
        let mut hosts = Hosts::<1>::new();
        for _ in 0..=u32::from(u16::MAX) {
            assert_eq!(hosts.acquire(1, UDP, Opener::Host, 0), Ok(Acquired::Counted));
        }
        assert_eq!(hosts.sessions(1, UDP, Opener::Host), usize::from(u16::MAX));
    }
}
