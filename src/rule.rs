//! Interface-based SNAT rules: which forwarded packets get their source translated.
//!
//! Uses nothing else in the crate.

/// One rule, in lwIP netif indices (`netif_get_index()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Everything forwarded from this netif, whichever netif it leaves by.
    Source(u8),
    /// Everything forwarded out of this netif, wherever it came from.
    Outbound(u8),
    /// Everything forwarded from the first netif out of the second.
    Pair(u8, u8),
}

impl Rule {
    /// True when a packet forwarded from `input` to `output` is to be translated. The rule
    /// itself is written once, over the form the rules keep it in ([`Slot::matches`], which
    /// the scans call on the stored slots).
    #[inline(always)]
    pub fn matches(&self, input: u8, output: u8) -> bool {
        Slot::of(*self).matches(u32::from(input), u32::from(output))
    }
}

/// How a forwarded packet relates to the rules. A whole word (`repr(u32)`): the out-of-line
/// `direction_of` returns it in a register its caller tests without zero-extending a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Direction {
    /// A rule matches: translate the source.
    Outbound,
    /// It goes the opposite way of a rule (from the outside straight to an inside address).
    Reverse,
    /// No rule concerns it: lwIP forwards it as it is.
    Unrelated,
}

/// Why a rule could not be added or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// Every rule slot is in use.
    Full,
    /// The same rule is installed already.
    Exists,
    /// No such rule is installed.
    NotFound,
}

impl core::fmt::Display for RuleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RuleError::Full => "every rule slot is in use",
            RuleError::Exists => "the rule is installed already",
            RuleError::NotFound => "no such rule is installed",
        })
    }
}

impl core::error::Error for RuleError {}

/// A rule slot, four bytes: the rule's kind ([`SOURCE`], [`OUTBOUND`], [`PAIR`]; 0 in a free
/// slot, so the kind doubles as the in-use flag), a byte 0, its first netif and a pair's second
/// netif (0 for the other kinds). Every byte is defined, so a slot is found by one compare of
/// aligned words (the enum beside a flag had a byte of no value and was compared field by
/// field: `slot_holding` 70 -> 30 bytes on thumbv7em). Not `Option<Rule>`: its `None` is a
/// non-zero niche, which would move a `static` NAT from `.bss` to `.data`; a free slot here is
/// all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(4))]
struct Slot([u8; 4]);

/// The kinds of rule, as a [`Slot`]'s first byte: the enum's order, from 1 (a pair's, 3, is
/// what the matches leave once the others are tested: named only by the tests).
const SOURCE: u8 = 1;
const OUTBOUND: u8 = 2;
#[cfg(test)]
const PAIR: u8 = 3;

/// A slot not in use: every one is exactly this (`new` fills the slots with it, `remove`
/// writes it, and a slot is otherwise only written in use), so `add` finds a free slot by
/// equality, with the search that finds a rule (test `a_slot_not_in_use_is_free`).
const FREE: Slot = Slot([0; 4]);

impl Slot {
    /// The slot holding `rule`. The kind as the enum's index from [`SOURCE`]: written as the
    /// constants, the full build took 32 bytes more, the minimal 26.
    fn of(rule: Rule) -> Slot {
        let (index, first, second) = match rule {
            Rule::Source(src) => (0, src, 0),
            Rule::Outbound(out) => (1, out, 0),
            Rule::Pair(src, out) => (2, src, out),
        };
        Slot([index + SOURCE, 0, first, second])
    }

    /// The rule it holds, `None` when it is free.
    fn rule(self) -> Option<Rule> {
        match self.0 {
            [0, ..] => None,
            [SOURCE, _, src, _] => Some(Rule::Source(src)),
            [OUTBOUND, _, out, _] => Some(Rule::Outbound(out)),
            [_, _, src, out] => Some(Rule::Pair(src, out)),
        }
    }

    /// The same slot, read as one word: the scans out of the fast path take fewer bytes so
    /// (minimal `direction_of` 90 -> 84, the pipeline's `is_outside` scan 10 less) than
    /// reading its bytes one by one, which the fast path's takes fewer instructions with.
    #[inline(always)]
    fn loaded(&self) -> Slot {
        Slot(u32::from_ne_bytes(self.0).to_ne_bytes())
    }

    /// True when the rule it holds translates packets forwarded from `input` to `output`
    /// (netifs as words), false for a free slot (kind 0): a source rule matches its input
    /// netif, an outbound rule its output netif, a pair both. [`Rule::matches`] is this. Its
    /// bytes read one by one: read as one word, the fast path's rule scan took another
    /// register, and every established packet of the full build one more M4 instruction;
    /// decoded to a [`Rule`] first and matched there, the full build took 52 bytes more.
    #[inline(always)]
    fn matches(&self, input: u32, output: u32) -> bool {
        let [kind, _, first, second] = self.0;
        let first = u32::from(first);
        kind != 0
            && match kind {
                SOURCE => input == first,
                OUTBOUND => output == first,
                _ => input == first && output == u32::from(second),
            }
    }
}

/// Up to `R` rules.
#[derive(Debug)]
pub struct Rules<const R: usize> {
    slots: [Slot; R],
    /// The pair [`translates_remembered`](Self::translates_remembered) last scanned for, as
    /// `input << 8 | output` in the low half, and its answer in bit 16: one word, one load for
    /// both (kept as a `u16` and a `bool` with the slots' kind in their first byte, the fast
    /// path held one more register and each inbound packet of the full build took one more M4
    /// instruction). The pair compared as a `u16`, which the host compares in memory (as a
    /// masked word, its outbound rows took 2 to 5 more instructions). Every change to the
    /// rules resets it to the pair (0, 0) (zero, so a `static` NAT stays in `.bss`). Only the
    /// fast path reads it: kept with it alone.
    #[cfg(any(test, feature = "fast-path"))]
    memo: u32,
}

impl<const R: usize> Rules<R> {
    pub const fn new() -> Self {
        Rules {
            slots: [FREE; R],
            #[cfg(any(test, feature = "fast-path"))]
            memo: 0,
        }
    }

    /// Removes every rule. The NAT's reset starts from all-zero memory instead; the tests
    /// and, through `internals`, the benches and fuzzers call it.
    #[cfg(any(test, feature = "internals"))]
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    pub fn add(&mut self, rule: Rule) -> Result<(), RuleError> {
        if self.slot_of(rule).is_some() {
            return Err(RuleError::Exists);
        }
        // A slot not in use holds exactly `FREE` (see `FREE`): the same search finds one.
        let slot = self.slot_holding(FREE).ok_or(RuleError::Full)?;
        *slot = Slot::of(rule);
        self.forget();
        Ok(())
    }

    pub fn remove(&mut self, rule: Rule) -> Result<(), RuleError> {
        let slot = self.slot_of(rule).ok_or(RuleError::NotFound)?;
        *slot = FREE;
        self.forget();
        Ok(())
    }

    /// Resets the remembered answer after a change to the rules: to that for the pair (0, 0).
    /// Without the fast path nothing is remembered (nothing would read it).
    fn forget(&mut self) {
        #[cfg(any(test, feature = "fast-path"))]
        {
            // The same answer as `translates`, from the out-of-line scan `direction` already
            // holds: a call rather than another copy of the scan.
            self.memo = u32::from(self.direction(0, 0) == Direction::Outbound) << 16;
        }
    }

    /// The slot holding `rule`. The slot itself, not its index: removing then frees it
    /// without another bounds check.
    fn slot_of(&mut self, rule: Rule) -> Option<&mut Slot> {
        self.slot_holding(Slot::of(rule))
    }

    /// The first slot equal to `slot`: one in use holding a rule, or a free one (`FREE`). Out
    /// of line: adding (both searches) and removing share it.
    #[inline(never)]
    fn slot_holding(&mut self, slot: Slot) -> Option<&mut Slot> {
        // An index walk, not `iter_mut().find`: less code (as in reass.rs).
        let mut i = 0;
        loop {
            if *self.slots.get(i)? == slot {
                return self.slots.get_mut(i);
            }
            i += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Rule> + '_ {
        self.slots.iter().filter_map(|s| s.rule())
    }

    /// True when a rule translates packets forwarded from `input` to `output`.
    #[inline(always)]
    pub fn translates(&self, input: u8, output: u8) -> bool {
        let (input, output) = (u32::from(input), u32::from(output));
        self.slots.iter().any(|s| s.matches(input, output))
    }

    /// [`translates`](Self::translates), remembering its answer for the last pair asked about:
    /// the fast path asks about the same pair (the LAN and the WAN) for nearly every packet, so
    /// the rules are scanned once per rule change or change of pair, not once per packet.
    #[cfg(any(test, feature = "fast-path"))]
    #[inline(always)]
    pub fn translates_remembered(&mut self, input: u8, output: u8) -> bool {
        let pair = u16::from(input) << 8 | u16::from(output);
        if pair != self.memo as u16 {
            self.memo = u32::from(pair) | u32::from(self.translates(input, output)) << 16;
        }
        self.memo >> 16 != 0
    }

    /// True when a rule translates packets leaving by `netif`: it is the outside of the NAT.
    /// With the fast path the NAT reads the bit `Nat::recount_rules` marks per rule instead,
    /// and this is what its tests check that bit against.
    #[cfg(any(test, not(feature = "fast-path")))]
    pub fn is_outside(&self, netif: u8) -> bool {
        self.slots.iter().any(|s| match s.loaded().0 {
            [0, ..] => false,
            [SOURCE, _, src, _] => netif != src,
            [OUTBOUND, _, out, _] | [_, _, _, out] => netif == out,
        })
    }

    /// Classifies a packet forwarded from `input` to `output`: outbound when a rule matches
    /// it, else reverse when one matches the opposite way. One pass over the rules asks both.
    /// Out of line: in line, the general pipeline around its one call took more flash than
    /// the call costs (full build 142 bytes more, minimal 4 fewer).
    ///
    /// The netifs go to the loop as whole words: a callee takes its `u8` arguments as the
    /// caller's register holds them and zero-extends each before comparing (thumbv7em), while
    /// the caller's bytes, loaded, are zero-extended already.
    #[inline(always)]
    pub fn direction(&self, input: u8, output: u8) -> Direction {
        self.direction_of(u32::from(input), u32::from(output))
    }

    #[inline(never)]
    fn direction_of(&self, input: u32, output: u32) -> Direction {
        let mut direction = Direction::Unrelated;
        for slot in &self.slots {
            let slot = &slot.loaded();
            if slot.matches(input, output) {
                return Direction::Outbound;
            }
            if slot.matches(output, input) {
                direction = Direction::Reverse;
            }
        }
        direction
    }
}

impl<const R: usize> Default for Rules<R> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAN: u8 = 1;
    const WAN: u8 = 2;
    const DMZ: u8 = 3;

    #[test]
    fn source_rule() {
        let mut rules = Rules::<4>::new();
        rules.add(Rule::Source(LAN)).unwrap();
        assert_eq!(rules.direction(LAN, WAN), Direction::Outbound);
        assert_eq!(rules.direction(LAN, DMZ), Direction::Outbound);
        assert_eq!(rules.direction(WAN, LAN), Direction::Reverse);
        assert_eq!(rules.direction(WAN, DMZ), Direction::Unrelated);
    }

    #[test]
    fn outbound_and_pair_rules() {
        let mut rules = Rules::<4>::new();
        rules.add(Rule::Outbound(WAN)).unwrap();
        assert_eq!(rules.direction(DMZ, WAN), Direction::Outbound);
        assert_eq!(rules.direction(WAN, DMZ), Direction::Reverse);
        rules.remove(Rule::Outbound(WAN)).unwrap();
        rules.add(Rule::Pair(LAN, WAN)).unwrap();
        assert_eq!(rules.direction(LAN, WAN), Direction::Outbound);
        assert_eq!(rules.direction(LAN, DMZ), Direction::Unrelated);
        assert_eq!(rules.direction(WAN, LAN), Direction::Reverse);
        assert_eq!(rules.direction(DMZ, LAN), Direction::Unrelated);
    }

    #[test]
    fn outside_is_where_translated_packets_leave() {
        let mut rules = Rules::<4>::new();
        assert!(!rules.is_outside(WAN));
        rules.add(Rule::Source(LAN)).unwrap();
        assert!(rules.is_outside(WAN) && rules.is_outside(DMZ) && !rules.is_outside(LAN));
        rules.clear();
        rules.add(Rule::Pair(LAN, WAN)).unwrap();
        assert!(rules.is_outside(WAN) && !rules.is_outside(DMZ) && !rules.is_outside(LAN));
    }

    #[test]
    fn the_remembered_answer_follows_every_rule_change() {
        let mut rules = Rules::<4>::new();
        let pairs = [(DMZ, WAN), (LAN, WAN), (LAN, DMZ), (WAN, LAN), (0, 0), (0, WAN), (DMZ, WAN)];
        // Each pair twice in a row (the second answer remembered); the last pair asked before a
        // change is the first asked after it.
        let check = |rules: &mut Rules<4>| {
            for (input, output) in pairs {
                for _ in 0..2 {
                    assert_eq!(rules.translates_remembered(input, output), rules.translates(input, output));
                }
            }
        };
        check(&mut rules);
        // (DMZ, WAN) turns translated, stays so, turns untranslated and back.
        let changes = [
            (true, Rule::Pair(DMZ, WAN)),
            (true, Rule::Outbound(WAN)),
            (false, Rule::Pair(DMZ, WAN)),
            (false, Rule::Outbound(WAN)),
            (true, Rule::Source(LAN)),
            (true, Rule::Source(DMZ)),
            (true, Rule::Outbound(0)),
            (false, Rule::Source(DMZ)),
        ];
        for (add, rule) in changes {
            if add {
                rules.add(rule).unwrap();
            } else {
                rules.remove(rule).unwrap();
            }
            check(&mut rules);
        }
        rules.add(Rule::Outbound(WAN)).unwrap();
        assert!(rules.translates_remembered(DMZ, WAN));
        rules.clear();
        assert!(!rules.translates_remembered(DMZ, WAN));
        check(&mut rules);
    }

    /// A slot's first byte is its kind, 0 only in a free slot.
    #[test]
    fn a_slot_starts_with_its_kind() {
        let slots = [Slot::of(Rule::Source(LAN)), Slot::of(Rule::Outbound(WAN)), Slot::of(Rule::Pair(LAN, WAN))];
        assert_eq!(slots.map(|s| s.0), [[SOURCE, 0, LAN, 0], [OUTBOUND, 0, WAN, 0], [PAIR, 0, LAN, WAN]]);
        assert_eq!(Slot::of(Rule::Pair(0, 0)).0, [PAIR, 0, 0, 0], "netif 0 in use");
        assert_eq!(FREE.rule(), None);
    }

    #[test]
    fn add_remove_errors() {
        let mut rules = Rules::<1>::new();
        rules.add(Rule::Source(LAN)).unwrap();
        assert_eq!(rules.add(Rule::Source(LAN)), Err(RuleError::Exists));
        assert_eq!(rules.add(Rule::Source(DMZ)), Err(RuleError::Full));
        assert_eq!(rules.remove(Rule::Source(WAN)), Err(RuleError::NotFound));
        rules.remove(Rule::Source(LAN)).unwrap();
        assert_eq!(rules.iter().count(), 0);
    }

    /// A slot not in use is exactly `FREE`, which `add` relies on to find one by equality: over
    /// a long run of adds and removes (netif 0 too), the slots match a model that takes the
    /// first slot not in use, as a search of `used` alone would.
    #[test]
    fn a_slot_not_in_use_is_free() {
        const KINDS: [fn(u8, u8) -> Rule; 3] = [|a, _| Rule::Source(a), |_, b| Rule::Outbound(b), Rule::Pair];
        let mut rules = Rules::<4>::new();
        let mut model: [Option<Rule>; 4] = [None; 4];
        let mut x = 0x2545_F491u32;
        for step in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let rule = KINDS[(x % 3) as usize]((x >> 8) as u8 % 3, (x >> 16) as u8 % 3);
            if x >> 28 == 0 {
                rules.clear();
                model = [None; 4];
            } else if x & 1 << 29 == 0 {
                let expected = if model.contains(&Some(rule)) {
                    Err(RuleError::Exists)
                } else if let Some(free) = model.iter_mut().find(|m| m.is_none()) {
                    *free = Some(rule);
                    Ok(())
                } else {
                    Err(RuleError::Full)
                };
                assert_eq!(rules.add(rule), expected, "step {step}");
            } else {
                let expected = match model.iter_mut().find(|m| **m == Some(rule)) {
                    Some(held) => {
                        *held = None;
                        Ok(())
                    }
                    None => Err(RuleError::NotFound),
                };
                assert_eq!(rules.remove(rule), expected, "step {step}");
            }
            for (slot, held) in rules.slots.iter().zip(&model) {
                match held {
                    Some(rule) => assert_eq!((*slot, slot.rule()), (Slot::of(*rule), Some(*rule)), "step {step}"),
                    None => assert_eq!(*slot, FREE, "step {step}"),
                }
            }
        }
    }
}
