//! TCP connection tracking, just enough to pick the right idle timeout (RFC 5382 REQ-5,
//! RFC 7857 section 2.2).
//!
//! A session remembers which control bits it has seen in each direction. It is *established*
//! once a SYN went both ways, *closing* after a FIN each way or any RST, and *transitory*
//! otherwise (partially open, or closing). Established sessions get the long timeout
//! (≥ 2 h 4 min), all others the transitory one (≥ 4 min). An RST does not delete the session:
//! RFC 7857 asks the NAT to keep it for the transitory timeout, and to let it live on when
//! packets keep coming. Any host on the path can send an RST, so it closes the session only
//! until traffic has gone both ways after it: then the connection is what it was before.

use crate::c_enum::{state_names, StateNames};
use crate::wire::tcp::flags;

pub const SYN_OUT: u8 = 0x01;
pub const SYN_IN: u8 = 0x02;
pub const FIN_OUT: u8 = 0x04;
pub const FIN_IN: u8 = 0x08;
pub const RST: u8 = 0x10;
/// Direction of a segment relative to the NAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// 0 and 1: `advance` shifts the outbound bits by it to get the inbound ones.
    Outbound = 0,
    Inbound = 1,
}

/// The session's state after a segment with `tcp_flags` went `direction`.
///
/// While `RST` is set, the two FIN bits record which ends have sent a segment since the RST
/// (a closed session needs no FIN history): once both have, `RST` and both bits are cleared
/// and the connection is open again. What it forgets is a FIN sent before the RST, so a
/// connection half closed before it counts as fully open after it. Five bits in all, so the
/// table's bookkeeping bits keep the rest of the byte.
///
/// Out of line with `fast-path` (the call to `advance_word`): its one caller, `update`, is in line in both the fast path and
/// `Nat::touch_at`, and LLVM called one copy from the fast path but kept a second in
/// `touch_at` (full 64 B). The call costs an established flow nothing: `update` makes it only
/// for a segment with SYN, FIN or RST, or after an RST. Without `fast-path`, `touch_at` is the
/// one place, and in line there it takes less (minimal 28 B).
///
/// The direction first: the argument order that takes least code (full 4 B less).
///
/// The call answers a word (`advance_word`), truncated here in line: its callers merge the
/// state bits into the session's byte and store it, so the truncation costs nothing, where a
/// `u8` answer was zero-extended again after each call (full 4 B less).
#[inline(always)]
pub fn advance(direction: Direction, state: u8, tcp_flags: u8) -> u8 {
    advance_word(direction, state, tcp_flags) as u8
}

/// [`advance`]'s call: [`next_state`] as a word (at most the five state bits).
#[cfg_attr(feature = "fast-path", inline(never))]
#[cfg_attr(not(feature = "fast-path"), inline)]
fn advance_word(direction: Direction, state: u8, tcp_flags: u8) -> u32 {
    u32::from(next_state(direction, state, tcp_flags))
}

/// [`advance`]'s rules.
#[inline(always)]
fn next_state(direction: Direction, state: u8, tcp_flags: u8) -> u8 {
    // Each inbound bit is the outbound one shifted by one (Outbound is 0, Inbound 1).
    let (syn, fin) = (SYN_OUT << direction as u8, FIN_OUT << direction as u8);
    let mut state = state;
    if tcp_flags & flags::SYN != 0 && tcp_flags & flags::ACK == 0 && is_closed(state) {
        // A fresh SYN on a closed 4-tuple starts a new connection (TIME_WAIT reuse).
        state = 0;
    }
    if tcp_flags & flags::SYN != 0 {
        state |= syn;
    }
    if tcp_flags & flags::RST != 0 {
        // Another RST starts the count again.
        return (state | RST) & !(FIN_OUT | FIN_IN);
    }
    // After an RST the FIN bits record every segment, before it only FINs.
    if state & RST != 0 || tcp_flags & flags::FIN != 0 {
        state |= fin;
    }
    if state & (RST | FIN_OUT | FIN_IN) == RST | FIN_OUT | FIN_IN {
        // Both ends still talk after an RST: it ended nothing.
        state &= !(RST | FIN_OUT | FIN_IN);
    }
    state
}

/// True once both FINs or an RST were seen.
#[inline]
pub const fn is_closed(state: u8) -> bool {
    state & RST != 0 || state & (FIN_OUT | FIN_IN) == FIN_OUT | FIN_IN
}

/// True for an open connection whose handshake went both ways (and at most one FIN, no RST).
#[inline(always)]
pub const fn is_established(state: u8) -> bool {
    // One bit per value of the five state bits: SYN both ways, no FIN or one either way.
    const ESTABLISHED: u32 =
        1 << (SYN_OUT | SYN_IN) | 1 << (SYN_OUT | SYN_IN | FIN_OUT) | 1 << (SYN_OUT | SYN_IN | FIN_IN);
    ESTABLISHED >> (state & 0x1F) & 1 != 0
}

/// Short name for table dumps (a C string: the C API hands it out as it is, from `NAMES`).
/// Rust callers are the tests and, through `internals`, the benches and fuzzers.
#[cfg(any(test, feature = "internals"))]
pub fn name(state: u8) -> &'static core::ffi::CStr {
    NAMES.name(state)
}

/// The names of the five state bits' values, in the order `name_index` numbers them.
const NAME_LIST: &str = "SYN_RECV\0SYN_SENT\0ESTABLISHED\0FIN_WAIT\0TIME_WAIT\0RESET\0";

/// Every value of the five state bits with its name (`lwip_snat_tcp_state_name` reads it).
pub(crate) static NAMES: StateNames<32, 17, { NAME_LIST.len() }> = state_names!(32, 17, NAME_LIST, name_index);

/// Which of `NAME_LIST`'s names a state has: the first that holds of RST, closed (both FINs),
/// one FIN, established, the outbound SYN.
const fn name_index(state: u8) -> u8 {
    if state & RST != 0 {
        5
    } else if is_closed(state) {
        4
    } else if state & (FIN_OUT | FIN_IN) != 0 {
        3
    } else if is_established(state) {
        2
    } else if state & SYN_OUT != 0 {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;

    #[test]
    fn names_follow_the_state_bits_only() {
        let named = [(0x00, c"SYN_RECV"), (SYN_IN, c"SYN_RECV"), (SYN_OUT, c"SYN_SENT")];
        let named = named.into_iter().chain([
            (SYN_OUT | SYN_IN, c"ESTABLISHED"),
            (SYN_OUT | SYN_IN | FIN_IN, c"FIN_WAIT"),
            (SYN_OUT | FIN_OUT, c"FIN_WAIT"),
            (SYN_OUT | SYN_IN | FIN_OUT | FIN_IN, c"TIME_WAIT"),
            (RST, c"RESET"),
            (SYN_OUT | SYN_IN | RST | FIN_OUT, c"RESET"),
        ]);
        for (state, expected) in named {
            assert_eq!(name(state), expected, "{state:#04x}");
        }
        for state in 0..=u8::MAX {
            assert_eq!(name(state), name(state & 0x1F), "{state:#04x}");
        }
    }

    #[test]
    fn handshake_establishes() {
        let s = advance(Outbound, 0, flags::SYN);
        assert!(!is_established(s));
        let s = advance(Inbound, s, flags::SYN | flags::ACK);
        assert!(is_established(s));
        assert_eq!(name(s), c"ESTABLISHED");
    }

    #[test]
    fn fin_both_ways_closes_and_rst_closes() {
        let open = advance(Inbound, advance(Outbound, 0, flags::SYN), flags::SYN | flags::ACK);
        let half = advance(Outbound, open, flags::FIN | flags::ACK);
        assert!(is_established(half), "half-closed stays established");
        assert!(is_closed(advance(Inbound, half, flags::FIN | flags::ACK)));
        assert!(is_closed(advance(Inbound, open, flags::RST)));
    }

    #[test]
    fn established_means_both_syns_and_not_closed() {
        for state in 0..=255u8 {
            let expected = state & (SYN_OUT | SYN_IN) == SYN_OUT | SYN_IN && !is_closed(state);
            assert_eq!(is_established(state), expected, "state {state:#04x}");
        }
    }

    #[test]
    fn traffic_both_ways_after_an_rst_restores_the_connection() {
        let open = advance(Inbound, advance(Outbound, 0, flags::SYN), flags::SYN | flags::ACK);
        let reset = advance(Inbound, open, flags::RST);
        assert!(is_closed(reset));
        let out = advance(Outbound, reset, flags::ACK);
        assert!(is_closed(out), "one way is not enough");
        assert!(is_closed(advance(Inbound, out, flags::RST | flags::ACK)), "an RST back is no answer");
        let again = advance(Inbound, advance(Inbound, out, flags::RST), flags::ACK);
        assert!(is_closed(again), "another RST starts the count again");
        assert_eq!(advance(Inbound, out, flags::ACK), open);
        assert_eq!(advance(Outbound, advance(Inbound, reset, flags::ACK), flags::ACK), open);
        // Half-closed before the RST: open again after (the FIN is forgotten, the timeout is
        // the established one either way).
        let half = advance(Outbound, open, flags::FIN | flags::ACK);
        let back = advance(Outbound, advance(Inbound, advance(Outbound, half, flags::RST), flags::ACK), flags::ACK);
        assert_eq!(back, open);
        assert!(is_established(back));
        // The state never leaves the five protocol bits.
        for state in 0..0x20u8 {
            for tcp_flags in 0..0x20u8 {
                for direction in [Outbound, Inbound] {
                    assert_eq!(advance(direction, state, tcp_flags) & !0x1F, 0);
                }
            }
        }
    }

    /// `advance` as it was written before its FIN handling became one test (three arms: RST
    /// segment, after an RST, FIN segment): the same state for every input.
    #[test]
    fn advance_matches_the_three_arm_form() {
        fn three_arms(mut state: u8, tcp_flags: u8, direction: Direction) -> u8 {
            let (syn, fin) = (SYN_OUT << direction as u8, FIN_OUT << direction as u8);
            if tcp_flags & flags::SYN != 0 && tcp_flags & flags::ACK == 0 && is_closed(state) {
                state = 0;
            }
            if tcp_flags & flags::SYN != 0 {
                state |= syn;
            }
            if tcp_flags & flags::RST != 0 {
                state = (state | RST) & !(FIN_OUT | FIN_IN);
            } else if state & RST != 0 {
                state |= fin;
                if state & (FIN_OUT | FIN_IN) == FIN_OUT | FIN_IN {
                    state &= !(RST | FIN_OUT | FIN_IN);
                }
            } else if tcp_flags & flags::FIN != 0 {
                state |= fin;
            }
            state
        }
        for state in 0..0x20u8 {
            for tcp_flags in 0..=u8::MAX {
                for direction in [Outbound, Inbound] {
                    let expected = three_arms(state, tcp_flags, direction);
                    assert_eq!(advance(direction, state, tcp_flags), expected, "{state:#04x} {tcp_flags:#04x}");
                }
            }
        }
    }

    #[test]
    fn syn_after_close_reopens() {
        let closed = advance(Inbound, advance(Outbound, 0, flags::SYN), flags::RST);
        let reopened = advance(Outbound, closed, flags::SYN);
        assert_eq!(reopened, SYN_OUT);
    }
}
