//! Build-time capacities and run-time settings.
//!
//! Uses `tables` (filtering, lwIP's port range), `reass` (its block size) and `c_enum`.

use crate::c_enum::c_enum;
use crate::tables::Filtering;

// MAX_TCP, MAX_UDP, MAX_ICMP, MAX_RULES, MAX_HOSTS, MAX_PORTMAPS from the `LWIP_SNAT_*` variables.
include!(concat!(env!("OUT_DIR"), "/config.rs"));

/// Reassembly pool blocks (`LWIP_SNAT_REASS_BYTES` / 64).
pub const REASS_BLOCKS: usize = REASS_BYTES / crate::reass::BLOCK;
const _: () = assert!(
    REASS_BYTES.is_multiple_of(crate::reass::BLOCK) && REASS_BLOCKS >= 2,
    "LWIP_SNAT_REASS_BYTES must be a multiple of 64, at least 128"
);

/// lwIP's `IP_REASS_MAXAGE` (15 ticks of `IP_TMR_INTERVAL`, 1 s): how long fragments wait.
pub const REASS_TIMEOUT_MS: u32 = 15_000;

/// RFC floors for the idle timeouts, in milliseconds.
pub mod floor {
    /// RFC 4787 REQ-5: a UDP mapping lives at least 2 minutes.
    pub const UDP_MS: u32 = 120_000;
    /// RFC 5382 REQ-5: an established TCP connection lives at least 2 h 4 min.
    pub const TCP_ESTABLISHED_MS: u32 = 7_440_000;
    /// RFC 5382 REQ-5: a partially open or closing connection lives at least 4 min.
    pub const TCP_TRANSITORY_MS: u32 = 240_000;
    /// RFC 5508 REQ-2: an ICMP query mapping lives at least 60 s.
    pub const ICMP_MS: u32 = 60_000;
}

/// Settings that may change at run time. [`Config::DEFAULT`] meets every RFC floor.
/// Laid out like the C API's `lwip_snat_config` (without its seed), so converting is a copy.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Idle timeout of an established TCP connection.
    pub tcp_established_ms: u32,
    /// Idle timeout of a partially open or closing TCP connection (and after an RST).
    pub tcp_transitory_ms: u32,
    /// Idle timeout of a UDP mapping, refreshed by outbound traffic.
    pub udp_ms: u32,
    /// Idle timeout of an ICMP query mapping.
    pub icmp_ms: u32,
    /// How long the fragments of a datagram may wait for the rest, from the first to arrive
    /// (not refreshed by later ones). Any value from 1 ms; the default is lwIP's.
    pub reass_timeout_ms: u32,
    /// External ports chosen for inside ports ≥ 1024 when the inside port is taken
    /// (inclusive; must lie in 1024..=0xBFFF, clear of lwIP's own ephemeral ports).
    pub port_range: (u16, u16),
    /// Most sessions one inside host may open in each protocol's table, and never more than a
    /// quarter of that table (so one host cannot take a table from the others); remote
    /// senders (port forwards, permissive filters) may open at most half as many more to it.
    /// 0 = no limit. The default is a quarter of the largest table, which makes each table's
    /// limit a quarter of it. Hosts beyond `MAX_HOSTS` tracked at once are served uncounted
    /// (`Stats::hosts_untracked`).
    pub host_quota: u16,
    /// Which inbound TCP segments may use a mapping (default address and port dependent).
    /// A build without the `filtering` feature has only that mode and refuses any other
    /// ([`ConfigError::Filtering`]).
    pub tcp_filtering: Filtering,
    /// Which inbound UDP datagrams may use a mapping (default address and port dependent).
    /// A build without the `filtering` feature has only that mode and refuses any other
    /// ([`ConfigError::Filtering`]).
    pub udp_filtering: Filtering,
    /// Answer a flow refused for lack of room with ICMP 3/13 instead of silence.
    pub reject_when_full: bool,
    /// Accept timeouts below the RFC floors (tiny-RAM builds that must recycle sooner).
    pub allow_short_timeouts: bool,
    /// Lower the MSS of forwarded TCP SYNs to what the uplink's MTU carries (MTU − 40).
    pub mss_clamp: bool,
    /// Most sessions one mapping (an inside endpoint on one outbound netif) may hold, opened
    /// by the endpoint or by remote senders; 0 = no limit. It also bounds the hash chains
    /// every lookup walks, whatever remotes an attacker sends from.
    pub mapping_sessions: u16,
    /// Idle timeout of a UDP session to port 53 (DNS) once its answer came, restarted by the
    /// answer; until then `udp_ms` applies. Any value from 1 ms (RFC 4787 REQ-5a).
    pub udp_dns_ms: u32,
    /// The same for port 123 (NTP).
    pub udp_ntp_ms: u32,
    /// [`FullPolicy::Evict`]: a session idle longer than this may give way to a new one.
    /// Checked in every build; read only with the `evict` feature.
    pub evict_idle_ms: u32,
    /// What a new flow that finds its table full of live sessions does. A build without the
    /// `evict` feature carries out `Reject` only and refuses `Evict` ([`ConfigError::Policy`]).
    pub full_policy: FullPolicy,
}

c_enum! {
    /// What happens when a new flow finds its table full of live sessions (the `full_policy`
    /// setting). Either way, a TCP
    /// session closed by both FINs or an RST gives way to a new session first (RFC 7857 section
    /// 2.2), and a session created from outside never takes the place of one created from inside.
    pub enum FullPolicy: u8 as lwip_snat_full_policy {
        /// The new flow is refused (RFC 6888 REQ-11 spirit): live sessions are never evicted.
        Reject = 0 => LWIP_SNAT_FULL_REJECT, "reject";
        /// The least recently used session that is half-open (TCP), answered (DNS, NTP) or idle
        /// longer than `evict_idle_ms` gives way; an established TCP connection so evicted is
        /// reset at both ends when they next send. Needs the `evict` feature.
        Evict = 1 => LWIP_SNAT_FULL_EVICT, "evict";
    }
}

/// Why a configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A timeout is below its RFC floor and `allow_short_timeouts` is not set, or is zero.
    Timeout,
    /// The port range is empty, below 1024 or reaches into 0xC000–0xFFFF.
    PortRange,
    /// A filtering mode other than address and port dependent, in a build without the
    /// `filtering` feature.
    Filtering,
    /// [`FullPolicy::Evict`] in a build without the `evict` feature.
    Policy,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConfigError::Timeout => "a timeout is zero, too long, or below its RFC floor",
            ConfigError::PortRange => "the port range is empty, starts below 1024 or reaches 0xC000",
            ConfigError::Filtering => "a filtering mode this build (without `filtering`) does not have",
            ConfigError::Policy => "the evict policy, which this build (without `evict`) does not have",
        })
    }
}

impl core::error::Error for ConfigError {}

impl Config {
    /// The defaults: every RFC floor met, the whole port range, address and port dependent
    /// filtering, MSS clamping on.
    pub const DEFAULT: Config = Config {
        tcp_established_ms: floor::TCP_ESTABLISHED_MS,
        tcp_transitory_ms: floor::TCP_TRANSITORY_MS,
        udp_ms: 300_000,
        icmp_ms: floor::ICMP_MS,
        port_range: (1024, 0xBFFF),
        tcp_filtering: Filtering::AddressAndPortDependent,
        udp_filtering: Filtering::AddressAndPortDependent,
        host_quota: default_host_quota(),
        reject_when_full: true,
        mss_clamp: true,
        allow_short_timeouts: false,
        reass_timeout_ms: REASS_TIMEOUT_MS,
        mapping_sessions: DEFAULT_MAPPING_SESSIONS,
        udp_dns_ms: 5_000,
        udp_ntp_ms: 5_000,
        full_policy: FullPolicy::Reject,
        evict_idle_ms: floor::UDP_MS,
    };

    /// All zero: what a `Nat` holds before `reset` (it has no rules then, so it translates
    /// nothing). Being all zero lets a `static` NAT live in `.bss` instead of `.data`, which
    /// would cost its whole size in flash too.
    pub(crate) const UNSET: Config = Config {
        tcp_established_ms: 0,
        tcp_transitory_ms: 0,
        udp_ms: 0,
        icmp_ms: 0,
        port_range: (0, 0),
        tcp_filtering: Filtering::EndpointIndependent,
        udp_filtering: Filtering::EndpointIndependent,
        host_quota: 0,
        reject_when_full: false,
        mss_clamp: false,
        allow_short_timeouts: false,
        reass_timeout_ms: 0,
        mapping_sessions: 0,
        udp_dns_ms: 0,
        udp_ntp_ms: 0,
        full_policy: FullPolicy::Reject,
        evict_idle_ms: 0,
    };

    /// Checks the timeouts against their RFC floors and the port range against lwIP's ports,
    /// and that the build carries out the filters and the full-table policy asked for.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check(self.timeouts())
    }

    /// `validate` with the timeouts handed in, in the order of [`TIMEOUT_OFFSETS`]: the C
    /// API reads them where they lie in its checked copy, by their offsets, instead of copying
    /// them into an array first (8 loads and stores).
    #[inline(always)]
    pub(crate) fn check(&self, timeouts: impl IntoIterator<Item = u32>) -> Result<(), ConfigError> {
        // The floored timeouts first, in `FLOORS`' order; the rest have none: REQ-5a lets
        // well-known ports have shorter timers, and eviction is a choice.
        for (i, value) in timeouts.into_iter().enumerate() {
            // Allowed: from the floor (at least 1 ms: zero is no timeout) to 2^31 - 1 ms, above
            // which the wrapping clock comparison would break. One signed compare tests both
            // ends: a value from 2^31 up is negative as an `i32`, and every floor is positive.
            let lowest = if self.allow_short_timeouts {
                1
            } else {
                FLOOR_MINUTES.get(i).map_or(1, |&minutes| u32::from(minutes) * MINUTE_MS)
            };
            if (value as i32) < lowest as i32 {
                return Err(ConfigError::Timeout);
            }
        }
        // From 1024 up, start no higher than end, end below lwIP's ephemeral ports: both taken
        // less 1024 as words, wrapping (a port below 1024 becomes 2^32 - 1024 or more), so two
        // compares hold the three tests (start - 1024 <= end - 1024 < EPHEMERAL - 1024).
        const ABOVE: u32 = crate::tables::port::LWIP_EPHEMERAL_START as u32 - 1024;
        let (start, end) = self.port_range;
        let (start, end) = (u32::from(start).wrapping_sub(1024), u32::from(end).wrapping_sub(1024));
        if start > end || end >= ABOVE {
            return Err(ConfigError::PortRange);
        }
        // Without `filtering` only address and port dependent filtering is carried out, and
        // without `evict` only `Reject`: asking for another is an error, never ignored.
        // Both filters are that mode exactly when their numbers' AND is its number: no other
        // mode has a bit of it (checked at build time). Each wrong choice is a non-zero number
        // and the two are tested at once: the C API, which answers both with one code, then
        // tests them with one compare (minimal −8 B).
        const ONLY: u8 = Filtering::AddressAndPortDependent as u8;
        const _: () = {
            let mut i = 0;
            while i < Filtering::ALL.len() {
                let mode = Filtering::ALL[i] as u8;
                assert!(mode == ONLY || mode & ONLY == 0);
                i += 1;
            }
        };
        let filtering =
            if cfg!(feature = "filtering") { 0 } else { (self.tcp_filtering as u8 & self.udp_filtering as u8) ^ ONLY };
        let policy = if cfg!(feature = "evict") { 0 } else { self.full_policy as u8 ^ FullPolicy::Reject as u8 };
        if filtering | policy != 0 {
            return Err(if filtering != 0 { ConfigError::Filtering } else { ConfigError::Policy });
        }
        Ok(())
    }
}

/// The timeouts `validate` checks, named once: `Config::timeouts` reads them (each a `u32`
/// field, or it does not compile) and [`TIMEOUT_OFFSETS`] holds where they lie, in one order.
macro_rules! timeouts {
    ($($field:ident),+) => {
        impl Config {
            /// The timeouts in the order of [`TIMEOUT_OFFSETS`].
            fn timeouts(&self) -> [u32; TIMEOUT_COUNT] {
                [$(self.$field),+]
            }
        }

        /// Where the timeouts lie in a `Config`, in `validate`'s order.
        const TIMEOUT_OFFSETS: [usize; TIMEOUT_COUNT] = [$(core::mem::offset_of!(Config, $field)),+];
    };
}

timeouts!(
    tcp_established_ms,
    tcp_transitory_ms,
    udp_ms,
    icmp_ms,
    reass_timeout_ms,
    udp_dns_ms,
    udp_ntp_ms,
    evict_idle_ms
);

/// Where timeout `i` (in [`TIMEOUT_OFFSETS`]' order) lies in a `Config`, worked out rather
/// than read from a table: the timeouts are two runs of words, those before C's seed from
/// offset 0 and the rest [`TAIL_GAP`] bytes further (checked at build time against every
/// offset). The C API reads them by it where they lie; the table took 8 bytes of flash, the
/// arithmetic 4 of code.
#[inline(always)]
pub(crate) const fn timeout_offset(i: usize) -> usize {
    4 * i + if i >= TAIL_FROM { TAIL_GAP } else { 0 }
}

/// The first timeout of the second run, and the bytes between the runs.
const TAIL_FROM: usize = 5;
const TAIL_GAP: usize = TIMEOUT_OFFSETS[TAIL_FROM] - 4 * TAIL_FROM;

const _: () = {
    let mut i = 0;
    while i < TIMEOUT_COUNT {
        assert!(TIMEOUT_OFFSETS[i] == timeout_offset(i), "the timeouts lie in two runs of words");
        i += 1;
    }
};

/// How many timeouts `validate` checks.
pub(crate) const TIMEOUT_COUNT: usize = 8;

/// The RFC floors of `tcp_established_ms`, `tcp_transitory_ms`, `udp_ms` and `icmp_ms`.
const FLOORS: [u32; 4] = [floor::TCP_ESTABLISHED_MS, floor::TCP_TRANSITORY_MS, floor::UDP_MS, floor::ICMP_MS];

// `validate`'s signed test takes each floor as its lowest value: none is 0 or above 2^31 - 1.
const _: () = {
    let mut i = 0;
    while i < FLOORS.len() {
        assert!(FLOORS[i] >= 1 && FLOORS[i] <= i32::MAX as u32);
        i += 1;
    }
};

/// A minute in milliseconds: every floor is a whole number of them.
const MINUTE_MS: u32 = 60_000;

/// `FLOORS` in minutes, one byte each (a quarter of their bytes as words), which `check`
/// multiplies back; built only if each floor is a whole number of minutes below 256 of them,
/// so that the product is the floor itself. A `static`: `check` indexes it where it lies.
static FLOOR_MINUTES: [u8; FLOORS.len()] = {
    let mut minutes = [0; FLOORS.len()];
    let mut i = 0;
    while i < FLOORS.len() {
        assert!(FLOORS[i].is_multiple_of(MINUTE_MS) && FLOORS[i] / MINUTE_MS <= u8::MAX as u32);
        minutes[i] = (FLOORS[i] / MINUTE_MS) as u8;
        i += 1;
    }
    minutes
};

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One host's share of a table: a quarter, so that three others always find room.
const HOST_SHARE: usize = 4;

/// Sessions per mapping by default: a forwarded server's few dozen clients, a P2P socket's
/// peers; and a hash chain short enough to walk per packet.
const DEFAULT_MAPPING_SESSIONS: u16 = 64;

/// By default one host may hold a quarter of the largest table (and of each, see
/// [`Config::host_quota_in`]).
const fn default_host_quota() -> u16 {
    let mut largest = MAX_TCP;
    if MAX_UDP > largest {
        largest = MAX_UDP;
    }
    if MAX_ICMP > largest {
        largest = MAX_ICMP;
    }
    fair_share(largest)
}

/// A quarter of `capacity` sessions, at least 1.
const fn fair_share(capacity: usize) -> u16 {
    let share = capacity / HOST_SHARE;
    if share == 0 {
        1
    } else if share > u16::MAX as usize {
        u16::MAX
    } else {
        share as u16
    }
}

impl Config {
    /// The sessions one host may open itself in a table of `capacity`: `host_quota`, at most
    /// a quarter of the table; 0 = no limit.
    pub fn host_quota_in(&self, capacity: usize) -> u16 {
        match self.host_quota {
            0 => 0,
            quota => quota.min(fair_share(capacity)),
        }
    }

    /// The sessions remote senders may open to one host in a table of `capacity`: half its
    /// own quota, at least 1; 0 = no limit.
    pub fn remote_quota_in(&self, capacity: usize) -> u16 {
        match self.host_quota_in(capacity) {
            0 => 0,
            quota => (quota / 2).max(1),
        }
    }
}

/// A timeout field of `Config`, for tests.
#[cfg(test)]
pub(crate) type TimeoutField = fn(&mut Config) -> &mut u32;

/// Every timeout field with its floor (1 for those without one), for the tests of the checks
/// (`validate`'s here, the C API's in `ffi`).
#[cfg(test)]
pub(crate) fn timeout_fields() -> [(TimeoutField, u32); TIMEOUT_COUNT] {
    [
        (|c| &mut c.tcp_established_ms, floor::TCP_ESTABLISHED_MS),
        (|c| &mut c.tcp_transitory_ms, floor::TCP_TRANSITORY_MS),
        (|c| &mut c.udp_ms, floor::UDP_MS),
        (|c| &mut c.icmp_ms, floor::ICMP_MS),
        (|c| &mut c.reass_timeout_ms, 1),
        (|c| &mut c.udp_dns_ms, 1),
        (|c| &mut c.udp_ntp_ms, 1),
        (|c| &mut c.evict_idle_ms, 1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_meets_floors() {
        assert_eq!(Config::DEFAULT.validate(), Ok(()));
        assert_eq!(Config::DEFAULT.udp_ms, 300_000);
    }

    #[test]
    fn default_host_quota_is_a_quarter_of_each_table() {
        let config = Config::DEFAULT;
        for capacity in [MAX_TCP, MAX_UDP, MAX_ICMP] {
            assert_eq!(usize::from(config.host_quota_in(capacity)), (capacity / 4).max(1));
        }
        assert_eq!(config.host_quota_in(2), 1, "at least one session");
        assert_eq!(config.remote_quota_in(2), 1);
        assert_eq!(config.remote_quota_in(256), 32);
        let none = Config { host_quota: 0, ..config };
        assert_eq!((none.host_quota_in(256), none.remote_quota_in(256)), (0, 0));
        assert_eq!(Config { host_quota: 3, ..config }.host_quota_in(256), 3);
    }

    #[test]
    fn below_floor_needs_the_flag() {
        let short = Config { udp_ms: 30_000, ..Config::DEFAULT };
        assert_eq!(short.validate(), Err(ConfigError::Timeout));
        assert_eq!(Config { allow_short_timeouts: true, ..short }.validate(), Ok(()));
        assert_eq!(Config { icmp_ms: 0, allow_short_timeouts: true, ..short }.validate(), Err(ConfigError::Timeout));
    }

    /// Each timeout's edges, with and without `allow_short_timeouts`: 0 and anything from 2^31
    /// up are refused, 2^31 - 1 accepted, and the floored ones refused just below their floor.
    #[test]
    fn every_timeout_is_checked_at_both_ends_of_its_range() {
        for (field, floor) in timeout_fields() {
            for allow_short_timeouts in [false, true] {
                let lowest = if allow_short_timeouts { 1 } else { floor };
                let cases = [
                    (0, false),
                    (lowest - 1, false),
                    (lowest, true),
                    (i32::MAX as u32, true),
                    (0x8000_0000, false),
                    (u32::MAX, false),
                ];
                for (value, valid) in cases {
                    let mut config = Config { allow_short_timeouts, ..Config::DEFAULT };
                    *field(&mut config) = value;
                    let expected = if valid { Ok(()) } else { Err(ConfigError::Timeout) };
                    assert_eq!(config.validate(), expected, "{value} (floor {floor}, short {allow_short_timeouts})");
                }
            }
        }
    }

    #[test]
    fn reass_timeout_defaults_to_lwip_maxage_and_must_be_usable() {
        assert_eq!(Config::DEFAULT.reass_timeout_ms, 15_000);
        assert_eq!(Config { reass_timeout_ms: 1, ..Config::DEFAULT }.validate(), Ok(()));
        for bad in [0, 0x8000_0000] {
            assert_eq!(Config { reass_timeout_ms: bad, ..Config::DEFAULT }.validate(), Err(ConfigError::Timeout));
        }
    }

    /// Every filter combination: valid with `filtering`; without it, only both address and
    /// port dependent.
    #[test]
    fn filters_are_refused_exactly_where_the_build_lacks_them() {
        for tcp_filtering in Filtering::ALL {
            for udp_filtering in Filtering::ALL {
                let config = Config { tcp_filtering, udp_filtering, ..Config::DEFAULT };
                let only = [tcp_filtering, udp_filtering] == [Filtering::AddressAndPortDependent; 2];
                let expected = if cfg!(feature = "filtering") || only { Ok(()) } else { Err(ConfigError::Filtering) };
                assert_eq!(config.validate(), expected, "{config:?}");
            }
        }
    }

    #[test]
    fn port_range_must_avoid_lwip_ports() {
        for range in [(1000, 2000), (5000, 4000), (40000, 0xC000)] {
            assert_eq!(Config { port_range: range, ..Config::DEFAULT }.validate(), Err(ConfigError::PortRange));
        }
    }

    #[test]
    fn a_port_range_is_refused_exactly_when_empty_below_1024_or_reaching_lwip_ports() {
        // The edges of each test and a stride over the whole range, every pair of them.
        let edges =
            [0, 1, 1023, 1024, 1025, 4000, 0xBBFF, 0xBC00, 0xBFFE, 0xBFFF, 0xC000, 0xC001, 0xFBFF, 0xFC00, 0xFFFF];
        let ports = || edges.into_iter().chain((0..=0xFFFF_u16).step_by(251));
        for start in ports() {
            for end in ports() {
                let refused = start < 1024 || start > end || end >= 0xC000;
                let answer = Config { port_range: (start, end), ..Config::DEFAULT }.validate();
                assert_eq!(answer, if refused { Err(ConfigError::PortRange) } else { Ok(()) }, "{start}..={end}");
            }
        }
    }
}
