//! External port (and ICMP identifier) choice.
//!
//! In order of preference (RFC 4787 REQ-3, 3a, 4; RFC 6056):
//! 1. the inside port itself, when no other mapping uses it on that netif and it is not in
//!    lwIP's own ephemeral range (0xC000–0xFFFF), so the router's own sockets never collide;
//! 2. a random port of the same class (1–1023 for privileged ports, the configured range
//!    otherwise) with the same parity, a few tries;
//! 3. a sweep of that class from a random start, same parity first, then any parity.
//!
//! ICMP identifiers have no class or parity: the identifier itself, else any free one.

use core::num::NonZeroU32;

use super::Protocol;
use crate::random::Random;

/// First of lwIP's own ephemeral ports (`TCP_LOCAL_PORT_RANGE_START`): never handed out.
pub const LWIP_EPHEMERAL_START: u16 = 0xC000;

/// Random tries before the sweep.
const RANDOM_TRIES: u32 = 16;

/// Picks an external port for `in_port` that `taken` says is free, or `None` when the class
/// is exhausted.
pub fn allocate(
    protocol: Protocol,
    in_port: u16,
    range: (u16, u16),
    random: &mut Random,
    taken: impl Fn(u16) -> bool,
) -> Option<u16> {
    // Port 0 is never handed out. Every candidate but the inside port lies in a class from
    // `low` up, at least 1 (the configured range starts at 1024 or above: `Config::validate`),
    // so the preservation test below keeps an inside port of 0 out, with no zero test of each
    // candidate (one shape for every build: full 8 B and thumbv7em minimal 2 B less than that
    // test, thumbv6m minimal 8 B more).
    // The parity bit to keep as a mask (ICMP: none), so a port of the other parity is one
    // test on any protocol, with no `Option` to match.
    let (low, high, parity) = match protocol {
        Protocol::Icmp => (1, u16::MAX, 0),
        _ if in_port < 1024 => (1, 1023, 1),
        _ => (range.0, range.1, 1),
    };
    let other_parity = |port: u16| (port ^ in_port) & parity != 0;
    // The inside port is kept when (but for an ICMP identifier) it is below lwIP's ephemeral
    // ports, and when it is not 0 (see above): the port less 1, wrapping (0 becomes the
    // largest), below the protocol's limit, one compare (the limit from a match: full 34 B
    // less than an `if` in the compare).
    let limit = match protocol {
        Protocol::Icmp => u16::MAX,
        _ => LWIP_EPHEMERAL_START - 1,
    };
    let preservable = in_port.wrapping_sub(1) < limit;
    // Non-zero by type, so `%` below has no division-by-zero panic path.
    let span = NonZeroU32::MIN.saturating_add(u32::from(high.wrapping_sub(low)));
    // Every candidate in one loop, so the caller's test and the random draw are compiled once:
    // step 0 the inside port (skipped when it may not be kept); steps 1..=RANDOM_TRIES random
    // ports; then two rounds over the class from a random start (drawn at the first of them),
    // the first round taking only ports of the same parity, the second any. An empty class
    // (`low > high`) has step 0 only.
    let rounds = span.get().saturating_mul(2);
    let steps = if low > high { 1 } else { RANDOM_TRIES.saturating_add(1).saturating_add(rounds) };
    let mut start = 0;
    for step in u32::from(!preservable)..steps {
        let port = match step.checked_sub(1) {
            None => in_port,
            Some(try_) => {
                // The sweep's position `i`; a random try is a sweep's first step (0) from a
                // start of its own, so both share one draw and one port formula.
                let sweep = try_ >= RANDOM_TRIES;
                let i = if sweep { try_.wrapping_sub(RANDOM_TRIES) } else { 0 };
                if i == 0 {
                    start = random.below(span.get());
                }
                let port = (u32::from(low) + start.wrapping_add(i) % span) as u16;
                match sweep {
                    _ if !other_parity(port) => port,
                    // A random port of the other parity: its neighbour above, within the class.
                    false => port + u16::from(port < high),
                    // The sweep's first round takes only ports of the same parity.
                    true if i < span.get() => continue,
                    true => port,
                }
            }
        };
        if !taken(port) {
            return Some(port);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{FixedTable, Session};

    fn table_with(ports: &[u16]) -> FixedTable<64> {
        let mut t = FixedTable::new();
        for &p in ports {
            t.insert(Session {
                inside: 1,
                in_port: p,
                ext_port: p,
                remote: 2,
                remote_port: 3,
                netif: 1,
                ..Default::default()
            })
            .unwrap();
        }
        t
    }

    const RANGE: (u16, u16) = (1024, 0xBFFF);

    #[test]
    fn preserves_a_free_port() {
        let t = table_with(&[]);
        let mut r = Random::new([1, 1]);
        assert_eq!(allocate(Protocol::Udp, 5353, RANGE, &mut r, |p| t.ext_port_in_use(1, p)), Some(5353));
        assert_eq!(allocate(Protocol::Udp, 123, RANGE, &mut r, |p| t.ext_port_in_use(1, p)), Some(123));
    }

    #[test]
    fn taken_port_gets_same_class_and_parity() {
        let t = table_with(&[123, 5000, 5001]);
        let mut r = Random::new([1, 2]);
        for _ in 0..50 {
            let low = allocate(Protocol::Udp, 123, RANGE, &mut r, |p| t.ext_port_in_use(1, p)).unwrap();
            assert!(low < 1024 && low != 123 && low & 1 == 1, "{low}");
            let high = allocate(Protocol::Tcp, 5000, RANGE, &mut r, |p| t.ext_port_in_use(1, p)).unwrap();
            assert!((1024..0xC000).contains(&high) && high & 1 == 0 && high != 5000, "{high}");
        }
    }

    #[test]
    fn never_preserves_into_lwip_ephemeral_range() {
        let t = table_with(&[]);
        let mut r = Random::new([3, 4]);
        let p = allocate(Protocol::Tcp, 0xC123, RANGE, &mut r, |p| t.ext_port_in_use(1, p)).unwrap();
        assert!(p < LWIP_EPHEMERAL_START);
        assert_eq!(p & 1, 1);
    }

    #[test]
    fn port_on_another_netif_is_free() {
        let t = table_with(&[5000]);
        let mut r = Random::new([1, 1]);
        assert_eq!(allocate(Protocol::Udp, 5000, RANGE, &mut r, |p| t.ext_port_in_use(2, p)), Some(5000));
    }

    #[test]
    fn exhausted_range_yields_none_and_sweep_finds_last_port() {
        let t = table_with(&[2000, 2001, 2002]);
        let mut r = Random::new([9, 9]);
        assert_eq!(allocate(Protocol::Udp, 2000, (2000, 2002), &mut r, |p| t.ext_port_in_use(1, p)), None);
        let t = table_with(&[2000, 2002]);
        // Only 2001 is free: odd, while the inside port is even; any parity beats failing.
        assert_eq!(allocate(Protocol::Udp, 2000, (2000, 2002), &mut r, |p| t.ext_port_in_use(1, p)), Some(2001));
    }

    /// Port 0 is never handed out: not as a kept inside port of 0 (TCP and UDP, whose 0 is a
    /// low port, and an ICMP identifier of 0), nor as a candidate of any class, and with every
    /// candidate but 0 taken the answer is `None`. The caller is never even asked about 0.
    #[test]
    fn port_zero_is_never_handed_out() {
        let mut r = Random::new([5, 6]);
        let asked_zero = core::cell::Cell::new(false);
        let only_zero_free = |p: u16| {
            asked_zero.set(asked_zero.get() | (p == 0));
            p != 0
        };
        let none_taken = |p: u16| {
            asked_zero.set(asked_zero.get() | (p == 0));
            false
        };
        for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
            // Low ports (an inside port of 0, and another low one), ephemeral ones (the
            // configured range, from an inside port in lwIP's range and below it).
            for in_port in [0, 1, 1023, 1024, 5000, 0xC000, 0xFFFF] {
                for range in [RANGE, (1024, u16::MAX)] {
                    assert_eq!(allocate(protocol, in_port, range, &mut r, only_zero_free), None, "{protocol:?} {in_port}");
                    let got = allocate(protocol, in_port, range, &mut r, none_taken);
                    assert!(got.is_some_and(|p| p != 0), "{protocol:?} {in_port} {got:?}");
                }
            }
            // A free inside port of 0 is not kept; every other candidate is.
            for _ in 0..50 {
                assert_ne!(allocate(protocol, 0, RANGE, &mut r, |_| false), Some(0), "{protocol:?}");
            }
        }
        assert!(!asked_zero.get());
    }

    /// The choices for one key, pinned: random tries, the sweep in both rounds, ICMP, an
    /// inverted range. A rewrite of the search must make the same choices from the same key
    /// (and draw the same random numbers: each case continues the one generator).
    #[test]
    fn choices_for_one_key_are_pinned() {
        let mut r = Random::new([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);
        let mut got = [0u16; 10];
        // Every even port from 2000 to 2010 taken, and a random try that lands on a taken one.
        let busy = |p: u16| (2000..=2010).contains(&p) && p & 1 == 0;
        got[0] = allocate(Protocol::Udp, 2000, (2000, 2010), &mut r, busy).unwrap_or(0);
        got[1] = allocate(Protocol::Tcp, 2004, (2000, 2010), &mut r, |p| p != 2007).unwrap_or(0);
        got[2] = allocate(Protocol::Tcp, 40000, RANGE, &mut r, |p| p % 3 != 0).unwrap_or(0);
        got[3] = allocate(Protocol::Udp, 80, RANGE, &mut r, |p| p < 1000).unwrap_or(0);
        got[4] = allocate(Protocol::Icmp, 7, RANGE, &mut r, |p| p < 60000).unwrap_or(0);
        got[5] = allocate(Protocol::Udp, 0xC001, RANGE, &mut r, |_| false).unwrap_or(0);
        got[6] = allocate(Protocol::Udp, 3000, (3000, 2000), &mut r, |_| true).unwrap_or(0);
        got[7] = allocate(Protocol::Udp, 3000, (3000, 2000), &mut r, |_| false).unwrap_or(0);
        got[8] = allocate(Protocol::Udp, 3001, (3000, 3003), &mut r, |p| p != 3000).unwrap_or(0);
        got[9] = r.below(1 << 16) as u16;
        assert_eq!(got, [2005, 2007, 47826, 1000, 63383, 40659, 0, 3000, 3000, 54213]);
    }
}
