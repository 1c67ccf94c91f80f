//! A fixed-capacity session table with O(1) lookup from either side.
//!
//! Every slot is one session: an inside endpoint, the remote it talks to, and the external
//! port the inside endpoint is mapped to on one outbound netif. All sessions of one inside
//! endpoint share the external port (endpoint-independent mapping, RFC 4787 REQ-1), so the two
//! hash chains are keyed on the endpoints alone, not on the remote:
//!
//! * the *inside* chain on `(netif, inside addr, inside port)` finds a session for an outbound
//!   packet and, when the remote is new, the mapping to reuse;
//! * the *outside* chain on `(netif, external port)` finds the sessions an inbound packet may
//!   belong to, which the filtering mode then picks from.
//!
//! A chain holds the sessions of one mapping plus hash collisions; buckets number the slots
//! (load factor ≤ 1) and the hash is keyed with a secret, so a chain is short whatever
//! addresses and ports the traffic uses.
//!
//! Links are `slot + 1` with 0 for "none", so a fresh table is all zero bytes and lives in
//! `.bss`. Memory: 28 bytes per slot, the 24-byte [`Session`] plus the heads of one inside and
//! one outside bucket (there are as many buckets as slots).
//!
//! `Table<[Entry; N]>` is what a user declares; every operation is written once for the unsized
//! `Table` (`Table<[Entry]>`), so three tables of different sizes share one copy of the code.

use super::Filtering;

/// A slot number; `u16` keeps links small, so a table holds at most 32768 sessions.
pub type Slot = u16;

/// One session (and, through its siblings, one mapping).
///
/// In C order, so the ports lie side by side: the outbound lookup compares the inside and
/// remote port as one aligned word, the inbound lookup the remote and external port as one
/// word (a halfword off alignment: one load where the core allows it, two where not). The
/// netif and state bytes after the external port, the links last (full 6 B less than the links
/// first; the same 24 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Session {
    /// Inside host address.
    pub inside: u32,
    /// Remote host address.
    pub remote: u32,
    /// When the session last saw traffic that refreshes it (caller's clock, ms).
    pub last_used: u32,
    /// Inside port, or the query identifier for ICMP.
    pub in_port: u16,
    /// Remote port; 0 for ICMP.
    pub remote_port: u16,
    /// External port (identifier) on the outbound netif's address.
    pub ext_port: u16,
    /// lwIP index of the outbound netif whose address is the external address.
    pub netif: u8,
    /// Protocol state bits (see `tables::tcp`) and the table's bookkeeping bits; 0 marks a
    /// free slot.
    pub state: u8,
    pub(crate) next_in: u16,
    pub(crate) next_out: u16,
}

impl Session {
    /// True when the slot holds a session. A session in a slot has `USED` set (`insert_counted`,
    /// and every later change keeps the bookkeeping bits), a free slot is `EMPTY_SESSION`'s
    /// zero bytes, so the whole byte tells: `ldrb` and a test for zero, not `ldrsb` and a
    /// compare with -1 for `USED`'s sign bit (thumbv7em full 32 B less, minimal 22 B, over
    /// the lookups by slot). [`iter`](Table::iter) keeps the bit's test (see there).
    #[inline(always)]
    fn in_use(&self) -> bool {
        self.state != 0
    }

    /// The external port, netif and state as the one word they make (the port in the low
    /// half, the netif above it, the state byte on top): its low 24 bits are the outside
    /// chain's [`netif_port`], and the hash ignores the top byte, so `unlink` hashes the word
    /// as it is (thumbv7em full and minimal 6 B less than the two fields joined; `insert` and
    /// the lookups took more with the word).
    #[inline(always)]
    fn outside_word(&self) -> u32 {
        u32::from(self.ext_port) | u32::from(self.netif) << 16 | u32::from(self.state) << 24
    }

    /// Protocol state bits (see `tables::tcp`, `tables::udp`), without the bookkeeping bits.
    #[inline(always)]
    pub fn protocol_state(&self) -> u8 {
        self.state & PROTOCOL
    }

    /// Stores new protocol state bits; the session keeps its bookkeeping bits, the in-use bit
    /// among them (its callers update sessions found in use, so it stays set).
    pub(crate) fn set_protocol_state(&mut self, state: u8) {
        self.state = (self.state & !PROTOCOL) | (state & PROTOCOL);
    }

    /// True when a remote sender opened the session (a port forward, a permissive filter).
    /// Never in a build with neither (`portmap`, `filtering`): what a remote's session costs
    /// (its own quota, eviction rules) is then not compiled.
    pub fn opened_by_remote(&self) -> bool {
        cfg!(any(feature = "filtering", feature = "portmap")) && self.state & OPENED_BY_REMOTE != 0
    }

    pub(crate) fn set_opened_by_remote(&mut self) {
        self.state |= OPENED_BY_REMOTE;
    }

    /// True when the session is counted in its inside host's quota (the host tracker had
    /// room for the host): only such a session is given back to the tracker when it goes.
    pub(crate) fn host_counted(&self) -> bool {
        self.state & HOST_COUNTED != 0
    }

    /// As [`Table::insert_counted`] marks a session its host counts (the tests build such
    /// sessions by hand).
    #[cfg(test)]
    pub(crate) fn set_host_counted(&mut self) {
        self.state |= HOST_COUNTED;
    }
}

/// What an inbound packet found on the outside chain. The discriminant and the slots are
/// whole words (`repr(u32)`, `u32::from` of the `Slot`): returned in registers, the callers
/// test the one and index by the other without zero-extending a half-word first (thumbv7em).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Inbound {
    /// The session with exactly this remote endpoint (its slot).
    Session(u32),
    /// No session for this remote, but the filtering mode lets it reach this mapping (never
    /// without the `filtering` feature, whose only mode admits no other remote).
    #[cfg(feature = "filtering")]
    Admitted(u32),
    /// A mapping exists and the filtering mode refuses this remote.
    Filtered,
    /// No mapping uses this external port.
    Unmapped,
}

/// Where a scan of [`Table::next_picked`] stands: the mapping whose chain it walks (its
/// [`mapping_key`]; 0: every slot ever used), the chain's next link, the steps taken (the
/// next slot of a scan of every slot) and their bound, the slots ever used when the scan
/// began (removals between steps never change it: a register or the stack, not the table's
/// field read again after each removal). Words, not `u16`s: no zero-extensions in the loop.
pub struct Scan {
    mapping: u32,
    link: u16,
    steps: u32,
    end: u32,
}

/// A slot with the heads of the buckets of the same number.
#[derive(Clone, Copy, Debug, Default)]
pub struct Entry {
    session: Session,
    inside_head: u16,
    outside_head: u16,
}

/// Session table; `Table<[Entry; N]>` has room for `N` sessions (a power of two ≤ 32768).
pub struct Table<S: ?Sized = [Entry]> {
    free_head: u16,
    /// Slots `high..N` were never used; taken before the free list is needed.
    high: u16,
    len: u16,
    high_water: u16,
    /// The table's secret: the hash's key.
    key: u32,
    entries: S,
}

/// A table of `N` sessions.
pub type FixedTable<const N: usize> = Table<[Entry; N]>;

const USED: u8 = 0x80;
/// Bookkeeping bits beside USED, kept across protocol state changes.
const OPENED_BY_REMOTE: u8 = 0x40;
const HOST_COUNTED: u8 = 0x20;
/// The protocol's own state bits (`tables::tcp`, `tables::udp`).
const PROTOCOL: u8 = 0x1F;

pub(crate) const EMPTY_SESSION: Session = Session {
    inside: 0,
    remote: 0,
    in_port: 0,
    ext_port: 0,
    remote_port: 0,
    next_in: 0,
    next_out: 0,
    last_used: 0,
    netif: 0,
    state: 0,
};

impl<const N: usize> Table<[Entry; N]> {
    const VALID: () = assert!(N.is_power_of_two() && N <= 32768, "table capacity must be a power of two <= 32768");

    /// An empty table, all zero bytes (`static` tables go to `.bss`).
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        const EMPTY: Entry = Entry { session: EMPTY_SESSION, inside_head: 0, outside_head: 0 };
        Table { free_head: 0, high: 0, len: 0, high_water: 0, key: 0, entries: [EMPTY; N] }
    }
}

impl<const N: usize> core::ops::Deref for Table<[Entry; N]> {
    type Target = Table;
    fn deref(&self) -> &Table {
        self
    }
}

impl<const N: usize> core::ops::DerefMut for Table<[Entry; N]> {
    fn deref_mut(&mut self) -> &mut Table {
        self
    }
}

impl<const N: usize> Default for Table<[Entry; N]> {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    /// Drops every session and keys the hash with `secret`. The NAT's reset starts from
    /// all-zero memory and calls `set_key` instead; the tests and, through `internals`, the
    /// benches and fuzzers call it.
    #[cfg(any(test, feature = "internals"))]
    pub fn clear(&mut self, secret: u32) {
        self.entries.fill(Entry::default());
        self.free_head = 0;
        self.high = 0;
        self.len = 0;
        self.high_water = 0;
        self.key = secret;
    }

    /// Sets the table's secret (the hash's key) of an empty table: what `clear` leaves,
    /// for a table already all zero.
    pub fn set_key(&mut self, secret: u32) {
        debug_assert!(self.len == 0 && self.high == 0);
        self.key = secret;
    }

    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        usize::from(self.len) >= self.entries.len()
    }

    /// Most sessions ever live at once since the last `clear`.
    pub fn high_water(&self) -> usize {
        usize::from(self.high_water)
    }

    /// The session in `slot` (tests and the `internals` benches: the NAT itself asks
    /// [`get_at`](Self::get_at) with the slot as a machine word).
    #[cfg(any(test, feature = "internals"))]
    pub fn get(&self, slot: Slot) -> Option<&Session> {
        self.get_at(usize::from(slot))
    }

    /// [`get`](Self::get) by an index as wide as the machine's (a slot at or past the
    /// capacity has no session).
    #[inline(always)]
    pub fn get_at(&self, slot: usize) -> Option<&Session> {
        self.entries.get(slot).map(|e| &e.session).filter(|s| s.in_use())
    }

    /// The session in `slot`, to change (tests and the `internals` benches: the NAT itself
    /// asks [`get_mut_at`](Self::get_mut_at) with the slot as a machine word).
    #[cfg(any(test, feature = "internals"))]
    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut Session> {
        self.get_mut_at(usize::from(slot))
    }

    /// [`get_mut`](Self::get_mut) by an index as wide as the machine's (a slot at or past the
    /// capacity has no session).
    #[inline(always)]
    pub fn get_mut_at(&mut self, slot: usize) -> Option<&mut Session> {
        self.entries.get_mut(slot).map(|e| &mut e.session).filter(|s| s.in_use())
    }

    /// The session of an outbound packet: exactly this inside endpoint and remote endpoint.
    pub fn find_outbound(&self, netif: u8, inside: u32, in_port: u16, remote: u32, remote_port: u16) -> Option<Slot> {
        self.outbound_slot(netif, inside, in_port, remote, remote_port)
    }

    /// [`find_outbound`](Self::find_outbound), always inlined: the fast path's copy.
    #[inline(always)]
    fn outbound_slot(&self, netif: u8, inside: u32, in_port: u16, remote: u32, remote_port: u16) -> Option<Slot> {
        let bucket = self.inside_bucket(netif, inside, in_port);
        self.outbound_index(bucket, netif, inside, in_port, remote, remote_port).map(|index| index as Slot)
    }

    /// The per-packet lookup: the chain walk of `mapping_word` with its filter and this match
    /// fused, one pass over each session. The ports go first (one word): the inside port tells
    /// a colliding session from this one at once (the remote is often shared), and the
    /// remote goes next for the mapping's own sessions.
    #[inline(always)]
    fn outbound_index(
        &self,
        bucket: usize,
        netif: u8,
        inside: u32,
        in_port: u16,
        remote: u32,
        remote_port: u16,
    ) -> Option<usize> {
        let ports = both_ports(in_port, remote_port);
        self.chain_index(bucket, Chain::Inside, |s| {
            both_ports(s.in_port, s.remote_port) == ports && s.remote == remote && s.inside == inside && s.netif == netif
        })
    }

    /// The first session on `chain` from `bucket` that `matches`, as an index into `entries`,
    /// written as a plain loop. A link of 0 wraps to an index past the table, so one test
    /// ends the chain and bounds the slot.
    #[inline(always)]
    fn chain_index(&self, bucket: usize, chain: Chain, matches: impl Fn(&Session) -> bool) -> Option<usize> {
        let mut link = self.head(bucket, chain);
        loop {
            let index = usize::from(link).wrapping_sub(1);
            let s = &self.entries.get(index)?.session;
            if matches(s) {
                return Some(index);
            }
            link = chain.next(s);
        }
    }

    /// [`find_outbound`](Self::find_outbound), handing out the session to update in place.
    #[inline(always)]
    pub fn outbound_mut(
        &mut self,
        netif: u8,
        inside: u32,
        in_port: u16,
        remote: u32,
        remote_port: u16,
    ) -> Option<&mut Session> {
        // The hash in line: the fast path pays no call for it.
        let bucket = self.key_bucket(Chain::Inside, inside, netif_port(netif, in_port));
        let index = self.outbound_index(bucket, netif, inside, in_port, remote, remote_port)?;
        self.entries.get_mut(index).map(|e| &mut e.session)
    }

    /// The session of exactly this remote endpoint on `netif:ext_port`, to update in place: an
    /// inbound packet's own session, which every filtering mode lets in. The ports go first
    /// (one word), as outbound: the external port tells a colliding session apart.
    #[inline(always)]
    pub fn inbound_mut(&mut self, netif: u8, ext_port: u16, remote: u32, remote_port: u16) -> Option<&mut Session> {
        let ports = both_ports(remote_port, ext_port);
        // The hash in line: the fast path pays no call for it.
        let bucket = self.key_bucket(Chain::Outside, 0, netif_port(netif, ext_port));
        let index = self.chain_index(bucket, Chain::Outside, |s| {
            both_ports(s.remote_port, s.ext_port) == ports && s.remote == remote && s.netif == netif
        })?;
        self.entries.get_mut(index).map(|e| &mut e.session)
    }

    /// Looks up an inbound packet to `netif:ext_port` from `remote:remote_port`. Built
    /// without `filtering`, `filtering` is address and port dependent whatever it says. The
    /// filter before the remote's port and address: the argument order that takes least code
    /// (full 4 B less). The netif (an lwIP index, below 256) as a word: the callers' bytes,
    /// loaded, are zero-extended already, where a `u8` argument was zero-extended again here
    /// (full 2 B less, minimal 4 B).
    #[inline(never)]
    pub fn find_inbound(&self, netif: u32, ext_port: u16, filtering: Filtering, remote_port: u16, remote: u32) -> Inbound {
        // Unmapped until a session of the mapping turns up; then Filtered, or Admitted by the
        // first one the filter passes (which stays).
        let mut found = Inbound::Unmapped;
        // The netif and port as one word, for the hash and for each session's two fields.
        let key = netif_port(netif, ext_port);
        // The links as words, as `Inbound` hands the slot back: no zero-extension per step.
        let mut link = u32::from(self.outside_bucket_of(key) as u16);
        // A plain loop over the outside chain (see `find_outbound`). A link of 0 wraps past
        // the table: one test ends the chain and bounds the slot (4 B less than a
        // `checked_sub` and then the bounds test).
        while let Some(entry) = self.entries.get(link.wrapping_sub(1) as usize) {
            let slot = link.wrapping_sub(1);
            let s = &entry.session;
            link = u32::from(s.next_out);
            if netif_port(s.netif, s.ext_port) != key {
                continue;
            }
            if s.remote == remote && s.remote_port == remote_port {
                return Inbound::Session(slot);
            }
            #[cfg(feature = "filtering")]
            {
                // The filter as one comparison (see `Filtering::passes`). An `if` around the
                // choice, not a `continue` past it: the loop keeps one tail (full 10 B less).
                if !matches!(found, Inbound::Admitted(_)) {
                    found = if filtering.passes(s.remote != remote) { Inbound::Admitted(slot) } else { Inbound::Filtered };
                }
            }
            // The one mode: any other remote is filtered.
            #[cfg(not(feature = "filtering"))]
            {
                found = Inbound::Filtered;
            }
        }
        #[cfg(not(feature = "filtering"))]
        let _ = filtering;
        found
    }

    /// True when a session on `netif:ext_port` (of the mapping that holds that port) is one
    /// `f` accepts. A plain loop over the outside chain, as `chain_index`: a link of 0 wraps
    /// past the table and ends the walk (less code than `any` over an iterator's `filter`).
    pub fn any_on_port(&self, netif: u8, ext_port: u16, f: impl Fn(&Session) -> bool) -> bool {
        let mut link = self.outside_head(netif, ext_port);
        while let Some(entry) = self.entries.get(usize::from(link).wrapping_sub(1)) {
            let s = &entry.session;
            if s.netif == netif && s.ext_port == ext_port && f(s) {
                return true;
            }
            link = s.next_out;
        }
        false
    }

    /// The sessions on `netif:ext_port` (those of the mapping that holds that port).
    #[cfg(test)]
    pub fn sessions_on_port(&self, netif: u8, ext_port: u16) -> impl Iterator<Item = (Slot, &Session)> {
        self.outside_chain(netif, ext_port)
    }

    /// The mapping of `inside:in_port` on `netif` as one word, both answers of one walk: its
    /// session count in the high half, the external port of its first session in the low (see
    /// [`mapping_word`](Self::mapping_word)).
    pub fn mapping_of(&self, netif: u8, inside: u32, in_port: u16) -> u32 {
        self.mapping_word(inside, netif_port(netif, in_port))
    }

    /// The mapping of `inside` and `netif_port` (the netif above the inside port) as one
    /// word: its session count in the high half, the first session's external port in the
    /// low (0 when it has none). Out of line, one walk for both questions a new session asks
    /// (is the endpoint mapped, is its mapping full), which were two walks in line.
    #[inline(never)]
    fn mapping_word(&self, inside: u32, netif_port: u32) -> u32 {
        let mut word = 0u32;
        // A plain loop, as `chain_index`: a link of 0 wraps past the table and ends the walk.
        // The bucket masked here (the call hands back the hash unmasked): the head's bounds
        // test falls away, a mask for a compare and a branch, and the walk's exit is shared
        // (6 B less).
        let mut link = self.head(self.inside_bucket_of(inside, netif_port) & self.mask(), Chain::Inside);
        while let Some(entry) = self.entries.get(usize::from(link).wrapping_sub(1)) {
            let s = &entry.session;
            // The netif and port as the one word the caller passed.
            if self::netif_port(s.netif, s.in_port) == netif_port && s.inside == inside {
                if word == 0 {
                    word = u32::from(s.ext_port);
                }
                // At most the table's capacity (16-bit slots): the count stays in the high half.
                word = word.wrapping_add(1 << 16);
            }
            link = s.next_in;
        }
        word
    }

    /// True when any session uses `ext_port` on `netif`: the inbound lookup finds a mapping
    /// there whatever remote it is asked about (one walk of the outside chain, written once).
    /// Any filter gives the same answer (it only tells `Filtered` from `Admitted`); the one
    /// numbered 0 makes all three constant arguments zeros, one register stored at each call.
    #[inline(always)]
    pub fn ext_port_in_use(&self, netif: u8, ext_port: u16) -> bool {
        self.find_inbound(u32::from(netif), ext_port, Filtering::EndpointIndependent, 0, 0) != Inbound::Unmapped
    }

    /// Stores a session; a full table hands it back, it never evicts. (Tests and the
    /// `internals` benches: the NAT inserts through [`insert_counted`](Self::insert_counted).)
    #[cfg(any(test, feature = "internals"))]
    pub fn insert(&mut self, session: Session) -> Result<Slot, Session> {
        self.insert_counted(&session, false).ok_or(session)
    }

    /// [`insert`](Self::insert) of the session `session` points to, marked as counted by its
    /// host when `counted`. Read through the reference where it goes into its slot (one copy
    /// of the whole session, then its links and bits set there): `Nat::create`, which lends
    /// it its argument, keeps none of the session's fields in registers across the host
    /// search and the hash calls before.
    #[inline(always)]
    pub(crate) fn insert_counted(&mut self, session: &Session, counted: bool) -> Option<Slot> {
        // The slot as a word (below the capacity, at most 32,768: `VALID`), its link
        // (`slot + 1`) truncated to the links' u16 where it is stored: the slot's index needs
        // no zero-extension. One bounds test for both kinds of slot: the free list's head is
        // none or the link of a slot in the table (`remove_at` links only slots it found
        // there), so it refuses exactly a table whose slots were all used and none is free.
        let free = self.free_head != 0;
        let slot = if free { u32::from(self.free_head) - 1 } else { u32::from(self.high) };
        if slot as usize >= self.entries.len() {
            return None;
        }
        let link = (slot + 1) as u16;
        let inside = self.inside_bucket(session.netif, session.inside, session.in_port);
        let outside = self.outside_bucket_of(netif_port(session.netif, session.ext_port));
        // The new slot heads both chains; each old head becomes its next link (the outside
        // one known already: the low half of the hash's answer). Both buckets masked again
        // (the hashes mask them already): no bounds test at either head (full 14 B less,
        // minimal 18 B; the inside one alone cost the full build 24 B).
        let next_in = self.replace_head(inside & self.mask(), Chain::Inside, link);
        if let Some(e) = self.entries.get_mut((outside >> 16) as usize & self.mask()) {
            e.outside_head = link;
        }
        // One access to the slot: a free slot's next link, the free list's (0 past the table:
        // the list's end), comes out and the session goes in. The heads written above are the
        // entries' own fields, never a session's, so the link is the one found at first.
        let next_free = self.entries.get_mut(slot as usize).map_or(0, |e| {
            let next_free = e.session.next_in;
            e.session = *session;
            // The counted bit as the flag times the bit (0 or the bit): no choice to branch on.
            e.session.state |= USED | (HOST_COUNTED * u8::from(counted));
            e.session.next_in = next_in;
            e.session.next_out = outside as u16;
            next_free
        });
        if free {
            self.free_head = next_free;
        } else {
            self.high = link;
        }
        // As a word: the count at most the capacity (`VALID`: below 2^16), so the same
        // values, compared with nothing to zero-extend.
        let len = u32::from(self.len) + 1;
        self.len = len as u16;
        // The high-water mark as the larger of the two (written back as it was when not passed).
        self.high_water = len.max(u32::from(self.high_water)) as u16;
        Some(slot as Slot)
    }

    /// Removes a live session and returns it.
    pub fn remove(&mut self, slot: Slot) -> Option<Session> {
        self.remove_at(u32::from(slot))
    }

    /// [`remove`](Self::remove) by the slot as a word (`Nat::discard`'s callers hold it so).
    #[inline(always)]
    pub fn remove_at(&mut self, index: u32) -> Option<Session> {
        // The slot as a word for the entry's bounds tests, truncated back for the links (the
        // same `Slot`, the index being below the capacity there).
        let session = *self.get_at(index as usize)?;
        let slot = index as Slot;
        self.unlink(slot, Chain::Inside);
        self.unlink(slot, Chain::Outside);
        let free_head = self.free_head;
        if let Some(e) = self.entries.get_mut(index as usize) {
            e.session = EMPTY_SESSION;
            e.session.next_in = free_head;
        }
        self.free_head = slot + 1;
        self.len -= 1;
        Some(session)
    }

    /// Removes every session for which `doomed` is true, passing each to `removed` (a scan of
    /// every slot ever used by [`next_picked`](Self::next_picked), as the NAT's removals do).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn remove_if(&mut self, mut doomed: impl FnMut(&Session) -> bool, mut removed: impl FnMut(&Session)) {
        let mut scan = self.scan(0);
        while let Some(slot) = self.next_picked(&mut scan, &mut doomed) {
            if let Some(session) = self.remove(slot) {
                removed(&session);
            }
        }
    }

    /// A scan of the slots ever used (`mapping` 0), or a walk of the outside chain of a
    /// mapping's [`mapping_key`] for its sessions, for [`next_picked`](Self::next_picked).
    pub fn scan(&self, mapping: u32) -> Scan {
        // The key is the hash's netif and port word (bit 24 aside, which the hash ignores);
        // the chain's head is the low half of the hash's answer. Hashed for a scan of every
        // slot (0) too, whose steps never read the link: no branch around the call (full 12 B
        // less, minimal 4 B).
        let link = self.outside_bucket_of(mapping) as u16;
        Scan { mapping, link, steps: 0, end: u32::from(self.high) }
    }

    /// The slot of the next live session of `scan` that `picked` picks; the scan moves past
    /// it, so the caller may remove it before asking for the next (the chain's next link is
    /// read before). One loop for both kinds of scan, so a caller that does either holds one.
    pub fn next_picked(&self, scan: &mut Scan, mut picked: impl FnMut(&Session) -> bool) -> Option<Slot> {
        // Bounded: a chain holds only slots ever used.
        while scan.steps < scan.end {
            let slot = if scan.mapping == 0 { scan.steps } else { u32::from(scan.link.checked_sub(1)?) };
            scan.steps += 1;
            // A free slot (a chain holds none: its walk ends at a link of 0 above).
            let Some(session) = self.get_at(slot as usize) else { continue };
            scan.link = session.next_out;
            // Both tests as values, joined without a branch (minimal 2 B less than `||`).
            let on_port = (scan.mapping == 0) | (mapping_key(session.netif, session.ext_port) == scan.mapping);
            if on_port && picked(session) {
                return Some(slot as Slot);
            }
        }
        None
    }

    /// Of the `count` slots from `start` on (wrapping over the slots ever used), the session
    /// `rank` ranks highest (ranks start at 1), the one idle longest at `now` among equals,
    /// with its rank and the session itself (its caller reads it without a second lookup),
    /// the slot as a word (what `Nat::discard` takes);
    /// `None` ranks out. Bounded work for a choice that scans the table a window at a time.
    ///
    /// `start` is below the slots ever used: its one caller searches a full table, which has
    /// used every slot, from a start below the capacity (a start past them finds nothing).
    pub fn least_recent(
        &self,
        start: usize,
        count: usize,
        now: u32,
        mut rank: impl FnMut(&Session) -> Option<u8>,
    ) -> Option<(u32, u8, &Session)> {
        let used = usize::from(self.high);
        debug_assert!(start < used || used == 0);
        // Rank 0 and no idle time: what every ranked session beats, as ranks start at 1.
        let mut best: (u32, (u8, u32), Option<&Session>) = (0, (0, 0), None);
        // `(start + i) % used` for each step `i`, kept by a wrap at `used` instead of a division
        // per step (`start` is its own remainder; no step at all when no slot was ever used).
        let mut index = start;
        for _ in 0..count.min(used) {
            // Below `used`, at most 32768: its own `Slot`, looked up by the word itself.
            let slot = index;
            // No overflow, for the same reason.
            index += 1;
            if index == used {
                index = 0;
            }
            // Nested `if let`s, not `let ... else { continue }`: the loop keeps one tail
            // (minimal 34 B less, full 2 B).
            if let Some(session) = self.get_at(slot) {
                if let Some(rank) = rank(session) {
                    debug_assert!(rank != 0, "ranks start at 1");
                    let key = (rank, now.wrapping_sub(session.last_used));
                    if key > best.1 {
                        best = (slot as u32, key, Some(session));
                    }
                }
            }
        }
        // Set by a ranked session only (ranks start at 1, so its key beats the start's).
        let (slot, (rank, _), session) = best;
        Some((slot, rank, session?))
    }

    /// Live sessions in slot order (for dumps): [`iter`](Self::iter) without the slots.
    pub fn live(&self) -> impl Iterator<Item = &Session> {
        self.iter().map(|(_, session)| session)
    }

    /// Live sessions with their slots, in slot order. Only slots below `high` were ever taken.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, &Session)> {
        self.entries
            .iter()
            .take(usize::from(self.high))
            .enumerate()
            // The bit, not `in_use`: the caller's loop (`lwip_snat_foreach`) keeps the loaded
            // byte for the protocol state, and its registers fall out 20 B shorter so (full).
            .filter(|(_, e)| e.session.state & USED != 0)
            .map(|(i, e)| (i as Slot, &e.session))
    }

    #[cfg(test)]
    fn outside_chain(&self, netif: u8, ext_port: u16) -> impl Iterator<Item = (Slot, &Session)> {
        self.walk(self.outside_head(netif, ext_port), Chain::Outside)
            .filter(move |(_, s)| s.netif == netif && s.ext_port == ext_port)
    }

    #[cfg(test)]
    fn walk(&self, head: u16, chain: Chain) -> impl Iterator<Item = (Slot, &Session)> {
        let mut link = head;
        core::iter::from_fn(move || {
            // A link of 0 wraps past the table: one test ends the chain and bounds the slot.
            let index = usize::from(link).wrapping_sub(1);
            let session = &self.entries.get(index)?.session;
            link = chain.next(session);
            Some((index as Slot, session))
        })
    }

    /// Takes the session in `slot` out of its `chain`.
    fn unlink(&mut self, slot: Slot, chain: Chain) {
        // A slot past the table is on no chain.
        let Some(entry) = self.entries.get(usize::from(slot)) else { return };
        let session = &entry.session;
        let bucket = match chain {
            Chain::Inside => self.inside_bucket(session.netif, session.inside, session.in_port),
            // The session's own word: the hash ignores its state byte.
            Chain::Outside => (self.outside_bucket_of(session.outside_word()) >> 16) as usize,
        };
        let next_of_slot = chain.next(session);
        // The link that points at `slot`, from the bucket's head on: the head and the links of
        // the chain are one case.
        let mut left = self.entries.len();
        // The bucket masked again (both hashes mask it already): no bounds test (6 B less).
        let Some(entry) = self.entries.get_mut(bucket & self.mask()) else { return };
        let mut at = match chain {
            Chain::Inside => &mut entry.inside_head,
            Chain::Outside => &mut entry.outside_head,
        };
        // Compared as words: `slot` is below the capacity (the lookup above), at most 32,768,
        // so `slot + 1` is the same link, from the slot already widened for that lookup.
        let wanted = u32::from(slot) + 1;
        loop {
            let link = *at;
            if u32::from(link) == wanted {
                *at = next_of_slot;
                return;
            }
            // A link of 0 wraps past the table: the end of the chain.
            let Some(entry) = self.entries.get_mut(usize::from(link).wrapping_sub(1)) else { return };
            at = chain.next_mut(&mut entry.session);
            // Bounded: a chain cannot hold more sessions than the table, so the link to the
            // last of them is at most the capacity's read (the head's the first).
            left -= 1;
            if left == 0 {
                return;
            }
        }
    }

    #[inline(always)]
    fn head(&self, bucket: usize, chain: Chain) -> u16 {
        self.entries.get(bucket).map_or(0, |e| match chain {
            Chain::Inside => e.inside_head,
            Chain::Outside => e.outside_head,
        })
    }

    /// Makes `link` the head of `chain` in `bucket` and hands back the head it replaces (one
    /// bounds check for the read and the write).
    fn replace_head(&mut self, bucket: usize, chain: Chain, link: u16) -> u16 {
        self.entries.get_mut(bucket).map_or(0, |e| {
            let head = match chain {
                Chain::Inside => &mut e.inside_head,
                Chain::Outside => &mut e.outside_head,
            };
            core::mem::replace(head, link)
        })
    }

    /// The inside chain's bucket of `inside:in_port` on `netif`, by a call: every lookup but
    /// the fast path's shares one copy of the hash (its netif and port passed as one word, so
    /// the call takes its arguments in registers).
    #[inline(always)]
    fn inside_bucket(&self, netif: u8, inside: u32, in_port: u16) -> usize {
        self.inside_bucket_of(inside, netif_port(netif, in_port)) & self.mask()
    }

    /// The inside hash before its mask: every caller masks the answer itself (`mapping_word`,
    /// and `inside_bucket` for the rest, whose callers mask it again for their heads' bounds
    /// tests), so the call does not.
    #[inline(never)]
    fn inside_bucket_of(&self, inside: u32, netif_port: u32) -> usize {
        self.key_hash(Chain::Inside, inside, netif_port)
    }

    /// The outside chain's bucket of `netif:ext_port`, by a call (see `inside_bucket`): the
    /// tests' (`unlink` hashes a session's [`outside_word`](Session::outside_word)).
    #[cfg(test)]
    fn outside_bucket(&self, netif: u8, ext_port: u16) -> usize {
        (self.outside_bucket_of(netif_port(netif, ext_port)) >> 16) as usize
    }

    /// The head of that bucket's outside chain (0: none), from the same call.
    #[inline(always)]
    fn outside_head(&self, netif: u8, ext_port: u16) -> u16 {
        self.outside_bucket_of(netif_port(netif, ext_port)) as u16
    }

    /// The outside bucket (below 32768) in the high half of a word and its chain's head in
    /// the low: the lookups that walk the chain (inbound, a mapping's removal, refiltering)
    /// read its head from the hash's call, with one bounds check there instead of one at
    /// each of them; insertion and removal take the bucket. (The inside chain's lookups are
    /// per packet in the general pipeline, where the packing cost instructions: its hash
    /// hands back the bucket alone.)
    #[inline(never)]
    fn outside_bucket_of(&self, netif_port: u32) -> u32 {
        let bucket = self.key_bucket(Chain::Outside, 0, netif_port);
        (bucket as u32) << 16 | u32::from(self.head(bucket, Chain::Outside))
    }

    /// Both chains' hash, written once (the outside key is an inside key without an address).
    ///
    /// On the outside chain the external ports of one block of the table's size (its aligned
    /// run of `capacity` ports) go to buckets of their own, from a keyed offset for the block.
    /// Hosts hand out ports in sequence and the NAT keeps them where it can, so the ports in
    /// use cluster; scattered at random they would share buckets (about a third of the buckets empty
    /// at full fill). Which ports of two blocks share a bucket hangs on the secret, so an
    /// inside host still cannot aim its ports at one chain.
    #[inline(always)]
    fn key_bucket(&self, chain: Chain, addr: u32, netif_port: u32) -> usize {
        self.key_hash(chain, addr, netif_port) & self.mask()
    }

    /// [`key_bucket`](Self::key_bucket) before its mask.
    #[inline(always)]
    fn key_hash(&self, chain: Chain, addr: u32, netif_port: u32) -> usize {
        let mask = self.mask();
        // Inside: the address spread after it meets the secret, so how two hosts' keys differ
        // hangs on the secret too. Outside: no address; the block's number in the high bits,
        // its low bits all ones, and the port added to the block's offset. The whole word
        // added, not its port alone: the mask (below 2^15, `VALID`) keeps only bits the port's
        // low half decides, so the bucket is the same with no port cut out of it (full 4 B less).
        let (spread, low_bits, added) = match chain {
            Chain::Inside => ((self.key ^ addr).wrapping_mul(MIX), 0, 0),
            Chain::Outside => (self.key, mask as u32, netif_port as usize),
        };
        // The netif and port as `netif_port` lays them out (bits above 24, as a
        // `mapping_key`'s, are not hashed).
        let key = spread ^ (netif_port & 0xFF_FFFF | low_bits);
        (finish(key) as usize).wrapping_add(added)
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }
}

#[derive(Clone, Copy)]
enum Chain {
    Inside,
    Outside,
}

impl Chain {
    #[inline(always)]
    fn next(self, s: &Session) -> u16 {
        match self {
            Chain::Inside => s.next_in,
            Chain::Outside => s.next_out,
        }
    }

    fn next_mut(self, s: &mut Session) -> &mut u16 {
        match self {
            Chain::Inside => &mut s.next_in,
            Chain::Outside => &mut s.next_out,
        }
    }
}

/// True when a mapping word (from [`Table::mapping_of`]: the session count in the high half,
/// the first session's external port in the low) has a session. The one test of "is this
/// endpoint mapped?" for every caller. With no session the whole word is 0, so `word != 0`
/// answers the same, but takes more flash on the whole (full 4 B less in `add_portmap`, 8 B
/// more in `external_port`, and minimal 130 B more: `port::allocate` goes out of line).
#[inline(always)]
pub fn is_mapped(word: u32) -> bool {
    word >= 1 << 16
}

/// Two ports as one word, the first in the low half: compared in one go (one load where they
/// are two neighbouring ports of a [`Session`], which lie in one word of memory).
#[inline(always)]
pub(crate) fn both_ports(in_port: u16, remote_port: u16) -> u32 {
    u32::from(in_port) | u32::from(remote_port) << 16
}

/// The mapping `netif:ext_port` as one word for [`Table::scan`]: bit 24 set above the netif
/// and port of [`netif_port`] (0 asks for every slot), so it rides in a register.
pub fn mapping_key(netif: u8, ext_port: u16) -> u32 {
    1 << 24 | netif_port(netif, ext_port)
}

/// A netif and a port as one word (the netif in bits 16..24), as the hash mixes them. The netif
/// as a byte or as a word its caller holds already (an lwIP index, below 256).
#[inline(always)]
fn netif_port(netif: impl Into<u32>, port: u16) -> u32 {
    u32::from(port) | netif.into() << 16
}

/// The multiplier an inside address is spread with, once it has met the key, before the port,
/// and the last round's (one constant: the inside hash loads it once).
const MIX: u32 = 0x9E37_79B1;

/// The last round of the keyed hash (xorshift, multiply, xorshift): every bit of the key mixed
/// into the low bits a bucket takes. Cheap, and without the secret an inside host cannot aim
/// its ports at one bucket (a chain is bounded by the per-host quota anyway).
#[inline(always)]
fn finish(key: u32) -> u32 {
    let h = (key ^ key >> 15).wrapping_mul(MIX);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(inside: u32, in_port: u16, ext_port: u16, remote: u32, remote_port: u16) -> Session {
        Session { inside, in_port, ext_port, remote, remote_port, netif: 2, state: 1, ..Session::default() }
    }

    #[test]
    fn session_is_24_bytes_and_slot_28() {
        assert_eq!(core::mem::size_of::<Session>(), 24);
        assert_eq!(core::mem::size_of::<Entry>(), 28);
    }

    #[test]
    fn finds_from_both_sides() {
        let mut t = FixedTable::<8>::new();
        t.clear(0x1234_5678);
        let a = t.insert(session(1, 100, 5000, 9, 80)).unwrap();
        let b = t.insert(session(1, 100, 5000, 10, 80)).unwrap();
        assert_eq!(t.find_outbound(2, 1, 100, 9, 80), Some(a));
        assert_eq!(t.find_outbound(2, 1, 100, 10, 80), Some(b));
        assert_eq!(t.find_outbound(3, 1, 100, 9, 80), None);
        assert!(is_mapped(t.mapping_of(2, 1, 100)));
        assert_eq!(t.mapping_of(2, 1, 100) as u16, 5000);
        assert!(!is_mapped(t.mapping_of(2, 1, 101)));
        assert_eq!(t.find_inbound(2, 5000, Filtering::AddressAndPortDependent, 80, 9), Inbound::Session(u32::from(a)));
        assert_eq!(t.find_inbound(2, 5000, Filtering::AddressAndPortDependent, 81, 9), Inbound::Filtered);
        #[cfg(feature = "filtering")]
        {
            assert!(matches!(t.find_inbound(2, 5000, Filtering::AddressDependent, 81, 9), Inbound::Admitted(_)));
            assert_eq!(t.find_inbound(2, 5000, Filtering::AddressDependent, 81, 11), Inbound::Filtered);
            assert!(matches!(t.find_inbound(2, 5000, Filtering::EndpointIndependent, 81, 11), Inbound::Admitted(_)));
        }
        // Built without `filtering`, every mode is address and port dependent.
        #[cfg(not(feature = "filtering"))]
        for filtering in [Filtering::AddressDependent, Filtering::EndpointIndependent] {
            assert_eq!(t.find_inbound(2, 5000, filtering, 81, 9), Inbound::Filtered);
            assert_eq!(t.find_inbound(2, 5000, filtering, 80, 9), Inbound::Session(u32::from(a)));
        }
        assert_eq!(t.find_inbound(2, 5001, Filtering::EndpointIndependent, 80, 9), Inbound::Unmapped);
    }

    #[test]
    fn one_hosts_consecutive_ports_spread_over_the_buckets() {
        // What a port scan or a busy host produces: 4096 ports of one address in a table of
        // 4096 buckets. A random spread puts at most about 8 in the fullest bucket.
        let mut t = FixedTable::<4096>::new();
        t.clear(0x5EED_1234);
        let mut per_bucket = [0u16; 4096];
        for port in 1024..1024 + 4096u16 {
            let bucket = t.inside_bucket(2, 0xC0A8_010A, port);
            per_bucket[bucket] += 1;
        }
        let fullest = per_bucket.iter().max().copied().unwrap_or(0);
        let empty = per_bucket.iter().filter(|&&n| n == 0).count();
        assert!(fullest <= 9, "fullest bucket holds {fullest}");
        // Poisson(1) leaves about 1/e of the buckets empty.
        assert!((1300..1700).contains(&empty), "{empty} empty buckets");
        for ext_port in 0..4096u16 {
            per_bucket[t.outside_bucket(2, ext_port)] += 1;
        }
        assert!(per_bucket.iter().max().copied().unwrap_or(0) <= 16);
    }

    #[test]
    fn consecutive_external_ports_share_no_outside_bucket() {
        // The NAT keeps the inside port where it can, and hosts hand out their ports in
        // sequence: a table's worth of consecutive external ports lies in at most two blocks
        // the size of the table, whose ports go to buckets of their own, so a bucket holds
        // at most two of them whatever the secret.
        let mut t = FixedTable::<256>::new();
        let mut secret = 0x2545_F491u32;
        for first in [1024u16, 20000, 49000, 65280] {
            secret = secret.wrapping_mul(0x9E37_79B9).wrapping_add(1);
            t.clear(secret);
            let mut per_bucket = [0u8; 256];
            for port in first..=first.saturating_add(255) {
                per_bucket[t.outside_bucket(1, port)] += 1;
            }
            let fullest = per_bucket.iter().max().copied().unwrap_or(0);
            assert!(fullest <= 2, "ports from {first}: fullest bucket holds {fullest}");
            let aligned = first & !255;
            per_bucket = [0; 256];
            for port in aligned..=aligned.saturating_add(255) {
                per_bucket[t.outside_bucket(1, port)] += 1;
            }
            assert!(per_bucket.iter().all(|&n| n == 1), "ports from {aligned} share a bucket");
        }
    }

    #[test]
    fn one_host_cannot_aim_a_port_at_another_hosts_inside_bucket() {
        // An address enters the inside hash through the secret: a host that knows another's
        // address and port finds no port of its own that shares that host's bucket whatever
        // the secret. The pair tried is the one an unkeyed address spread would give away:
        // addresses whose spread products differ only in the port's bits, and the port that
        // cancels the difference.
        let victim = 0x0A00_0002u32;
        let victim_port = 40000u16;
        let spread = |a: u32| a.wrapping_mul(MIX);
        let Some(attacker) =
            (0x0A00_0003u32..0x0B00_0000).find(|&a| (spread(a) ^ spread(victim)) & 0xFFFF_0000 == 0)
        else {
            panic!("no address pair in 10/8");
        };
        let attacker_port = victim_port ^ ((spread(attacker) ^ spread(victim)) as u16);
        let mut t = FixedTable::<256>::new();
        let mut secret = 0x2545_F491u32;
        let mut shared = 0;
        for _ in 0..64 {
            secret = secret.wrapping_mul(0x9E37_79B9).wrapping_add(1);
            t.clear(secret);
            if t.inside_bucket(1, attacker, attacker_port) == t.inside_bucket(1, victim, victim_port) {
                shared += 1;
            }
        }
        // (a keyed hash shares a bucket under about one secret in 256)
        assert!(shared <= 4, "the pair shares a bucket under {shared} of 64 secrets");
    }

    /// `least_recent` visits `(start + i) % used` for `i` below `count.min(used)`, as the
    /// division per step it replaced did: the same victim for every start, window and table
    /// fill, free slots among the used ones, ties on rank and idle time included.
    #[test]
    fn least_recent_visits_the_slots_of_a_division_per_step() {
        let reference = |t: &Table, start: usize, count: usize, now: u32, rank: &dyn Fn(&Session) -> Option<u8>| {
            let used = usize::from(t.high);
            let mut best: (Slot, (u8, u32)) = (0, (0, 0));
            for i in 0..count.min(used) {
                let index = (start + i) % used;
                let Some(session) = t.get(index as Slot) else { continue };
                let Some(rank) = rank(session) else { continue };
                let key = (rank, now.wrapping_sub(session.last_used));
                if key > best.1 {
                    best = (index as Slot, key);
                }
            }
            let (slot, (rank, _)) = best;
            (rank != 0).then_some((slot, rank, *t.get(slot)?))
        };
        let rank = |s: &Session| match s.in_port % 4 {
            0 => None,
            r => Some(r as u8),
        };
        let mut t = FixedTable::<16>::new();
        t.clear(0x0BAD_CAFE);
        for fill in 0..16u16 {
            if fill > 0 {
                let mut s = session(fill.into(), fill * 7 % 13, 4000 + fill, 9, 80);
                s.last_used = u32::from(fill % 5) * 1000;
                t.insert(s).unwrap();
            }
            // Free slots among the used ones, refilled for the next fill.
            let freed = [3u16, 5].map(|slot| t.remove(slot));
            for start in 0..40usize {
                for count in [0, 1, 2, 5, 15, 16, 32] {
                    let now = 7_000;
                    // The start as its remainder, below the slots ever used (see `least_recent`).
                    let from = start.checked_rem(usize::from(t.high)).unwrap_or(start);
                    let found = t.least_recent(from, count, now, rank).map(|(slot, rank, s)| (slot as Slot, rank, *s));
                    assert_eq!(found, reference(&t, start, count, now, &rank), "{fill} {start} {count}");
                }
            }
            for s in freed.into_iter().flatten() {
                t.insert(s).unwrap();
            }
        }
    }

    /// `insert_counted` marks a session counted by its host exactly when told so, in use
    /// either way, and keeps the state bits it was handed (the counted bit as the flag times
    /// the bit).
    #[test]
    fn insert_counted_marks_exactly_the_counted() {
        let mut t = FixedTable::<4>::new();
        for (i, counted) in [true, false, true, false].into_iter().enumerate() {
            let mut s = session(i as u32 + 1, 1000, 1000, 9, 80);
            s.set_protocol_state(3);
            let slot = t.insert_counted(&s, counted).unwrap();
            let stored = t.get(slot).unwrap();
            assert_eq!(stored.host_counted(), counted, "{i}");
            assert_eq!(stored.protocol_state(), 3, "{i}");
            assert_eq!(stored.state & USED, USED, "{i}");
        }
    }

    /// `Nat::create` relies on a table that is not full taking a session (it gives no host
    /// count back for a refusal it never meets), and eviction on a full table having used
    /// every slot (`least_recent`'s window starts below the slots ever used): both checked
    /// over random insertions and removals.
    #[test]
    fn insert_fails_only_when_full() {
        let mut t = FixedTable::<8>::new();
        t.clear(0x0BAD_F00D);
        let mut state = 0x1234_5678u32;
        for _ in 0..20_000 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let slot = (state >> 24) as Slot % 8;
            if state >> 16 & 3 == 0 {
                t.remove(slot);
                continue;
            }
            // The free list's head is none (0) or the link of a slot in the table, as
            // `insert_counted`'s one bounds test for both kinds of slot relies on.
            assert!(usize::from(t.free_head) <= t.capacity(), "free list head {}", t.free_head);
            let full = t.is_full();
            if full {
                assert_eq!(usize::from(t.high), t.capacity(), "a full table used every slot");
            }
            let s = session((state >> 8) % 5, (state >> 12) as u16 % 7, (state >> 4) as u16 % 9, 9, 80);
            assert_eq!(t.insert(s).is_err(), full, "insert refused exactly when full");
        }
    }

    /// `insert` sets both links of the session it stores: the links a new session brings
    /// (`Nat::admit_inbound` builds one with none, where it once copied an admitting
    /// sibling's) are never read.
    #[test]
    fn insert_sets_the_links_whatever_the_session_brings() {
        let mut plain = FixedTable::<8>::new();
        let mut linked = FixedTable::<8>::new();
        plain.clear(0x5EED_0001);
        linked.clear(0x5EED_0001);
        for (i, remote) in [9u32, 10, 11, 12].into_iter().enumerate() {
            let s = session(1, 100, 5000, remote, 80);
            let junk = Session { next_in: 7 - i as u16, next_out: 0xFFFF, ..s };
            assert_eq!(plain.insert(s), linked.insert(junk));
        }
        for slot in 0..8 {
            assert_eq!(plain.get(slot), linked.get(slot), "slot {slot}");
        }
        assert_eq!(linked.sessions_on_port(2, 5000).count(), 4);
        assert_eq!(linked.mapping_of(2, 1, 100) >> 16, 4);
    }

    #[test]
    fn full_table_hands_the_session_back() {
        let mut t = FixedTable::<4>::new();
        for port in 0..4 {
            t.insert(session(1, port, port, 9, 80)).unwrap();
        }
        assert!(t.is_full());
        let extra = session(1, 7, 7, 9, 80);
        assert_eq!(t.insert(extra).unwrap_err().in_port, 7);
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn removal_unlinks_and_recycles() {
        let mut t = FixedTable::<4>::new();
        let slots: [Slot; 4] = core::array::from_fn(|i| t.insert(session(1, 100, 5000, i as u32, 80)).unwrap());
        assert_eq!(t.remove(slots[1]).unwrap().remote, 1);
        assert_eq!(t.remove(slots[1]), None);
        assert_eq!(t.find_outbound(2, 1, 100, 1, 80), None);
        for (i, &slot) in slots.iter().enumerate().filter(|&(i, _)| i != 1) {
            assert_eq!(t.find_outbound(2, 1, 100, i as u32, 80), Some(slot));
            assert_eq!(
                t.find_inbound(2, 5000, Filtering::AddressAndPortDependent, 80, i as u32),
                Inbound::Session(u32::from(slot))
            );
        }
        let again = t.insert(session(1, 100, 5000, 42, 80)).unwrap();
        assert_eq!(again, slots[1]);
        assert_eq!(t.len(), 4);
        assert_eq!(t.high_water(), 4);
        t.remove_if(|s| s.remote == 2 || s.remote == 3, |_| {});
        assert_eq!(t.len(), 2);
        assert_eq!(t.iter().count(), 2);
        // The high-water mark stays where it was when an insertion does not pass it.
        t.insert(session(1, 101, 5001, 7, 80)).unwrap();
        assert_eq!((t.len(), t.high_water()), (3, 4));
    }

    #[test]
    fn live_gives_every_session_in_use_in_slot_order() {
        // `live` walks only the slots below `high`: no slot past it is ever in use. Random
        // inserts and removals over a small table, against a walk of every slot.
        let mut t = FixedTable::<8>::new();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for step in 0..20_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let slot = (seed % 8) as Slot;
            if seed & 0x100 != 0 {
                let _ = t.insert(session(1, 100 + (seed >> 16) as u16 % 50, 5000, step, 80));
            } else {
                let _ = t.remove(slot);
            }
            let every: std::vec::Vec<Session> =
                t.entries.iter().map(|e| e.session).filter(|s| s.state & USED != 0).collect();
            assert!(t.live().copied().eq(every.iter().copied()), "step {step}");
            assert_eq!(t.live().count(), t.len());
        }
    }
}
