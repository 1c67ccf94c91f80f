//! Fragment reassembly in a fixed pool (RFC 791 section 3.2, RFC 815), so the NAT sees the
//! ports that only a datagram's first fragment carries.
//!
//! Fragments are accepted in any order (RFC 4787 REQ-14). A datagram in progress owns one of
//! `SLOTS` slots, keyed on (source, destination, protocol, identification) as RFC 791 says,
//! and on the netif it arrives on, so that a host on one side can neither complete nor spoil a
//! datagram arriving on another,
//! and on demand takes 64-byte blocks from a pool of `BLOCKS` shared by all slots, so one large
//! datagram or several small ones fit in the same RAM. Logical block 0 of a datagram holds its
//! header (right-aligned; an IPv4 header is at most 60 bytes), block `k ≥ 1` holds payload bytes
//! `64·(k-1) .. 64·k`. Every block carries a mask of the 8-byte units (the fragment-offset
//! granule) it has received: that makes overlap and duplicate detection exact, whatever the
//! order. When the last hole fills, the datagram's blocks are swapped into the front of the
//! pool, its header is rebuilt (offset and flags cleared, total length and checksum set, like
//! lwIP's `ip4_reass`) and [`datagram`](Reassembly::datagram) hands it out as one slice.
//!
//! Hostile input has a defined outcome: a fragment whose bytes differ from bytes already held
//! drops the whole datagram (RFC 5722 spirit; identical overlaps are harmless and accepted), as
//! do a first fragment too short for its transport header (RFC 1858), a datagram over 65535
//! bytes, and one larger than the pool. A new datagram that finds no free slot, or a fragment
//! that finds too few free blocks, makes room the way lwIP's `ip_reass` does: the oldest other
//! datagram in progress is discarded (counted in [`evicted`](Reassembly::evicted)), so
//! stray fragments that never complete cannot keep everyone else's datagrams out. A source
//! already holding half the slots gives up its own oldest instead: one flooding source never
//! evicts anyone else's datagram once the pool is full. The clock is the caller's; nothing here reads time.
//!
//! Datagrams the caller leaves to the stack's own reassembly are remembered (one key per slot,
//! for the same timeout, the oldest forgotten first) so that their later fragments follow.
//!
//! Memory: `64·BLOCKS` bytes of pool, 4 bytes per block of bookkeeping, 24 bytes per slot and
//! 20 per remembered released datagram, and about 20 more.
//! All zero when empty, so a `static` lands in `.bss`. Work per fragment is about one pass over
//! the block bookkeeping (to compare; free blocks then come from a cursor, and only blocks that may
//! exist are looked up), and a copy (and, where it overlaps
//! held bytes, a comparison) of its bytes; completing a datagram swaps each of its blocks at most
//! once. No allocation. Written for flash: one loop per job, the same block gathering for a
//! completed datagram and for handing a released one back, and `#[inline(never)]` only where
//! measured smaller (`merge`, and the helpers with several callers); a step with one caller
//! is otherwise left to the compiler, which inlines it.
//!
//! Uses `wire`, `tables` (expiry) and `verdict`.

use crate::tables::is_expired;
use crate::verdict::DropReason;
use crate::wire::ipv4::{self, protocol};

/// Bytes per pool block.
pub const BLOCK: usize = 64;
/// Fragment offsets count in units of 8 bytes (RFC 791).
const UNIT: usize = 8;
/// Largest IPv4 datagram (total length is 16 bits).
const MAX_DATAGRAM: usize = 65535;
/// Longest IPv4 header (options included).
const MAX_HEADER: usize = 60;
/// A TCP header without options, which a first fragment of TCP must hold (RFC 1858).
const TCP_HEADER: usize = 20;

/// What becomes of a fragment addressed to the router ([`Reassembly::to_router`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToRouter {
    /// Its datagram may concern a mapping: put it together ([`Reassembly::accept`]).
    Reassemble,
    /// Its datagram was left to the stack before: the fragment follows it.
    Pass,
    /// Its datagram is left to the stack from now on; `held`: the pool held fragments of it,
    /// to be handed back by [`Reassembly::next_released`] before the fragment goes on.
    Leave { held: bool },
}

/// What became of one fragment: `Ok(0)`, kept (the caller may free its buffer); `Ok(len)`,
/// it completed its datagram, `len` bytes long (read it with [`Reassembly::datagram`] before
/// the next `&mut` call); `Err(reason)`, not kept. [`DropReason::FragmentDuplicate`] and
/// [`DropReason::Fragment`] drop the fragment alone; every other reason also discards the
/// datagram the fragment belongs to. `merge`'s own answer, handed on as it is: 2 bytes less
/// than an enum of the three cases.
pub type Outcome = Result<u16, DropReason>;

/// Bookkeeping of one pool block.
///
/// In C order, the mask first, then the owner, then the logical number: the order rustc chose
/// (logical, owner, mask) cost `merge` 6 B (other orders measured in the commit). The same
/// 4 bytes either way (checked at build time).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Block {
    /// Bit `i` set: 8-byte unit `i` of the block has been received.
    mask: u8,
    /// Slot index + 1 of the datagram owning the block; 0 = free.
    owner: u8,
    /// Which block of its datagram this is (0 = header).
    logical: u16,
}

const _: () = assert!(
    core::mem::size_of::<Block>() == 4
        && core::mem::size_of::<Released>() == 20
        && core::mem::size_of::<Datagram>() == 24
);

impl Block {
    const FREE: Block = Block { owner: 0, mask: 0, logical: 0 };
}

/// One datagram in progress.
///
/// In C order, chosen by measurement: the key first, then the two counts of the payload, the
/// flags and end, and the arrival (the order rustc chose cost the code that reads a slot 16 B,
/// and `in_use` and `header_len` first, the key after, 2 B; orders measured in the commits).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Datagram {
    key: Key,
    /// Highest payload end any fragment announced.
    max_end: u16,
    /// 8-byte units received.
    units: u16,
    in_use: bool,
    /// Header length of the first fragment; 0 until it arrives.
    header_len: u8,
    /// End of the payload, known from the last fragment (MF clear); 0 until then.
    end: u16,
    /// Arrival of the first fragment; the timeout runs from here and is never refreshed, so a
    /// trickle of fragments cannot hold a slot for ever.
    first_seen: u32,
}

impl Datagram {
    const EMPTY: Datagram =
        Datagram { in_use: false, key: Key::NONE, header_len: 0, end: 0, max_end: 0, units: 0, first_seen: 0 };
}

/// What identifies a datagram: RFC 791's four fields and the netif it arrives on, as three
/// words of header bytes in wire order (source; destination; identification, protocol, netif),
/// so that telling two keys apart is three word compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key([u32; 3]);

impl Key {
    const NONE: Key = Key([0; 3]);

    /// The key of a fragment's bytes (any IPv4 header will do).
    fn of_bytes(fragment: &[u8], netif: u8) -> Option<Key> {
        let h = <&[u8; ipv4::HEADER_LEN]>::try_from(fragment.get(..ipv4::HEADER_LEN)?).ok()?;
        let word = |a, b, c, d| u32::from_ne_bytes([a, b, c, d]);
        // The identification as the half of the word it starts that it lies in (one load and a
        // mask rather than two byte loads put together).
        let id = word(h[4], h[5], h[6], h[7]) & word(0xFF, 0xFF, 0, 0);
        Some(Key([word(h[12], h[13], h[14], h[15]), word(h[16], h[17], h[18], h[19]), id | word(0, 0, h[9], netif)]))
    }

    fn src(&self) -> u32 {
        self.0[0]
    }

    fn protocol(&self) -> u8 {
        self.0[2].to_ne_bytes()[2]
    }
}

/// A datagram left to the stack's own reassembly, remembered so its later fragments follow.
///
/// In C order, the key first and `in_use` right after it: the order rustc chose (key, since,
/// in_use) cost the router's fragment decision 4 B (other orders measured in the commit). The
/// same 20 bytes either way (checked at build time, with `Block`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Released {
    key: Key,
    in_use: bool,
    since: u32,
}

impl Released {
    const EMPTY: Released = Released { in_use: false, key: Key::NONE, since: 0 };
}

/// The fragment pool: `SLOTS` datagrams in progress sharing `BLOCKS` blocks of 64 bytes.
///
/// In C order, chosen by measurement: the datagram slots first (the order rustc chose put
/// `releasing` first, and the slots behind it cost the code that indexes them an offset: full
/// -32 B), then the small fields and the remembered keys, and the pool's two arrays last (full
/// -20 B against the arrays right after `releasing` and its cursor, the other fields after
/// them; the best of about 130 orders measured, the commits name the others). A private
/// layout: the same size, on 32- and 64-bit targets alike.
#[repr(C)]
pub struct Reassembly<const SLOTS: usize, const BLOCKS: usize> {
    slots: [Datagram; SLOTS],
    /// The completed datagram's place in the flattened pool, `ready_start..ready_end`;
    /// `ready_end` 0 = none.
    ready_start: usize,
    ready_end: usize,
    /// The datagram whose held fragments [`next_released`](Self::next_released) hands out.
    releasing: Option<Key>,
    released: [Released; SLOTS],
    /// Datagrams discarded to make room, ever ([`evicted`](Self::evicted)).
    evicted: u32,
    /// The payload offset [`next_released`](Self::next_released) has reached in `releasing`'s
    /// datagram (read only while that is set; apart from it, a write of it needs no test of it).
    release_cursor: u16,
    blocks: [Block; BLOCKS],
    data: [[u8; BLOCK]; BLOCKS],
}

impl<const SLOTS: usize, const BLOCKS: usize> Default for Reassembly<SLOTS, BLOCKS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SLOTS: usize, const BLOCKS: usize> Reassembly<SLOTS, BLOCKS> {
    /// Largest payload one datagram may have here (block 0 is its header).
    pub const MAX_PAYLOAD: usize = (BLOCKS - 1) * BLOCK;
    /// Datagrams one source may have in progress before its new ones replace its own oldest.
    const SHARE: usize = if SLOTS / 2 == 0 { 1 } else { SLOTS / 2 };

    /// An empty pool (all zero bytes).
    pub const fn new() -> Self {
        const { assert!(SLOTS >= 1 && SLOTS <= 255, "1..=255 reassembly slots") };
        const { assert!(BLOCKS >= 2, "the pool needs a header block and a payload block") };
        Reassembly {
            slots: [Datagram::EMPTY; SLOTS],
            released: [Released::EMPTY; SLOTS],
            blocks: [Block::FREE; BLOCKS],
            data: [[0; BLOCK]; BLOCKS],
            evicted: 0,
            releasing: None,
            release_cursor: 0,
            ready_start: 0,
            ready_end: 0,
        }
    }

    /// Takes one fragment (an IPv4 packet with MF set or a non-zero offset, header already
    /// validated by the caller; bytes past its total length are ignored) that arrived on `netif`.
    pub fn accept(&mut self, fragment: &[u8], netif: u8, now: u32) -> Outcome {
        self.ready_end = 0;
        // The key read first, then the piece and its RFC 791 test: pure reads whose refusals
        // are all the same drop, so the order changes no outcome (this one took the least code).
        let Some(key) = Key::of_bytes(fragment, netif) else {
            return Err(DropReason::Fragment);
        };
        let Some(Piece { header, payload, offset, more }) = Piece::of(fragment) else {
            return Err(DropReason::Fragment);
        };
        let end = offset + payload.len();
        // RFC 791: every fragment but the last carries a multiple of 8 bytes, none is empty.
        // (Asked as the two cases of MF: the empty test then made once, not once in each.)
        if payload.is_empty() || if more { payload.len() % UNIT != 0 } else { offset == 0 } {
            return Err(DropReason::Fragment);
        }
        // A new datagram, which `find` overwrites with the state it holds, if any (copied
        // there, not here, where every register was taken).
        let mut datagram = Datagram { in_use: true, key, first_seen: now, ..Datagram::EMPTY };
        let found = self.find(&mut datagram);
        // A datagram that fails its check or its merge is discarded in one place: the slot it
        // holds by then (`SLOTS`, none, for a new one that failed its check: `release` finds
        // nothing of it). One `Outcome` for both, so a refusal is one value from the check or
        // the merge alike.
        let (slot, outcome) = match self.check(&datagram, header.len(), offset, end, more) {
            Err(reason) => (found, Err(reason)),
            Ok(()) => {
                let slot = if found < SLOTS { found } else { self.free_slot(key.src(), now) };
                (slot, self.merge(offset, payload, header, slot, &mut datagram, more, now))
            }
        };
        // A refusal discards the datagram, but for a duplicate, which leaves it be (`Outcome`'s
        // `Fragment` comes only before a slot is known, or after `finish` freed it).
        if let Err(reason) = outcome {
            if reason != DropReason::FragmentDuplicate {
                self.release(slot);
            }
        }
        outcome
    }

    /// Why payload `offset..end` (`more`: MF set) cannot join `datagram`, whose first fragment
    /// has a `header_len`-byte header if this is it.
    fn check(&self, datagram: &Datagram, header_len: usize, offset: usize, end: usize, more: bool) -> Result<(), DropReason> {
        let (known_end, max_end) = (usize::from(datagram.end), usize::from(datagram.max_end));
        // A last fragment fixes the end: nothing may reach past it, and it may not move. Once it
        // is known, the highest end is it (a last fragment short of `max_end` never joins), so
        // both read as comparisons with `max_end`: past it, or (a last fragment) short of it.
        // Asked as which side of `max_end` the end lies (8 bytes less than the two tests joined).
        debug_assert!(known_end == 0 || known_end == max_end, "a known end is the highest end");
        let ends_conflict = if end > max_end { known_end != 0 } else { !more && max_end > end };
        // The header comes with the first fragment; until then assume the shortest. In a pool
        // whose largest payload fits 16 bits with any header, a held `max_end` (never past the
        // pool: it passed this check) never makes a datagram too big; only an `end` past the
        // pool can, and that `end` is then the highest. There the first fragment's own header
        // need not be read either: with its payload it lies within its 16-bit total length, and
        // so it does with the shortest header instead.
        let (header_len, highest) = if Self::MAX_PAYLOAD + MAX_HEADER <= MAX_DATAGRAM {
            (usize::from(datagram.header_len).max(ipv4::HEADER_LEN), end)
        } else {
            let header_len = match (datagram.header_len, offset) {
                (0, 0) => header_len,
                (0, _) => ipv4::HEADER_LEN,
                (known, _) => usize::from(known),
            };
            (header_len, end.max(max_end))
        };
        // RFC 1858: a first fragment holds its transport header whole. It holds 8 bytes or more
        // (MF set and a non-empty multiple of 8: `accept`'s RFC 791 test), a UDP or ICMP
        // header, so only TCP's 20 can be missing: one test of the end, first (the order that
        // took least code; 6 bytes less than a minimum per protocol).
        debug_assert!(offset != 0 || (more && end >= UNIT), "a first fragment holds 8 bytes");
        if header_len + highest > MAX_DATAGRAM {
            Err(DropReason::FragmentTooBig)
        } else if end > Self::MAX_PAYLOAD {
            Err(DropReason::FragmentBeyondLimit)
        } else if end < TCP_HEADER && datagram.key.protocol() == protocol::TCP && offset == 0 {
            Err(DropReason::FragmentTooShort)
        } else if ends_conflict {
            Err(DropReason::FragmentOverlap)
        } else {
            Ok(())
        }
    }

    /// Adds a checked fragment to the datagram in `slot` (`datagram` is its state, possibly
    /// new and not yet stored). On a refusal other than a duplicate the caller discards the
    /// datagram. Answers the completed datagram's length, or 0 while it is held: as 16 bits in
    /// a `Result` of one word, returned in a register (an enum of the three cases went through
    /// memory). The fragment's offset, payload and header first (the offset and payload in the
    /// order `piece` takes them), its datagram's slot and state after: 30 bytes less than the
    /// slot and state first (the best of about 130 orders measured; the commits have them).
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn merge(
        &mut self,
        offset: usize,
        payload: &[u8],
        header: &[u8],
        slot: usize,
        datagram: &mut Datagram,
        more: bool,
        now: u32,
    ) -> Outcome {
        let end = offset + payload.len();
        // One pass over the pool compares the fragment with the bytes held, before anything
        // changes, and notes the range of numbers its span's held blocks lie in,
        // `held_from..held_end` (empty, `usize::MAX..0`, when none is). Whether it brings
        // anything new is asked after the commit pass, which counts the units it gains.
        // The owner as a word, as in `gather`, compared with each block's byte widened (no
        // truncation of `slot + 1` to a byte: the slot is below `SLOTS`, at most 255, so it
        // fits one; 2 bytes less), and truncated only where `allocate` stores it.
        let owner = slot + 1;
        let (first, last) = (logical_of(offset), logical_of(end - 1));
        // The held header's length asked first: 2 bytes less.
        let needs_header = datagram.header_len == 0 && offset == 0;
        let (mut held_from, mut held_end) = (usize::MAX, 0);
        for (block, held) in self.blocks.iter().zip(&self.data) {
            let logical = usize::from(block.logical);
            if usize::from(block.owner) != owner || logical < first || logical > last {
                continue;
            }
            (held_from, held_end) = (held_from.min(logical), held_end.max(logical + 1));
            let (from, units, new) = piece(offset, payload, logical);
            let held_mask = block.mask & units;
            let Some(new) = new else { continue };
            // Each held byte read at its place in the block, taken modulo the block: the same
            // place (`piece`'s bytes lie within their block), with no bounds test of a slice of
            // the block (4 bytes less).
            debug_assert!(from + new.len() <= BLOCK, "a piece lies within its block");
            for (i, n) in new.iter().enumerate() {
                let at = (from + i) % BLOCK;
                if held[at] != *n && held_mask.wrapping_shr((at / UNIT) as u32) & 1 != 0 {
                    return Err(DropReason::FragmentOverlap);
                }
            }
        }
        // Commit: the header into block 0 (right-aligned), the payload into blocks held or
        // taken free.
        if needs_header {
            datagram.header_len = header.len() as u8;
        }
        // Free blocks are taken in pool order from `cursor`, so a fragment's blocks cost one
        // pass in all; a block is looked up only where it may exist: within the range of the
        // held ones (never the header block here, as none below `first` was counted).
        let mut cursor = 0;
        // The units held, counted in a word of its own and stored once the blocks are done: the
        // completion test then compares the count with no truncation to 16 bits first (it
        // stays below 8192: a checked end is below 65536).
        let mut held_units = usize::from(datagram.units);
        // From the header block or `first` to `last`, as a loop ended by the equality: the span
        // is never empty (`first <= last`, the payload is not), and a `..=` range's exhaustion
        // flag took 28 bytes more.
        debug_assert!(first <= last, "a fragment spans a block");
        let mut logical = if needs_header { 0 } else { first };
        loop {
            // Outside `held_from..held_end`, as one wrapping compare (the empty range's width,
            // 0 - usize::MAX, is 1, and every number less `usize::MAX` is at least 1: absent).
            // 28 bytes less than asking for a held inner block as a flag.
            let absent = logical.wrapping_sub(held_from) >= held_end.wrapping_sub(held_from);
            // A datagram never needs more than the pool (see `check`), so evicting the others,
            // oldest first, always makes room.
            let index = loop {
                let held = if absent { None } else { self.index_of(owner, logical) };
                if let Some(index) = held.or_else(|| self.allocate(&mut cursor, owner, logical)) {
                    break index;
                }
                let victim = self.victim(now, slot, None);
                if victim >= SLOTS {
                    return Err(DropReason::ReassemblyNoRoom);
                }
                self.release(victim);
                cursor = 0;
            }
            // Never lowers it (`index_of` and `allocate` answer only indices of the pool's
            // blocks), but tells the optimiser it is in bounds: no bounds test of it below.
            .min(BLOCKS - 1);
            // The header block's mask stays 0: no unit of the payload lies in it.
            let (from, units, bytes) = if logical == 0 {
                (BLOCK - header.len(), 0, Some(header))
            } else {
                piece(offset, payload, logical)
            };
            // The room cut from `from` to the bytes' own length (not `from..to`): one length with
            // them by construction, so `copy`'s length test folds away (8 bytes less).
            if let Some(bytes) = bytes {
                if let Some(room) = self.data.get_mut(index).and_then(|b| b.get_mut(from..)?.get_mut(..bytes.len())) {
                    copy(room, bytes);
                }
            }
            if let Some(block) = self.blocks.get_mut(index) {
                // The units the block gains, counted one bit at a time: `count_ones` of a byte
                // is a dozen instructions of bit arithmetic in line on the M4, the loop three.
                // As a word: the clearing `and` sets the flags the loop tests (as a byte, its
                // low 8 bits were tested apart).
                let mut gained = u32::from(units) & !u32::from(block.mask);
                while gained != 0 {
                    gained &= gained - 1;
                    held_units += 1;
                }
                block.mask |= units;
            }
            if logical == last {
                break;
            }
            logical += 1;
        }
        // Nothing new: no unit gained, no header wanted, and no end fixed that was unknown. Asked
        // here, not before the commit (where a count of the span's blocks held whole took 14
        // bytes more): such a fragment changed nothing there either. Every unit it touches was
        // held, so its blocks were all found (none taken, so no datagram evicted), each byte it
        // wrote was a held byte the first pass found equal, and no mask gained a bit; the
        // datagram's state, a copy, is not stored. The three tests as values, joined without a
        // branch (22 bytes less than `&&` and `||`, after which LLVM wrote the state's update
        // out twice).
        if (held_units == usize::from(datagram.units)) & !needs_header & (more | (datagram.end != 0)) {
            return Err(DropReason::FragmentDuplicate);
        }
        // Bounds checked in `check`: a payload end is below 65536 (its units, counted above,
        // below 8192). The higher end taken as words and then truncated: the same value, as
        // both fit 16 bits, with no zero-extension of the truncated end to compare it.
        debug_assert!(end <= MAX_DATAGRAM, "a checked end fits 16 bits");
        datagram.max_end = usize::from(datagram.max_end).max(end) as u16;
        datagram.units = held_units as u16;
        if !more {
            datagram.end = end as u16;
        }
        // No test that the end is known: an unknown end (0) has no units, and a merged fragment
        // leaves at least one held.
        let complete =
            datagram.header_len != 0 && held_units == usize::from(datagram.end).div_ceil(UNIT);
        if complete {
            // Not stored: `finish` frees the slot, and a slot out of use is never read.
            self.finish(slot, usize::from(datagram.header_len), usize::from(datagram.end))
        } else {
            if let Some(stored) = self.slots.get_mut(slot) {
                *stored = *datagram;
            }
            Ok(0)
        }
    }

    /// Hands out a complete datagram: gathers its blocks at the front of the pool, rebuilds its
    /// header, and frees its slot and blocks (the bytes stay readable until the next `&mut`
    /// call). Every unit is held, so blocks `0..=end/64` are all its own once gathered.
    fn finish(&mut self, slot: usize, header_len: usize, end: usize) -> Result<u16, DropReason> {
        self.gather(slot);
        self.release(slot);
        // Modulo the block: the same start (a header is 20 to 60 bytes), known below a block, so
        // the slice below is not tested to start before it ends (4 bytes less).
        debug_assert!((ipv4::HEADER_LEN..=MAX_HEADER).contains(&header_len), "a header's length");
        let start = (BLOCK - header_len) % BLOCK;
        let len = header_len + end;
        // Its place noted before its header is sealed (2 bytes less than after).
        self.ready_start = start;
        self.ready_end = start + len;
        // Always within the pool (`check` keeps `end` within `MAX_PAYLOAD`, and a header is at
        // most one block): the test only spares the slice its bounds check.
        if let Some(datagram) = self.data.as_flattened_mut().get_mut(start..start + len) {
            seal(datagram, 0);
        }
        // A datagram's length fits 16 bits (`check`), and is never 0 (it has a header).
        debug_assert!(len != 0 && len <= MAX_DATAGRAM, "a datagram's length");
        Ok(len as u16)
    }

    /// Puts each block of the datagram in `slot` at the pool index of its logical number, so
    /// that what it holds reads as one slice from the start of the pool. Cycle sort: each swap
    /// puts one of its blocks in place for good, and whatever sat there (free, or another
    /// datagram's) moves to `index`, to be looked at next. At most one swap per block.
    fn gather(&mut self, slot: usize) {
        // The owner byte widened and compared with `slot + 1` as a word (no truncation of the
        // owner to a byte first): the same blocks, as every slot is below `SLOTS` (at most 255),
        // so `slot + 1` fits the byte.
        debug_assert!(slot <= SLOTS, "a datagram slot, or none");
        (0..BLOCKS).for_each(|index| {
            while let Some(&block) = self.blocks.get(index) {
                let logical = usize::from(block.logical);
                if usize::from(block.owner) != slot + 1 || logical == index || logical >= BLOCKS {
                    break;
                }
                self.blocks.swap(index, logical);
                swap_bytes(&mut self.data, index, logical);
            }
        });
    }

    /// The datagram the last [`accept`](Self::accept) completed; empty if it completed none.
    pub fn datagram(&self) -> &[u8] {
        if self.ready_end == 0 {
            return &[];
        }
        self.data.as_flattened().get(self.ready_start..self.ready_end).unwrap_or(&[])
    }

    /// Discards datagrams whose first fragment arrived more than `timeout_ms` before `now`
    /// (wrapping clock; a `now` before that arrival is a clock behind, not a late one);
    /// counts each in `expired` (the NAT's counter itself: 6 bytes less than a count returned
    /// and added there).
    pub fn expire(&mut self, now: u32, timeout_ms: u32, expired: &mut u32) {
        self.ready_end = 0;
        // The remembered released datagrams first (the two passes touch nothing in common: this
        // order took 2 bytes less). Only the flag is cleared: a key out of use is never read.
        // `for_each`, as in `release`: 2 bytes less than a `for` loop.
        self.released.iter_mut().filter(|r| is_expired(r.since, now, timeout_ms)).for_each(|r| r.in_use = false);
        // The slots walked by index, each read where the walk tests its end (2 bytes less than a
        // range and a read apart).
        let mut slot = 0;
        while let Some(d) = self.slots.get(slot) {
            if d.in_use && is_expired(d.first_seen, now, timeout_ms) {
                self.release(slot);
                *expired = expired.wrapping_add(1);
            }
            slot += 1;
        }
    }

    /// Discards every datagram in progress; the eviction count stays (the NAT's counter is a
    /// copy of it).
    pub fn clear(&mut self) {
        let evicted = self.evicted;
        *self = const { Self::new() };
        self.evicted = evicted;
    }

    /// Datagrams in progress.
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|d| d.in_use).count()
    }

    /// Pool bytes held by datagrams in progress.
    pub fn bytes_in_use(&self) -> usize {
        self.blocks.iter().filter(|b| b.owner != 0).count() * BLOCK
    }

    /// Takes the first free block at or after `*cursor` for datagram block `logical` of `owner`.
    fn allocate(&mut self, cursor: &mut usize, owner: usize, logical: usize) -> Option<usize> {
        let index = *cursor + self.blocks.get(*cursor..)?.iter().position(|b| b.owner == 0)?;
        *cursor = index + 1;
        *self.blocks.get_mut(index)? = Block { owner: owner as u8, mask: 0, logical: logical as u16 };
        Some(index)
    }

    /// The pool index of block `logical` of the datagram `owner` (slot + 1).
    fn index_of(&self, owner: usize, logical: usize) -> Option<usize> {
        self.blocks.iter().position(|b| usize::from(b.owner) == owner && usize::from(b.logical) == logical)
    }

    /// The slot of the datagram in progress with `datagram`'s key, whose state it copies over
    /// `datagram`; `SLOTS` when there is none, `datagram` left as it was (a slot word, as
    /// `victim` answers: `release` of it frees nothing, so the callers need no flag apart). The
    /// caller's datagram is a new one, or the key alone (nothing held: no header, no payload
    /// end): each caller then reads its copy, found or not, with no lookup of the slot (full 4
    /// bytes less than copying the held state in `accept` and reading the slot in the other
    /// two). Out of line: three callers (in line, as the compiler chose for the slot word, 92
    /// bytes more).
    #[inline(never)]
    fn find(&self, datagram: &mut Datagram) -> usize {
        let mut index = 0;
        while let Some(d) = self.slots.get(index) {
            if d.in_use && d.key == datagram.key {
                *datagram = *d;
                break;
            }
            index += 1;
        }
        index
    }

    /// A slot for a new datagram from `src`: a free one, else the one whose datagram gives way
    /// (the source's own oldest once it holds its share, else the oldest of all). In line in
    /// `accept`, its one caller (out of line, as the compiler chose beside `find`'s slot word,
    /// 28 bytes more).
    #[inline(always)]
    fn free_slot(&mut self, src: u32, now: u32) -> usize {
        // One pass: the first free slot, else (every slot in use) how many hold `src`'s. Walked
        // by index (6 bytes less than `enumerate`).
        let (mut own, mut index) = (0, 0);
        while let Some(d) = self.slots.get(index) {
            if !d.in_use {
                return index;
            }
            own += usize::from(d.key.src() == src);
            index += 1;
        }
        let own_share = own >= Self::SHARE;
        // Always found: every slot is in use, and when only `src`'s count, it holds its share
        // of them (at least one). So no default is needed (the `unwrap_or(0)` this replaced
        // was never taken).
        let victim = self.victim(now, SLOTS, own_share.then_some(src));
        debug_assert!(victim < SLOTS, "a full table has an oldest datagram");
        self.release(victim);
        victim
    }

    /// The slot of the datagram in progress that arrived first, but for the one in slot `skip`,
    /// and only among those from `src` if given, counted as evicted (both callers discard it
    /// to make room; `evicted` is counted here once, not beside each caller's `release`: 4
    /// bytes less); `SLOTS` when there is none, and nothing counted. A slot word, not an
    /// `Option`: the callers test it (or, `free_slot`, know it found) without a flag apart.
    /// Both callers pick one in use: the search finds only those, and `free_slot` asks only
    /// of a full table.
    #[inline(never)]
    fn victim(&mut self, now: u32, skip: usize, src: Option<u32>) -> usize {
        // The age to beat starts at 0, which every age is at least: the first candidate is taken
        // whatever its age, with no test that one was found.
        let (mut oldest, mut oldest_age) = (SLOTS, 0);
        // `for_each` rather than a `for` loop: 8 bytes less.
        self.slots.iter().enumerate().for_each(|(index, d)| {
            let age = now.wrapping_sub(d.first_seen);
            // The last of equally old ones, as `max_by_key` would pick. Four pure tests, the age
            // first: the order that took the least code; the source's as an `if let` (4 bytes
            // less than `is_none_or`).
            if age >= oldest_age && d.in_use && index != skip && if let Some(src) = src { d.key.src() == src } else { true } {
                (oldest, oldest_age) = (index, age);
            }
        });
        self.evicted = self.evicted.wrapping_add(u32::from(oldest < SLOTS));
        oldest
    }

    /// Datagrams discarded to make room, ever (wrapping; [`clear`](Self::clear) keeps it). The
    /// NAT copies it into its `reass_evicted` after every [`accept`](Self::accept), the only
    /// call that evicts: one load and store, where adding the evictions since the last call
    /// and zeroing them took 12 bytes more (the count kept across `clear` costs 8 of them).
    pub fn evicted(&self) -> u32 {
        self.evicted
    }

    /// Decides the fate of a fragment addressed to the router that arrived on `netif`: `own`
    /// says its first fragment shows the router's own datagram (which the caller alone can
    /// tell). Its datagram is left to the stack's own reassembly when it is the router's own, or
    /// when it reaches past what the pool can hold and no held first fragment shows a mapping;
    /// later fragments of a datagram left so follow it.
    pub fn decide_for_router(&mut self, fragment: &[u8], netif: u8, now: u32, own: bool) -> ToRouter {
        let Some(key) = Key::of_bytes(fragment, netif) else { return ToRouter::Reassemble };
        // Remembered already? Walked by index, as the scans below (2 bytes less than `any`).
        let mut index = 0;
        while let Some(r) = self.released.get(index) {
            if r.in_use && r.key == key {
                return ToRouter::Pass;
            }
            index += 1;
        }
        // The key alone (no header held), or the held state of the datagram.
        let mut datagram = Datagram { key, ..Datagram::EMPTY };
        self.find(&mut datagram);
        // Too large for the pool, and no first fragment (held or this one) shows it belongs to
        // a mapping: asked only for a datagram not the router's own.
        let unholdable = || {
            Piece::of(fragment).is_some_and(|piece| {
                let end = piece.offset + piece.payload.len();
                piece.offset != 0 && end > Self::MAX_PAYLOAD && ipv4::HEADER_LEN + end <= MAX_DATAGRAM
            }) && datagram.header_len == 0
        };
        if !own && !unholdable() {
            return ToRouter::Reassemble;
        }
        // Remembered in the first free entry, else in place of the oldest remembered (the last
        // of equally old ones).
        // By index, not through the entry the scan picked: that reference made LLVM copy the
        // key with `memmove`, which the firmware must not link (`.ci/cortex-m size`). Walked by
        // index (12 bytes less than `enumerate`).
        let (mut place, mut oldest) = (0, 0);
        let mut index = 0;
        while let Some(entry) = self.released.get(index) {
            let age = now.wrapping_sub(entry.since);
            if !entry.in_use {
                place = index;
                break;
            }
            if age >= oldest {
                (place, oldest) = (index, age);
            }
            index += 1;
        }
        if let Some(entry) = self.released.get_mut(place) {
            *entry = Released { in_use: true, key: datagram.key, since: now };
        }
        // Held: `find` copied a datagram in use over the key alone (not in use), so its slot
        // word is not kept across the scan above (full 8 bytes less).
        let held = datagram.in_use;
        if held {
            (self.releasing, self.release_cursor) = (Some(datagram.key), 0);
        }
        ToRouter::Leave { held }
    }

    /// Writes the next run of held bytes of the datagram [`release_held`](Self::release_held)
    /// named into `buf` as one fragment (with its first fragment's header if that is held, else
    /// a plain 20-byte one: the stack that reassembles it keeps the first fragment's header)
    /// and returns its length; 0 when none is left or `buf` is empty, and the datagram is then
    /// discarded from the pool.
    ///
    /// Out of line: in line in `lwip_snat_released`, its one caller, the run's values were
    /// spilled around the C call's guard (18 bytes more).
    #[inline(never)]
    pub fn next_released(&mut self, buf: &mut [u8]) -> usize {
        self.ready_end = 0;
        let Some(key) = self.releasing else { return 0 };
        let mut datagram = Datagram { key, ..Datagram::EMPTY };
        let (slot, from) = (self.find(&mut datagram), usize::from(self.release_cursor));
        // `SLOTS` (none) owns no block and leaves the key alone, whose highest end is 0: no run,
        // and nothing to free.
        if let Some((len, end)) = self.write_run(slot, &datagram, from, buf) {
            self.release_cursor = end as u16;
            return len;
        }
        self.releasing = None;
        self.release(slot);
        0
    }

    /// Writes the first run of received units at or after payload offset `from` as a fragment
    /// into `buf`: its length and the payload end it reached, or `None` when there is none.
    /// `datagram` is the state of the one in `slot` (`find`'s copy; a highest end of 0, no run,
    /// for a slot of none). Gathers the datagram's blocks first, so a run is one slice of
    /// the pool.
    fn write_run(&mut self, slot: usize, datagram: &Datagram, from: usize, buf: &mut [u8]) -> Option<(usize, usize)> {
        self.gather(slot);
        // The owner compared as a word, as in `gather`: no truncation to a byte in each scan
        // (4 bytes less; `SLOTS`, none, has no run to scan).
        let owner = slot + 1;
        let has_unit = |unit: usize| {
            self.blocks.get(logical_of(unit * UNIT)).is_some_and(|b| usize::from(b.owner) == owner && b.mask & unit_bit(unit) != 0)
        };
        let max_end = usize::from(datagram.max_end);
        let units = max_end.div_ceil(UNIT);
        // Two scans by one loop: to the first unit held from `from` on, which starts the run,
        // then to the first unit missing (or one past what `buf` holds), which ends it. `scan`
        // answers the first unit from `unit` on, below `limit`, whose holding is not `held`
        // (`limit` when there is none).
        let scan = |mut unit: usize, limit: usize, held: bool| {
            while unit < limit && has_unit(unit) == held {
                unit += 1;
            }
            unit
        };
        let start = scan(from.div_ceil(UNIT), units, false);
        if start >= units {
            return None;
        }
        // The run that starts the datagram keeps its first fragment's header, if held.
        let first = start == 0 && datagram.header_len != 0;
        let header_len = if first { usize::from(datagram.header_len) } else { ipv4::HEADER_LEN };
        let room = buf.len().saturating_sub(header_len) / UNIT;
        if room == 0 {
            return None;
        }
        let end_unit = scan(start, units.min(start + room), true);
        // Not empty: unit `start` is held and below both `units` (so its offset is below
        // `max_end`) and the limit (`room` is at least 1), so the run has at least that unit.
        let (offset, end) = (start * UNIT, (end_unit * UNIT).min(max_end));
        // A run is never empty (`end` is at least 1), so an end not yet known (0) never matches.
        let last = end == usize::from(datagram.end);
        // Gathered, the first fragment's header sits right before the payload.
        let len = header_len + end - offset;
        let out = buf.get_mut(..len)?;
        let skip = if first { 0 } else { plain_header(out, &datagram.key) };
        // The pool's bytes from where the rest of `out` starts, as many as it holds (they end at
        // `BLOCK + end`): of one length by construction, so the length test in `copy` folds away.
        let rest = out.get_mut(skip..)?;
        let from = BLOCK + offset + skip - header_len;
        copy(rest, self.data.as_flattened().get(from..from + rest.len())?);
        seal(out, if last { 0 } else { 0x2000 } | (offset / UNIT) as u16);
        Some((len, end))
    }

    /// Out of line: it has five callers.
    #[inline(never)]
    fn release(&mut self, slot: usize) {
        // As in `gather`: `slot + 1` fits the owner byte; `SLOTS` (none) owns no block.
        debug_assert!(slot <= SLOTS, "a datagram slot, or none");
        // `for_each` rather than a `for` loop: 2 bytes less.
        self.blocks.iter_mut().filter(|b| usize::from(b.owner) == slot + 1).for_each(|block| *block = Block::FREE);
        // Only the flag: a slot out of use is never read until a new datagram is written whole.
        if let Some(datagram) = self.slots.get_mut(slot) {
            datagram.in_use = false;
        }
    }
}

/// A fragment's header, its payload (up to its total length), the payload's offset in the
/// datagram and its MF flag. Read here rather than through `ipv4::Packet::new_checked`, whose
/// checks it makes (`None` where that fails), with less code for the two callers.
struct Piece<'a> {
    header: &'a [u8],
    payload: &'a [u8],
    offset: usize,
    more: bool,
}

impl<'a> Piece<'a> {
    fn of(fragment: &'a [u8]) -> Option<Piece<'a>> {
        let (&ver_ihl, rest) = fragment.split_first()?;
        let total_len = usize::from(u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?]));
        // Version 4 with a header of 20 bytes or more: the range `ipv4::new_quoted` tests too.
        if !ipv4::VER_IHL_ACCEPTED.contains(&ver_ihl) {
            return None;
        }
        // The low nibble, as what is left above version 4's 0x40 (the range just tested): the
        // optimiser then knows the header holds 20 bytes or more, and tests no shorter one for
        // the flags below.
        let header_len = usize::from(ver_ihl - 0x40) * 4;
        // Fails for a total length past the bytes or short of the header, as `new_checked` does.
        let (header, payload) = fragment.get(..total_len)?.split_at_checked(header_len)?;
        let flags_offset = u16::from_be_bytes([*header.get(6)?, *header.get(7)?]);
        Some(Piece { header, payload, offset: usize::from(flags_offset & 0x1FFF) * UNIT, more: flags_offset & 0x2000 != 0 })
    }
}

/// Writes a 20-byte header, without options, for a fragment of the datagram `key` at the start
/// of `out` (length, flags, offset and checksum are [`seal`]'s) and returns its length.
fn plain_header(out: &mut [u8], key: &Key) -> usize {
    if let Some(h) = out.get_mut(..ipv4::HEADER_LEN).and_then(|h| <&mut [u8; ipv4::HEADER_LEN]>::try_from(h).ok()) {
        // As its five words, each stored whole.
        let [id_0, id_1, protocol, _] = key.0[2].to_ne_bytes();
        let mut put = |at: usize, word: [u8; 4]| {
            if let Some(to) = h.get_mut(at..at + 4).and_then(|to| <&mut [u8; 4]>::try_from(to).ok()) {
                *to = word;
            }
        };
        put(0, [0x45, 0, 0, 0]);
        put(4, [id_0, id_1, 0, 0]);
        put(8, [64, protocol, 0, 0]);
        put(12, key.0[0].to_ne_bytes());
        put(16, key.0[1].to_ne_bytes());
    }
    ipv4::HEADER_LEN
}

/// Sets the total length (all of `packet`), flags and offset of an IPv4 packet, and its
/// header checksum. The header is one `Piece::of` accepted, or `plain_header`'s: not checked
/// again.
fn seal(packet: &mut [u8], flags_offset: u16) {
    let len = packet.len() as u16;
    if let Ok(mut ip) = ipv4::Packet::new_accepted(packet) {
        ip.set_total_len(len);
        ip.set_flags_offset(flags_offset);
        ip.fill_checksum();
    }
}

/// The mask bit of payload unit `unit` in its block.
fn unit_bit(unit: usize) -> u8 {
    1 << (unit % (BLOCK / UNIT))
}

/// The mask bits of the units that bytes `from..to` of one block touch (never empty: `to` is
/// above `from`), those from `from`'s unit up to `to - 1`'s. Offsets in the block or in the
/// payload alike (a block starts at a multiple of 64): only a unit's place in its block counts.
/// The bits up to the last unit's, and from the first's, as two shifts of all ones (2 bytes less
/// than the difference of two powers of two).
fn units_mask(from: usize, to: usize) -> u8 {
    let (first, last) = (from / UNIT % (BLOCK / UNIT), (to - 1) / UNIT % (BLOCK / UNIT));
    (u8::MAX >> (BLOCK / UNIT - 1 - last)) & (u8::MAX << first)
}

/// Copies `from` into `to` (same length by construction: each caller cuts both to the same
/// span). Not `copy_from_slice`: without LTO its out-of-line length check links a panic path
/// (`.ci/cortex-m no-panic`). An indexed loop over equal lengths, which the optimiser turns
/// into one `memcpy` call with no bounds check (an iterator `zip` stays a byte loop, and a
/// fast path for whole blocks beside it took 46 bytes in all). In line in both callers: there
/// it is a length test and the `memcpy` call, fewer bytes than a call to it out of line.
#[allow(clippy::manual_memcpy, clippy::needless_range_loop)]
fn copy(to: &mut [u8], from: &[u8]) {
    if to.len() == from.len() {
        for i in 0..to.len() {
            to[i] = from[i];
        }
    }
}

/// Swaps the bytes of pool blocks `a` and `b`, one byte at a time: `<[_]>::swap` of 64-byte
/// arrays copies through a stack buffer, and takes more flash; so did the two blocks split
/// apart first (`split_at_mut`, then the lower and higher picked).
fn swap_bytes(data: &mut [[u8; BLOCK]], a: usize, b: usize) {
    let flat = data.as_flattened_mut();
    for byte in 0..BLOCK {
        let (x, y) = (a * BLOCK + byte, b * BLOCK + byte);
        if x < flat.len() && y < flat.len() {
            flat.swap(x, y);
        }
    }
}

/// The datagram block holding payload byte `offset`.
fn logical_of(offset: usize) -> usize {
    1 + offset / BLOCK
}

/// Where the bytes of `payload` (at payload offset `offset`) that fall in datagram block
/// `logical`, one the payload reaches, start within the block, the mask of the units they
/// touch, and those bytes: what both passes of `merge` need (their end is the bytes' length).
/// Worked out on the payload offsets `low..high` they span, the mask too (10 bytes less than
/// on offsets in the block). Out of line: both passes of `merge` use it (the mask computed
/// here once, for both). The offset and payload first, the block's number last: 2 bytes less
/// than the number first (all six orders measured).
#[inline(never)]
fn piece(offset: usize, payload: &[u8], logical: usize) -> (usize, u8, Option<&[u8]>) {
    let base = (logical - 1) * BLOCK;
    let (low, high) = (offset.max(base), (offset + payload.len()).min(base + BLOCK));
    (low - base, units_mask(low, high), payload.get(low - offset..high - offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    type Pool = Reassembly<4, 40>;

    const SRC: u32 = 0xC0A8_0102;
    const DST: u32 = 0x0808_0808;

    /// An unfragmented datagram: `header_len`-byte header (options zero-filled), `protocol`,
    /// payload bytes counting up from `seed`.
    fn datagram(header_len: usize, protocol: u8, ident: u16, payload_len: usize, seed: u8) -> Vec<u8> {
        let mut bytes = std::vec![0u8; header_len + payload_len];
        bytes[0] = 0x40 | (header_len / 4) as u8;
        bytes[2..4].copy_from_slice(&((header_len + payload_len) as u16).to_be_bytes());
        bytes[4..6].copy_from_slice(&ident.to_be_bytes());
        bytes[8] = 64;
        bytes[9] = protocol;
        bytes[12..16].copy_from_slice(&SRC.to_be_bytes());
        bytes[16..20].copy_from_slice(&DST.to_be_bytes());
        for (i, b) in bytes[header_len..].iter_mut().enumerate() {
            *b = seed.wrapping_add(i as u8).wrapping_mul(31);
        }
        ipv4::Packet::new_checked(&mut bytes[..]).unwrap().fill_checksum();
        bytes
    }

    /// Payload bytes `offset..end` of `whole` as a fragment (non-first ones get a 20-byte header).
    fn fragment(whole: &[u8], offset: usize, end: usize) -> Vec<u8> {
        let ip = ipv4::Packet::new_checked(whole).unwrap();
        let header_len = if offset == 0 { ip.header_len() } else { ipv4::HEADER_LEN };
        let payload = &ip.payload()[offset..end];
        let more = end < ip.payload().len();
        let mut bytes = whole[..header_len].to_vec();
        bytes[0] = 0x40 | (header_len / 4) as u8;
        bytes.extend_from_slice(payload);
        let mut frag = ipv4::Packet::new_quoted(&mut bytes[..]).unwrap();
        frag.set_total_len((header_len + payload.len()) as u16);
        frag.set_flags_offset(u16::from(more) << 13 | (offset / 8) as u16);
        frag.fill_checksum();
        bytes
    }

    /// How many datagrams `expire` discards.
    fn expire<const S: usize, const B: usize>(pool: &mut Reassembly<S, B>, now: u32, timeout_ms: u32) -> u32 {
        let mut expired = 0;
        pool.expire(now, timeout_ms, &mut expired);
        expired
    }

    /// True when `f` (from `netif`) belongs to a datagram left to the stack: it just follows.
    /// (`own` false: a fragment no one left is merely told to be reassembled; nothing changes.)
    fn is_released<const S: usize, const B: usize>(pool: &mut Reassembly<S, B>, f: &[u8], netif: u8) -> bool {
        pool.decide_for_router(f, netif, 0, false) == ToRouter::Pass
    }

    /// First fragments (48 payload bytes of 100) of `count` ICMP datagrams from one source.
    fn first_fragments(count: u16) -> Vec<Vec<u8>> {
        (0..count).map(|i| fragment(&datagram(20, protocol::ICMP, i, 100, 1), 0, 48)).collect()
    }

    /// Decides for `f` (from netif 1) as the router's own at `now`: its datagram is left.
    fn leave<const S: usize, const B: usize>(pool: &mut Reassembly<S, B>, f: &[u8], now: u32) -> ToRouter {
        pool.decide_for_router(f, 1, now, true)
    }

    fn complete(pool: &Pool, whole: &[u8], outcome: Outcome) {
        assert_eq!(outcome, Ok(whole.len() as u16));
        assert_eq!(pool.datagram(), whole);
        assert!(ipv4::Packet::new_checked(pool.datagram()).unwrap().verify_checksum());
    }

    #[test]
    fn a_released_run_takes_whole_units_that_fit_the_buffer() {
        let whole = datagram(20, protocol::UDP, 11, 64, 2);
        for (buf_len, first_len) in [(27, 0), (28, 28), (51, 44)] {
            let mut pool = Pool::new();
            assert_eq!(pool.accept(&fragment(&whole, 16, 64), 0, 0), Ok(0));
            assert_eq!(pool.decide_for_router(&fragment(&whole, 0, 16), 0, 0, true), ToRouter::Leave { held: true });
            let mut buf = [0u8; 64];
            assert_eq!(pool.next_released(&mut buf[..buf_len]), first_len, "buffer of {buf_len}");
            if first_len != 0 {
                let ip = ipv4::Packet::new_checked(&buf[..first_len]).unwrap();
                assert_eq!((ip.frag_offset(), ip.more_frags()), (16, true));
                assert_eq!(ip.payload(), &whole[20 + 16..20 + 16 + first_len - 20]);
                assert!(ip.verify_checksum());
            } else {
                assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
            }
        }
    }

    /// `Piece::of` tests the version and the header length as one range of the first byte
    /// (0x45 to 0x4F): for every first byte and total length, the answer of the two tests
    /// made apart (version 4, then a header of 20 bytes or more), then the header and total
    /// length within the bytes.
    #[test]
    fn a_piece_is_version_4_with_a_header_of_20_bytes_or_more() {
        let mut bytes = [0u8; 64];
        bytes[6..8].copy_from_slice(&0x2003u16.to_be_bytes());
        for first in 0..=u8::MAX {
            bytes[0] = first;
            for total_len in 0..=bytes.len() as u16 + 1 {
                bytes[2..4].copy_from_slice(&total_len.to_be_bytes());
                let header_len = usize::from(first & 0x0F) * 4;
                let total = usize::from(total_len);
                let expected = (first >> 4 == 4
                    && header_len >= ipv4::HEADER_LEN
                    && total <= bytes.len()
                    && header_len <= total)
                    .then(|| (&bytes[..header_len], &bytes[header_len..total], 3 * UNIT, true));
                let piece = Piece::of(&bytes).map(|p| (p.header, p.payload, p.offset, p.more));
                assert_eq!(piece, expected, "{first:#04x} total length {total_len}");
            }
        }
    }

    /// `merge` caps the block index it found or took at the pool's last (`min(BLOCKS - 1)`),
    /// which changes no index: `index_of` and `allocate` answer only indices within the pool.
    #[test]
    fn block_indices_found_or_taken_lie_within_the_pool() {
        let mut pool = Pool::new();
        let mut cursor = 0;
        let mut taken = Vec::new();
        while let Some(index) = pool.allocate(&mut cursor, 1, taken.len() + 1) {
            assert!(index < 40);
            taken.push(index);
        }
        assert_eq!(taken, (0..40).collect::<Vec<_>>());
        for (i, &index) in taken.iter().enumerate() {
            assert_eq!(pool.index_of(1, i + 1), Some(index));
        }
        assert_eq!(pool.index_of(1, 41), None);
        assert_eq!(pool.index_of(2, 1), None);
        for mut past in [40, 41, usize::MAX] {
            assert_eq!(pool.allocate(&mut past, 2, 1), None);
        }
    }

    #[test]
    fn in_order_and_reversed_give_the_original_bytes() {
        let whole = datagram(20, protocol::UDP, 7, 1000, 3);
        for reversed in [false, true] {
            let mut pool = Pool::new();
            let mut cuts = [(0, 400), (400, 800), (800, 1000)];
            if reversed {
                cuts.reverse();
            }
            assert_eq!(pool.accept(&fragment(&whole, cuts[0].0, cuts[0].1), 0, 0), Ok(0));
            assert_eq!(pool.accept(&fragment(&whole, cuts[1].0, cuts[1].1), 0, 0), Ok(0));
            assert_eq!(pool.datagram(), &[] as &[u8]);
            let last = pool.accept(&fragment(&whole, cuts[2].0, cuts[2].1), 0, 0);
            complete(&pool, &whole, last);
            assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
        }
    }

    #[test]
    fn a_key_holds_the_header_bytes_it_names_in_wire_order() {
        // Source; destination; identification, protocol and netif: whatever the other bytes.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..1000 {
            let mut h = [0u8; 24];
            for byte in h.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *byte = seed as u8;
            }
            let netif = (seed >> 8) as u8;
            let word = |b: &[u8]| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let expected = [word(&h[12..16]), word(&h[16..20]), word(&[h[4], h[5], h[9], netif])];
            assert_eq!(Key::of_bytes(&h, netif), Some(Key(expected)));
        }
        assert_eq!(Key::of_bytes(&[0x45; 19], 1), None);
    }

    #[test]
    fn a_completed_datagram_is_readable_until_the_next_mut_call_only() {
        // Completes a datagram (with a 60-byte header, the longest: it starts at the pool's
        // byte 4), then makes one `&mut` call: after each the datagram is gone.
        let calls: [fn(&mut Pool, &[u8]); 5] = [
            |pool, whole| {
                let other = datagram(60, protocol::UDP, 8, 64, 4);
                assert_eq!(pool.accept(&fragment(&other, 0, 16), 0, 0), Ok(0));
                assert_eq!(pool.accept(&fragment(whole, 0, 16), 0, 0), Ok(0));
            },
            |pool, _| assert_eq!(expire(pool, 0, 1000), 0),
            |pool, _| assert_eq!(pool.next_released(&mut [0u8; 64]), 0),
            |pool, _| pool.clear(),
            |pool, whole| {
                let bad = [&whole[..20], &[0; 4]].concat();
                assert_eq!(pool.accept(&bad, 0, 0), Err(DropReason::Fragment));
            },
        ];
        for header_len in [20, 60] {
            let whole = datagram(header_len, protocol::UDP, 7, 100, 3);
            for (i, call) in calls.iter().enumerate() {
                let mut pool = Pool::new();
                assert_eq!(pool.accept(&fragment(&whole, 0, 48), 0, 0), Ok(0));
                let last = pool.accept(&fragment(&whole, 48, 100), 0, 0);
                complete(&pool, &whole, last);
                call(&mut pool, &whole);
                assert_eq!(pool.datagram(), &[] as &[u8], "header {header_len}, call {i}");
            }
        }
    }

    #[test]
    fn header_with_options_is_taken_from_the_first_fragment() {
        let whole = datagram(28, protocol::UDP, 9, 300, 1);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&fragment(&whole, 104, 300), 0, 5), Ok(0));
        let last = pool.accept(&fragment(&whole, 0, 104), 0, 6);
        complete(&pool, &whole, last);
    }

    #[test]
    fn duplicate_is_dropped_and_the_datagram_still_completes() {
        let whole = datagram(20, protocol::ICMP, 1, 100, 0);
        let mut pool = Pool::new();
        let first = fragment(&whole, 0, 48);
        assert_eq!(pool.accept(&first, 0, 0), Ok(0));
        assert_eq!(pool.accept(&first, 0, 0), Err(DropReason::FragmentDuplicate));
        let last = pool.accept(&fragment(&whole, 48, 100), 0, 0);
        complete(&pool, &whole, last);
    }

    #[test]
    fn identical_partial_overlap_is_harmless() {
        let whole = datagram(20, protocol::UDP, 1, 200, 0);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&fragment(&whole, 0, 96), 0, 0), Ok(0));
        assert_eq!(pool.accept(&fragment(&whole, 64, 160), 0, 0), Ok(0));
        let last = pool.accept(&fragment(&whole, 152, 200), 0, 0);
        complete(&pool, &whole, last);
    }

    #[test]
    fn overlap_with_different_bytes_drops_the_datagram() {
        let whole = datagram(20, protocol::UDP, 1, 200, 0);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&fragment(&whole, 0, 96), 0, 0), Ok(0));
        let mut forged = fragment(&whole, 88, 200);
        forged[20] ^= 0x55; // payload byte 88, already held
        ipv4::Packet::new_checked(&mut forged[..]).unwrap().fill_checksum();
        assert_eq!(pool.accept(&forged, 0, 0), Err(DropReason::FragmentOverlap));
        assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
    }

    #[test]
    fn a_moving_end_is_an_overlap() {
        let whole = datagram(20, protocol::UDP, 1, 200, 0);
        let shorter = datagram(20, protocol::UDP, 1, 150, 0);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&fragment(&whole, 96, 200), 0, 0), Ok(0));
        // A second last fragment that ends elsewhere.
        assert_eq!(pool.accept(&fragment(&shorter, 96, 150), 0, 0), Err(DropReason::FragmentOverlap));
        // A middle fragment reaching past a known end.
        assert_eq!(pool.accept(&fragment(&shorter, 96, 150), 0, 0), Ok(0));
        assert_eq!(pool.accept(&fragment(&whole, 48, 192), 0, 0), Err(DropReason::FragmentOverlap));
        assert_eq!(pool.in_flight(), 0);
    }

    #[test]
    fn tiny_first_fragment_is_refused() {
        let tcp = datagram(20, protocol::TCP, 1, 100, 0);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&fragment(&tcp, 16, 100), 0, 0), Ok(0));
        assert_eq!(pool.accept(&fragment(&tcp, 0, 16), 0, 0), Err(DropReason::FragmentTooShort));
        assert_eq!(pool.in_flight(), 0);
        // 8 bytes hold a whole UDP header.
        let udp = datagram(20, protocol::UDP, 1, 100, 0);
        assert_eq!(pool.accept(&fragment(&udp, 0, 8), 0, 0), Ok(0));
    }

    #[test]
    fn datagram_over_65535_bytes_is_refused() {
        let mut pool = Reassembly::<2, 1100>::new();
        // Offset 65528 (the largest) plus 16 bytes: 65544 + 20 > 65535.
        let mut frag = datagram(20, protocol::UDP, 3, 16, 0);
        let mut ip = ipv4::Packet::new_checked(&mut frag[..]).unwrap();
        ip.set_flags_offset(8191);
        ip.fill_checksum();
        assert_eq!(pool.accept(&frag, 0, 0), Err(DropReason::FragmentTooBig));
        // Fits with a 20-byte header, not with the 60-byte one the first fragment brings.
        let mut last = datagram(20, protocol::UDP, 4, 8, 0);
        let mut ip = ipv4::Packet::new_checked(&mut last[..]).unwrap();
        ip.set_flags_offset(65_472 / 8);
        ip.fill_checksum();
        assert_eq!(pool.accept(&last, 0, 0), Ok(0));
        let whole = datagram(60, protocol::UDP, 4, 64, 0);
        assert_eq!(pool.accept(&fragment(&whole, 0, 56), 0, 0), Err(DropReason::FragmentTooBig));
        assert_eq!(pool.in_flight(), 0);
    }

    /// The largest datagrams a pool larger than 64 KiB takes complete with their whole length
    /// (the completion's length is handed from `merge` as 16 bits, and never 0).
    #[test]
    fn a_datagram_of_65535_bytes_completes_whole() {
        for header_len in [20, 60] {
            let mut pool = Reassembly::<1, 1100>::new();
            let whole = datagram(header_len, protocol::UDP, 5, 65_535 - header_len, 3);
            let payload = whole.len() - header_len;
            let mut outcome = Ok(0);
            // Last fragment first, then the rest from the start, 8,000 bytes each.
            for (offset, end) in [(64_000, payload)].into_iter().chain((0..64_000).step_by(8_000).map(|o| (o, o + 8_000))) {
                assert_eq!(outcome, Ok(0));
                outcome = pool.accept(&fragment(&whole, offset, end), 0, 0);
            }
            assert_eq!(outcome, Ok(65_535));
            assert_eq!(pool.datagram(), &whole[..]);
            assert!(ipv4::Packet::new_checked(pool.datagram()).unwrap().verify_checksum());
        }
    }

    #[test]
    fn datagram_larger_than_the_pool_is_refused() {
        let mut pool = Pool::new();
        assert_eq!(Pool::MAX_PAYLOAD, 39 * 64);
        let whole = datagram(20, protocol::UDP, 1, Pool::MAX_PAYLOAD + 8, 0);
        assert_eq!(pool.accept(&fragment(&whole, 0, 1000), 0, 0), Ok(0));
        let beyond = fragment(&whole, 1000, Pool::MAX_PAYLOAD + 8);
        assert_eq!(pool.accept(&beyond, 0, 0), Err(DropReason::FragmentBeyondLimit));
        assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
        // The largest that fits does complete.
        let fits = datagram(20, protocol::UDP, 2, Pool::MAX_PAYLOAD, 0);
        assert_eq!(pool.accept(&fragment(&fits, 1000, Pool::MAX_PAYLOAD), 0, 0), Ok(0));
        let last = pool.accept(&fragment(&fits, 0, 1000), 0, 0);
        assert_eq!(last, Ok(fits.len() as u16));
        assert_eq!(pool.datagram(), &fits[..]);
    }

    /// `whole` as sent by `src` (header checksum redone).
    fn from(src: u32, mut whole: Vec<u8>) -> Vec<u8> {
        whole[12..16].copy_from_slice(&src.to_be_bytes());
        ipv4::Packet::new_checked(&mut whole[..]).unwrap().fill_checksum();
        whole
    }

    #[test]
    fn full_slots_make_room_by_evicting_the_oldest_datagram() {
        let mut pool = Reassembly::<2, 40>::new();
        let a = from(1, datagram(20, protocol::UDP, 1, 100, 1));
        let b = from(2, datagram(20, protocol::UDP, 2, 100, 2));
        let c = from(3, datagram(20, protocol::UDP, 3, 100, 3));
        // `a` arrived first, though at a clock value that wrapped: it is still the oldest.
        assert_eq!(pool.accept(&fragment(&a, 0, 48), 0, u32::MAX - 10), Ok(0));
        assert_eq!(pool.accept(&fragment(&b, 48, 100), 0, 5), Ok(0));
        assert_eq!(pool.accept(&fragment(&c, 0, 48), 0, 6), Ok(0));
        assert_eq!((pool.in_flight(), pool.evicted()), (2, 1));
        // `a` is gone: its last piece starts over.
        assert_eq!(pool.accept(&fragment(&a, 48, 100), 0, 7), Ok(0));
        assert_eq!(pool.evicted(), 2, "`b` was the oldest then");
        let done = pool.accept(&fragment(&c, 48, 100), 0, 8);
        assert_eq!(done, Ok(c.len() as u16));
        assert_eq!(pool.datagram(), &c[..]);
    }

    /// A new datagram whose first fragment the check refuses holds no slot (`find`'s `SLOTS`,
    /// none): its release frees nothing, and a full pool evicts no one for it.
    #[test]
    fn a_refused_new_datagram_takes_nothing_from_the_others() {
        let mut pool = Reassembly::<2, 40>::new();
        let a = from(1, datagram(20, protocol::UDP, 1, 100, 1));
        let b = from(2, datagram(20, protocol::UDP, 2, 100, 2));
        assert_eq!(pool.accept(&fragment(&a, 0, 48), 0, 0), Ok(0));
        assert_eq!(pool.accept(&fragment(&b, 48, 100), 0, 1), Ok(0));
        let held = (pool.in_flight(), pool.bytes_in_use(), pool.evicted());
        assert_eq!(held.0, 2, "every slot in use");
        // A third source's TCP first fragment too short for its header (RFC 1858).
        let tcp = from(3, datagram(20, protocol::TCP, 3, 100, 3));
        assert_eq!(pool.accept(&fragment(&tcp, 0, 16), 0, 2), Err(DropReason::FragmentTooShort));
        assert_eq!((pool.in_flight(), pool.bytes_in_use(), pool.evicted()), held);
        // Both complete with their own bytes.
        assert_eq!(pool.accept(&fragment(&a, 48, 100), 0, 3), Ok(a.len() as u16));
        assert_eq!(pool.datagram(), &a[..]);
        assert_eq!(pool.accept(&fragment(&b, 0, 48), 0, 4), Ok(b.len() as u16));
        assert_eq!(pool.datagram(), &b[..]);
    }

    #[test]
    fn clear_discards_every_datagram_but_keeps_the_eviction_count() {
        // Two slots: the third datagram's first half evicts the first's.
        let mut pool = Reassembly::<2, 40>::new();
        let [a, b, c] = [1u8, 2, 3].map(|n| from(n.into(), datagram(20, protocol::UDP, n.into(), 100, n)));
        for (now, whole) in [&a, &b, &c].into_iter().enumerate() {
            assert_eq!(pool.accept(&fragment(whole, 0, 48), 0, now as u32), Ok(0));
        }
        assert_eq!(pool.accept(&fragment(&c, 48, 100), 0, 3), Ok(c.len() as u16));
        pool.clear();
        // The eviction (of `a`) stays counted: the NAT's counter is a copy of the count.
        assert_eq!((pool.in_flight(), pool.bytes_in_use(), pool.datagram()), (0, 0, &[][..]));
        assert_eq!(pool.evicted(), 1);
        // `b` is gone: its last piece starts over, and a whole datagram still goes through.
        assert_eq!(pool.accept(&fragment(&b, 48, 100), 0, 4), Ok(0));
        assert_eq!(pool.accept(&fragment(&a, 48, 100), 0, 5), Ok(0));
        assert_eq!(pool.accept(&fragment(&a, 0, 48), 0, 6), Ok(a.len() as u16));
        assert_eq!(pool.datagram(), &a[..]);
    }

    #[test]
    fn a_source_beyond_its_share_of_a_full_pool_replaces_its_own_oldest() {
        let mut pool = Reassembly::<4, 40>::new();
        let legit = from(1, datagram(20, protocol::UDP, 1, 100, 1));
        assert_eq!(pool.accept(&fragment(&legit, 0, 48), 0, 0), Ok(0));
        for ident in 0..50 {
            let stray = from(2, datagram(20, protocol::UDP, 100 + ident, 100, 2));
            assert_eq!(pool.accept(&fragment(&stray, 48, 100), 0, 1 + u32::from(ident)), Ok(0));
        }
        assert_eq!((pool.in_flight(), pool.evicted()), (4, 47));
        assert_eq!(pool.accept(&fragment(&legit, 48, 100), 0, 60), Ok(legit.len() as u16));
    }

    /// `free_slot`'s victim is always found (`victim` never answers `SLOTS` to it): a full table
    /// of any mix of two sources, at any size, takes a new datagram from either source or a
    /// third by evicting exactly one (the debug assertions in `free_slot` and `release` check
    /// the slot).
    fn full_table_always_evicts_one<const SLOTS: usize>() {
        for mix in 0..1u32 << SLOTS {
            for newcomer in 1..=3 {
                let mut pool = Reassembly::<SLOTS, 40>::new();
                for slot in 0..SLOTS {
                    let source = 1 + (mix >> slot & 1);
                    let held = from(source, datagram(20, protocol::UDP, slot as u16, 100, 1));
                    assert_eq!(pool.accept(&fragment(&held, 48, 100), 0, slot as u32), Ok(0));
                }
                let new = from(newcomer, datagram(20, protocol::UDP, 1000, 100, 2));
                assert_eq!(pool.accept(&fragment(&new, 48, 100), 0, 100), Ok(0), "{mix:b} {newcomer}");
                assert_eq!((pool.in_flight(), pool.evicted()), (SLOTS, 1), "{mix:b} {newcomer}");
            }
        }
    }

    #[test]
    fn a_full_table_of_any_mix_of_sources_evicts_one_for_a_new_datagram() {
        full_table_always_evicts_one::<1>();
        full_table_always_evicts_one::<2>();
        full_table_always_evicts_one::<3>();
        full_table_always_evicts_one::<4>();
        full_table_always_evicts_one::<5>();
    }

    #[test]
    fn fragments_arriving_on_different_netifs_belong_to_different_datagrams() {
        let mut pool = Pool::new();
        let whole = datagram(20, protocol::UDP, 1, 100, 1);
        assert_eq!(pool.accept(&fragment(&whole, 0, 48), 1, 0), Ok(0));
        assert_eq!(pool.accept(&fragment(&whole, 48, 100), 2, 0), Ok(0));
        assert_eq!(pool.in_flight(), 2);
        assert_eq!(pool.accept(&fragment(&whole, 48, 100), 1, 0), Ok(whole.len() as u16));
        assert_eq!(pool.datagram(), &whole[..]);
    }

    #[test]
    fn too_few_free_blocks_evict_the_oldest_other_datagrams() {
        // 6 blocks: a header block and up to 5 payload blocks for all datagrams together.
        let mut pool = Reassembly::<4, 6>::new();
        let a = from(1, datagram(20, protocol::UDP, 1, 256, 1));
        let b = from(2, datagram(20, protocol::UDP, 2, 256, 2));
        assert_eq!(pool.accept(&fragment(&a, 0, 192), 0, 0), Ok(0)); // 4 blocks
        assert_eq!(pool.accept(&fragment(&b, 0, 8), 0, 1), Ok(0)); // 2 blocks: pool full
        assert_eq!(pool.accept(&fragment(&b, 192, 256), 0, 2), Ok(0));
        assert_eq!((pool.in_flight(), pool.evicted()), (1, 1));
        let done = pool.accept(&fragment(&b, 8, 192), 0, 3);
        assert_eq!(done, Ok(b.len() as u16));
        assert_eq!(pool.datagram(), &b[..]);
    }

    #[test]
    fn a_released_datagram_hands_out_each_held_run_as_one_fragment() {
        let mut pool = Pool::new();
        let whole = datagram(24, protocol::UDP, 9, 300, 4);
        for (offset, end) in [(48, 96), (0, 48), (160, 300)] {
            assert_eq!(pool.accept(&fragment(&whole, offset, end), 0, 0), Ok(0));
        }
        let mut buf = [0u8; 1500];
        assert_eq!(pool.next_released(&mut buf), 0, "nothing released yet");
        assert_eq!(pool.decide_for_router(&fragment(&whole, 0, 48), 0, 0, true), ToRouter::Leave { held: true });
        // The first run keeps the first fragment's header (options included); the gap splits.
        let len = pool.next_released(&mut buf);
        assert_eq!(&buf[..len], &fragment(&whole, 0, 96)[..]);
        let len = pool.next_released(&mut buf);
        assert_eq!(&buf[..len], &fragment(&whole, 160, 300)[..]);
        assert_eq!(pool.next_released(&mut buf), 0);
        assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
        assert!(is_released(&mut pool, &fragment(&whole, 96, 160), 0));
    }

    #[test]
    fn released_datagrams_are_remembered_until_the_timeout_oldest_forgotten_first() {
        let mut pool = Reassembly::<2, 40>::new();
        let frags = first_fragments(3);
        assert_eq!(leave(&mut pool, &frags[0], 0), ToRouter::Leave { held: false });
        assert!(is_released(&mut pool, &frags[0], 1));
        assert!(!is_released(&mut pool, &frags[0], 2) && !is_released(&mut pool, &frags[1], 1));
        leave(&mut pool, &frags[1], 1);
        leave(&mut pool, &frags[2], 2);
        assert!(!is_released(&mut pool, &frags[0], 1));
        assert!(is_released(&mut pool, &frags[1], 1) && is_released(&mut pool, &frags[2], 1));
        expire(&mut pool, 15_002, 15_000);
        assert!(!is_released(&mut pool, &frags[1], 1) && is_released(&mut pool, &frags[2], 1));
        pool.clear();
        assert!(!is_released(&mut pool, &frags[2], 1));
    }

    #[test]
    fn a_released_datagram_takes_a_free_entry_else_the_last_of_the_oldest() {
        let mut pool = Reassembly::<3, 40>::new();
        let frags = first_fragments(5);
        let released = |pool: &mut Reassembly<3, 40>| frags.iter().map(|f| is_released(pool, f, 1)).collect::<Vec<_>>();
        // Equally old: the last of them gives way.
        for f in &frags[..4] {
            assert_eq!(leave(&mut pool, f, 7), ToRouter::Leave { held: false });
        }
        assert_eq!(released(&mut pool), [true, true, false, true, false]);
        // A free entry (the first's, expired) is taken before the older ones in use.
        pool.clear();
        leave(&mut pool, &frags[0], 0);
        leave(&mut pool, &frags[1], 10);
        leave(&mut pool, &frags[2], 10);
        expire(&mut pool, 15_005, 15_000);
        leave(&mut pool, &frags[3], 11);
        assert_eq!(released(&mut pool), [false, true, true, true, false]);
    }

    #[test]
    fn completion_moves_other_datagrams_blocks_without_harm() {
        let mut pool = Pool::new();
        let a = datagram(20, protocol::UDP, 1, 600, 1);
        let b = datagram(20, protocol::TCP, 2, 600, 2);
        // Interleave so that each datagram's blocks are scattered through the pool.
        for (offset, end) in [(512, 600), (0, 128), (384, 512), (128, 256)] {
            assert_eq!(pool.accept(&fragment(&b, offset, end), 0, 0), Ok(0));
            assert_eq!(pool.accept(&fragment(&a, offset, end), 0, 0), Ok(0));
        }
        assert_eq!(pool.accept(&fragment(&a, 256, 384), 0, 0), Ok(a.len() as u16));
        assert_eq!(pool.datagram(), &a[..]);
        assert_eq!(pool.accept(&fragment(&b, 256, 384), 0, 0), Ok(b.len() as u16));
        assert_eq!(pool.datagram(), &b[..]);
    }

    #[test]
    fn expiry_counts_from_the_first_fragment_across_the_clock_wrap() {
        let mut pool = Pool::new();
        let whole = datagram(20, protocol::UDP, 1, 100, 1);
        let start = u32::MAX - 5_000;
        assert_eq!(pool.accept(&fragment(&whole, 0, 48), 0, start), Ok(0));
        assert_eq!(expire(&mut pool, start.wrapping_add(15_000), 15_000), 0);
        assert_eq!(expire(&mut pool, start.wrapping_add(15_001), 15_000), 1);
        assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
        // The rest alone cannot complete any more.
        assert_eq!(pool.accept(&fragment(&whole, 48, 100), 0, 20_000), Ok(0));
        pool.clear();
        assert_eq!(pool.in_flight(), 0);
    }

    #[test]
    fn malformed_fragments_are_dropped_alone() {
        let whole = datagram(20, protocol::UDP, 1, 100, 1);
        let mut pool = Pool::new();
        assert_eq!(pool.accept(&whole, 0, 0), Err(DropReason::Fragment)); // not a fragment
        assert_eq!(pool.accept(&whole[..19], 0, 0), Err(DropReason::Fragment));
        assert_eq!(pool.accept(&fragment(&whole, 0, 48), 0, 0), Ok(0));
        // A middle fragment whose length is not a multiple of 8.
        let odd = fragment(&whole, 48, 100);
        let mut odd = odd[..64].to_vec(); // 44 bytes of payload
        let mut ip = ipv4::Packet::new_quoted(&mut odd[..]).unwrap();
        ip.set_total_len(64);
        ip.set_flags_offset(0x2000 | 6);
        ip.fill_checksum();
        assert_eq!(pool.accept(&odd, 0, 0), Err(DropReason::Fragment));
        assert_eq!(pool.in_flight(), 1);
    }

    /// `accept`'s RFC 791 test: a fragment (MF set or an offset) that is not empty, and but
    /// for the last a multiple of 8 bytes; every other is dropped as `Fragment`.
    #[test]
    fn only_rfc_791_fragments_are_taken() {
        for more in [false, true] {
            for offset_units in [0u16, 1, 2] {
                for len in [0, 1, 7, 8, 9, 16] {
                    let mut bytes = datagram(20, protocol::UDP, 7, len, 1);
                    let mut ip = ipv4::Packet::new_quoted(&mut bytes[..]).unwrap();
                    ip.set_flags_offset(u16::from(more) << 13 | offset_units);
                    ip.fill_checksum();
                    let refused = (!more && offset_units == 0) || len == 0 || (more && len % 8 != 0);
                    let outcome = Pool::new().accept(&bytes, 0, 0);
                    assert_eq!(outcome == Err(DropReason::Fragment), refused, "MF {more} offset {offset_units} {len} B");
                }
            }
        }
    }

    #[test]
    fn a_units_mask_holds_the_unit_of_every_byte_of_its_span() {
        for to in 1..=BLOCK {
            for from in 0..to {
                let expected = (from..to).fold(0u8, |mask, byte| mask | 1 << (byte / UNIT));
                assert_eq!(units_mask(from, to), expected, "{from}..{to}");
                // The same span as payload offsets of a later block.
                assert_eq!(units_mask(3 * BLOCK + from, 3 * BLOCK + to), expected, "{from}..{to} in block 4");
            }
        }
    }

    #[test]
    fn ram_is_what_the_docs_say() {
        // 64 bytes of pool + 4 of bookkeeping per block, 24 per slot, 20 per released
        // datagram, plus two words, a counter and the 20-byte release cursor.
        let word = core::mem::size_of::<usize>();
        assert_eq!(core::mem::size_of::<Option<(Key, u16)>>(), 20);
        let expected = (100 * (BLOCK + 4) + 4 * 24 + 4 * 20 + 2 * word + 4 + 20).next_multiple_of(word);
        assert_eq!(core::mem::size_of::<Reassembly<4, 100>>(), expected);
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        /// A small deterministic shuffle so one `u64` drives the order.
        fn shuffle<T>(items: &mut [T], mut seed: u64) {
            for i in (1..items.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                items.swap(i, (seed % (i as u64 + 1)) as usize);
            }
        }

        /// Cut points (multiples of 8 strictly inside the payload) from raw numbers.
        fn cuts(len: usize, raw: &[u16]) -> Vec<usize> {
            let mut cuts: Vec<usize> =
                raw.iter().map(|&r| usize::from(r) % len / 8 * 8).filter(|&c| c > 0 && c < len).collect();
            cuts.push(0);
            cuts.push(len);
            cuts.sort_unstable();
            cuts.dedup();
            cuts
        }

        /// What the model expects after adding `offset..end`, given the bytes already covered.
        fn model(covered: &mut [bool], offset: usize, end: usize, first: &mut bool, last: &mut bool) -> bool {
            let len = covered.len();
            let mut new = covered[offset..end].iter().any(|&c| !c);
            covered[offset..end].iter_mut().for_each(|c| *c = true);
            if offset == 0 && !*first {
                *first = true;
                new = true;
            }
            if end == len && !*last {
                *last = true;
                new = true;
            }
            new
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// `Piece::of` takes exactly the fragments `ipv4::Packet::new_checked` takes, and
            /// reads the same header, payload, offset and MF flag from them.
            #[test]
            fn a_piece_is_what_the_ipv4_parser_reads(
                mut bytes in proptest::collection::vec(any::<u8>(), 0..80),
                ver_ihl in 0x40u8..0x50,
                total_len in 0u16..90,
                flags_offset in any::<u16>(),
                plausible in any::<bool>(),
            ) {
                // Mostly well-formed version, header length and total length, else as drawn.
                if plausible && bytes.len() >= 4 {
                    bytes[0] = ver_ihl;
                    bytes[2..4].copy_from_slice(&total_len.to_be_bytes());
                }
                if bytes.len() >= 8 {
                    bytes[6..8].copy_from_slice(&flags_offset.to_be_bytes());
                }
                let expected = ipv4::Packet::new_checked(&bytes[..]).ok().map(|ip| {
                    (bytes[..ip.header_len()].to_vec(), ip.payload().to_vec(), ip.frag_offset(), ip.more_frags())
                });
                let piece = Piece::of(&bytes).map(|p| (p.header.to_vec(), p.payload.to_vec(), p.offset, p.more));
                prop_assert_eq!(piece, expected);
            }

            /// Random datagrams cut into random (possibly overlapping) fragment sets, interleaved
            /// and delivered in random order with duplicates, come out byte for byte.
            #[test]
            fn any_order_with_duplicates_gives_the_exact_bytes(
                specs in proptest::collection::vec(
                    (16usize..2000, any::<u8>(), proptest::collection::vec(any::<u16>(), 1..12),
                     proptest::collection::vec(any::<u16>(), 0..6), proptest::collection::vec(any::<u8>(), 0..6)),
                    1..4),
                options in any::<bool>(),
                seed in any::<u64>(),
            ) {
                let mut pool = Reassembly::<4, 160>::new();
                let mut stream = Vec::new();
                let mut wholes = Vec::new();
                for (n, (len, fill, raw, refrag, dups)) in specs.iter().enumerate() {
                    let header_len = if options && n == 0 { 24 } else { 20 };
                    let whole = datagram(header_len, protocol::UDP, n as u16, *len, *fill);
                    let mut pieces = Vec::new();
                    let primary = cuts(*len, raw);
                    pieces.extend(primary.windows(2).map(|w| (w[0], w[1])));
                    if primary.len() == 2 {
                        pieces = std::vec![(0, 8), (8, *len)];
                    }
                    // A second, differently cut copy of some pieces: overlaps with equal bytes.
                    let second = cuts(*len, refrag);
                    pieces.extend(second.windows(2).step_by(2).map(|w| (w[0], w[1])).filter(|&(a, b)| (a, b) != (0, *len)));
                    for &d in dups {
                        let piece = pieces[usize::from(d) % pieces.len()];
                        pieces.push(piece);
                    }
                    stream.extend(pieces.into_iter().map(|(a, b)| (n, a, b)));
                    wholes.push(whole);
                }
                shuffle(&mut stream, seed | 1);
                let mut state: Vec<(Vec<bool>, bool, bool, bool)> =
                    wholes.iter().map(|w| (std::vec![false; w.len() - ipv4::Packet::new_checked(&w[..]).unwrap().header_len()], false, false, false)).collect();
                for (n, offset, end) in stream {
                    let (covered, first, last, done) = &mut state[n];
                    if *done {
                        continue;
                    }
                    let new = model(covered, offset, end, first, last);
                    let outcome = pool.accept(&fragment(&wholes[n], offset, end), 0, 7);
                    if covered.iter().all(|&c| c) {
                        prop_assert_eq!(outcome, Ok(wholes[n].len() as u16));
                        prop_assert_eq!(pool.datagram(), &wholes[n][..]);
                        *done = true;
                    } else if new {
                        prop_assert_eq!(outcome, Ok(0));
                    } else {
                        prop_assert_eq!(outcome, Err(DropReason::FragmentDuplicate));
                    }
                }
                prop_assert!(state.iter().all(|s| s.3));
                prop_assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
            }

            /// A fragment overlapping held bytes with different bytes drops the whole datagram,
            /// whatever fragments come after.
            #[test]
            fn overlap_with_different_bytes_is_dropped(
                len in 24usize..1500,
                raw in proptest::collection::vec(any::<u16>(), 1..10),
                pick in any::<u16>(),
                (x_start, x_len, flip) in (any::<u16>(), 1usize..100, any::<u16>()),
                seed in any::<u64>(),
            ) {
                let whole = datagram(20, protocol::UDP, 5, len, 9);
                let mut pieces: Vec<(usize, usize)> = cuts(len, &raw).windows(2).map(|w| (w[0], w[1])).collect();
                if pieces.len() == 1 {
                    pieces = std::vec![(0, 8), (8, len)];
                }
                let victim = pieces.remove(usize::from(pick) % pieces.len());
                // The forged fragment: 8-aligned, at least 8 bytes, meets the victim.
                let a = (victim.0 + usize::from(x_start) % (victim.1 - victim.0)) / 8 * 8;
                let a = a.saturating_sub(x_len / 8 * 8 % 64);
                let b = (a + x_len.max(8)).div_ceil(8) * 8;
                let b = if b >= len { len } else { b };
                let overlap = (a.max(victim.0), b.min(victim.1));
                prop_assume!(overlap.0 < overlap.1 && b - a >= 8 && (a, b) != (0, len));
                let flip_at = overlap.0 + usize::from(flip) % (overlap.1 - overlap.0);
                let mut forged = fragment(&whole, a, b);
                let header_len = 20;
                forged[header_len + flip_at - a] ^= 0xA5;
                ipv4::Packet::new_checked(&mut forged[..]).unwrap().fill_checksum();

                let mut pool = Reassembly::<4, 40>::new();
                prop_assert_eq!(pool.accept(&fragment(&whole, victim.0, victim.1), 0, 0), Ok(0));
                prop_assert_eq!(pool.accept(&forged, 0, 0), Err(DropReason::FragmentOverlap));
                prop_assert_eq!((pool.in_flight(), pool.bytes_in_use()), (0, 0));
                shuffle(&mut pieces, seed | 1);
                for (a, b) in pieces {
                    prop_assert_ne!(pool.accept(&fragment(&whole, a, b), 0, 0), Ok(whole.len() as u16));
                }
            }
        }
    }
}
