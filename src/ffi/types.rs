//! The C types: result codes, enums and the `#[repr(C)]` structs C passes in and gets back.
//! The enums are `c_enum!` tables (build.rs writes their C form); drop reasons, filtering
//! modes, full-table policies and protocols are the core's own tables (`DropReason`,
//! `Filtering`, `FullPolicy`, `Protocol`), mirrored in C under `lwip_snat_*` names.

use core::ffi::{c_int, c_void};

use crate::c_enum::c_enum;
use crate::DropReason;

/// Number of drop reasons: the length of `lwip_snat_stats.dropped` (the header's copy is
/// written by build.rs from the same table).
/// cbindgen:ignore
pub const LWIP_SNAT_DROP_REASONS: usize = DropReason::COUNT;

c_enum! {
    /// Result of every call that can fail. 0 is success; errors are negative, like lwIP's `err_t`.
    /// The numbers are part of the ABI and never reused.
    pub enum lwip_snat_err_t: i32 {
        /// Success.
        LWIP_SNAT_OK = 0;
        /// A required pointer argument was NULL.
        LWIP_SNAT_ERR_NULL = -1;
        /// An argument is out of range: netif index 0, unknown kind, protocol, route or filtering
        /// mode (or one the build leaves out), a flag other than 0 or 1, a length the platform cannot address.
        LWIP_SNAT_ERR_ARG = -2;
        /// Another lwip_snat call is running (re-entry from a callback or an interrupt, or a call
        /// from another thread). Nothing was changed. Every call is refused this way while another
        /// runs where the core has an atomic compare-and-swap; on cores without one (Cortex-M0/M0+)
        /// two threads can still get in together, so callers there must hold lwIP's core lock.
        LWIP_SNAT_ERR_BUSY = -3;
        /// `lwip_snat_init` has not succeeded yet.
        LWIP_SNAT_ERR_NOT_INIT = -4;
        /// A configured timeout is 0, above 2^31-1 ms, or below its RFC floor while
        /// `allow_short_timeouts` is 0.
        LWIP_SNAT_ERR_TIMEOUT = -5;
        /// The port range is empty, starts below 1024 or reaches lwIP's own ports (0xC000-0xFFFF).
        LWIP_SNAT_ERR_PORT_RANGE = -6;
        /// All `LWIP_SNAT_MAX_RULES` rule slots are in use.
        LWIP_SNAT_ERR_RULES_FULL = -7;
        /// The same rule is already installed.
        LWIP_SNAT_ERR_RULE_EXISTS = -8;
        /// No such rule is installed.
        LWIP_SNAT_ERR_RULE_NOT_FOUND = -9;
        /// All `LWIP_SNAT_MAX_PORTMAPS` port forward slots are in use.
        LWIP_SNAT_ERR_PORTMAPS_FULL = -10;
        /// The external port is forwarded already, a mapping of another inside endpoint or the
        /// router's own endpoint holds it, or the inside endpoint has a mapping on another port.
        LWIP_SNAT_ERR_PORTMAP_CONFLICT = -11;
        /// No such port forward is installed.
        LWIP_SNAT_ERR_PORTMAP_NOT_FOUND = -12;
        /// The buffer is smaller than the data to copy into it.
        LWIP_SNAT_ERR_BUFFER = -13;
        /// No reassembled datagram is waiting (the last verdict was not `LWIP_SNAT_REASSEMBLED`).
        LWIP_SNAT_ERR_NO_DATAGRAM = -14;
        /// `lwip_snat_process_head`: the first buffer does not hold all the NAT must read (an ICMP
        /// error, a fragment, headers split across buffers). Nothing was read into state or
        /// counted: call `lwip_snat_process` with the whole datagram in one span.
        LWIP_SNAT_ERR_NEED_WHOLE = -15;
        /// The `lwip_snat.h` the caller was compiled with states other capacities
        /// (`LWIP_SNAT_MAX_*`, `LWIP_SNAT_REASS_*`) than the library was built with: nothing was
        /// changed; compile against the header generated with the library.
        LWIP_SNAT_ERR_CAPACITY = -16;
    }
}

c_enum! {
    /// Kind of an interface rule (`lwip_snat_rule.kind`).
    pub enum lwip_snat_rule_kind: u8 {
        /// Translate everything forwarded from `src_netif_idx`, whichever netif it leaves by.
        LWIP_SNAT_RULE_SOURCE = 0;
        /// Translate everything forwarded out of `out_netif_idx` (the usual "WAN" rule).
        LWIP_SNAT_RULE_OUTBOUND = 1;
        /// Translate what is forwarded from `src_netif_idx` out of `out_netif_idx`.
        LWIP_SNAT_RULE_PAIR = 2;
    }
}

c_enum! {
    /// Where lwIP would send a packet (`lwip_snat_ctx.route`).
    pub enum lwip_snat_route: u8 {
        /// The destination is one of the router's own addresses, owned by `out_netif_idx`.
        LWIP_SNAT_ROUTE_LOCAL = 0;
        /// lwIP would forward the packet out of `out_netif_idx`.
        LWIP_SNAT_ROUTE_FORWARD = 1;
    }
}

c_enum! {
    /// What the caller must do with a processed packet (`lwip_snat_verdict.action`).
    pub enum lwip_snat_action: u8 {
        /// Not the NAT's business: let lwIP go on with the packet unchanged.
        LWIP_SNAT_PASS = 0;
        /// Rewritten in place: let lwIP go on (it routes and forwards the new bytes).
        LWIP_SNAT_TRANSLATED = 1;
        /// Free the packet; `drop_reason` says why (it has been counted).
        LWIP_SNAT_DROP = 2;
        /// The NAT kept a copy of this fragment: free the packet. This and the two fragment
        /// verdicts below come only from a library built with `reassembly`.
        LWIP_SNAT_HELD = 3;
        /// The fragments are complete: copy the whole datagram (`len` bytes) out with
        /// `lwip_snat_reassembled` and feed it to `ip4_input()`; free the packet.
        LWIP_SNAT_REASSEMBLED = 4;
        /// Send ICMP `icmp_type`/`icmp_code` (with `mtu` for 3/4) about the packet as it is, then
        /// free it.
        LWIP_SNAT_SEND_ICMP = 5;
        /// A fragment to the router whose datagram the NAT leaves to lwIP's reassembly: feed
        /// `ip4_input()` each fragment `lwip_snat_released` gives until it gives none, then let
        /// lwIP go on with the packet unchanged.
        LWIP_SNAT_RELEASE = 6;
        /// A TCP segment of a connection evicted from a full table: answer its sender with an RST
        /// in the name of its destination (lwIP's `tcp_rst()`: sequence number = the segment's
        /// acknowledgment number, acknowledging its sequence number plus its length), then free it.
        /// Never given by a build without the `evict` feature.
        LWIP_SNAT_SEND_RST = 7;
    }
}

/// Run-time settings (`lwip_snat_config_default` fills in the defaults, which meet every RFC
/// floor). Flags are 0 or 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct lwip_snat_config {
    /// Idle timeout of an established TCP connection (default and floor 7440000 ms).
    pub tcp_established_ms: u32,
    /// Idle timeout of a partially open or closing TCP connection (default and floor 240000).
    pub tcp_transitory_ms: u32,
    /// Idle timeout of a UDP mapping (default 300000, floor 120000).
    pub udp_ms: u32,
    /// Idle timeout of an ICMP query mapping (default and floor 60000).
    pub icmp_ms: u32,
    /// How long the fragments of a datagram wait for the rest (default 15000, lwIP's).
    pub reass_timeout_ms: u32,
    /// First external port for inside ports >= 1024 whose own port is taken (>= 1024).
    pub port_range_start: u16,
    /// Last such port, inclusive (< 0xC000, clear of lwIP's own ephemeral ports).
    pub port_range_end: u16,
    /// Most sessions one inside host may open in each protocol's table, never more than a
    /// quarter of that table; remote senders (port forwards, permissive filters) may open half
    /// as many more to it. 0 = no limit. Default: a quarter of the largest table.
    pub host_quota: u16,
    /// TCP filtering, an `lwip_snat_filtering` value. A build without the `filtering` feature
    /// has only `LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT` and refuses any other
    /// (`LWIP_SNAT_ERR_ARG`).
    pub tcp_filtering: u8,
    /// UDP filtering, an `lwip_snat_filtering` value. A build without the `filtering` feature
    /// has only `LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT` and refuses any other
    /// (`LWIP_SNAT_ERR_ARG`).
    pub udp_filtering: u8,
    /// 1: answer a new flow refused for lack of room with ICMP 3/13; 0: drop silently.
    pub reject_when_full: u8,
    /// 1: accept timeouts below the RFC floors (tiny-RAM builds).
    pub allow_short_timeouts: u8,
    /// 1 (default): lower the MSS of forwarded TCP SYNs to what the output MTU carries.
    pub mss_clamp: u8,
    /// 128-bit seed of the 64-bit key for unpredictable port choice and the table hashes
    /// (RFC 6056): fill it from a good random source. `lwip_snat_start` uses `LWIP_RAND()`
    /// when it is all zero; `lwip_snat_set_config` ignores it.
    pub seed: [u8; 16],
    /// Most sessions one mapping (an inside endpoint on one netif) may hold, whoever opens
    /// them; 0 = no limit (default 64). Also bounds the hash chains a lookup walks.
    pub mapping_sessions: u16,
    /// Idle timeout of a UDP session to port 53 (DNS) once answered (default 5000, any value
    /// from 1: RFC 4787 REQ-5a); `udp_ms` applies until the answer.
    pub udp_dns_ms: u32,
    /// The same for port 123 (NTP) (default 5000).
    pub udp_ntp_ms: u32,
    /// `LWIP_SNAT_FULL_EVICT`: a session idle longer than this may give way to a new one
    /// (default 120000; checked, but unused, without the `evict` feature).
    pub evict_idle_ms: u32,
    /// What a new flow finding its table full does, an `lwip_snat_full_policy` value. A build
    /// without the `evict` feature refuses `LWIP_SNAT_FULL_EVICT` (`LWIP_SNAT_ERR_ARG`).
    pub full_policy: u8,
}

/// An interface rule, in lwIP netif indices (`netif_get_index()`, never 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct lwip_snat_rule {
    /// An `lwip_snat_rule_kind` value.
    pub kind: u8,
    /// Input netif (SOURCE and PAIR rules; ignored by OUTBOUND).
    pub src_netif_idx: u8,
    /// Output netif (OUTBOUND and PAIR rules; ignored by SOURCE).
    pub out_netif_idx: u8,
}

/// A static port forwarding: `proto` traffic to external port `ext_port` on the address of
/// `out_netif_idx` goes to `inside_addr`:`inside_port` (addresses in host byte order).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct lwip_snat_portmap {
    /// Inside host the port leads to.
    pub inside_addr: u32,
    /// External port on the address of `out_netif_idx`.
    pub ext_port: u16,
    /// Port on the inside host.
    pub inside_port: u16,
    /// `LWIP_SNAT_PROTO_TCP` or `LWIP_SNAT_PROTO_UDP`.
    pub proto: u8,
    /// Netif whose address is the external address.
    pub out_netif_idx: u8,
}

/// A packet's route as lwIP would take it (the shim works it out like `ip4_input()`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct lwip_snat_ctx {
    /// Forward: address of the output netif, host byte order (the external address).
    pub out_addr: u32,
    /// Forward: MTU of the output netif; 0 = unknown (no DF check). Local: MTU of the netif
    /// that owns the destination address, which inbound SYNs are clamped to; 0 = unknown.
    pub out_mtu: u16,
    /// Index of the netif the packet arrived on.
    pub in_netif_idx: u8,
    /// An `lwip_snat_route` value.
    pub route: u8,
    /// Local: the netif that owns the destination address. Forward: the output netif.
    pub out_netif_idx: u8,
}

/// What `lwip_snat_process` decided.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct lwip_snat_verdict {
    /// REASSEMBLED: length of the whole datagram. Otherwise 0.
    pub len: u32,
    /// SEND_ICMP type 3 code 4: the next-hop MTU to put in the message (RFC 1191).
    pub mtu: u16,
    /// An `lwip_snat_action` value.
    pub action: u8,
    /// DROP: an `lwip_snat_drop_reason` value. Otherwise 0.
    pub drop_reason: u8,
    /// SEND_ICMP: the ICMP type (3 or 11).
    pub icmp_type: u8,
    /// SEND_ICMP: the ICMP code (0 time exceeded, 4 fragmentation needed, 13 prohibited).
    pub icmp_code: u8,
}

/// Counters of one protocol's session table.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct lwip_snat_proto_stats {
    /// Sessions created since init (wrapping).
    pub created: u32,
    /// Sessions removed by idle timeout since init (wrapping).
    pub expired: u32,
    /// Sessions live now.
    pub in_use: u16,
    /// Most sessions live at once since init.
    pub high_water: u16,
    /// Table capacity (`LWIP_SNAT_MAX_TCP` / `_UDP` / `_ICMP`).
    pub capacity: u16,
}

/// Packet and session counters (`lwip_snat_stats()`); packet counters wrap.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct lwip_snat_stats {
    /// Packets translated inside -> outside.
    pub translated_out: u32,
    /// Packets translated outside -> inside.
    pub translated_in: u32,
    /// ICMP errors translated (also counted in translated_*).
    pub icmp_errors_translated: u32,
    /// Packets left to lwIP untouched.
    pub passed: u32,
    /// ICMP errors the NAT asked the caller to send.
    pub icmp_requested: u32,
    /// Packets between two inside hosts translated on both sides (hairpinning); always 0 in a
    /// build without the `hairpin` feature.
    pub hairpinned: u32,
    /// TCP SYNs whose MSS option was lowered to fit the output link.
    pub mss_clamped: u32,
    /// Packets dropped, indexed by `lwip_snat_drop_reason`.
    pub dropped: [u32; LWIP_SNAT_DROP_REASONS],
    /// Fragments taken into the reassembly pool.
    pub fragments_held: u32,
    /// Datagrams reassembled whole.
    pub reassembled: u32,
    /// Datagrams whose fragments timed out.
    pub reass_expired: u32,
    /// Pool bytes held by datagrams waiting for fragments now (of `LWIP_SNAT_REASS_BYTES`).
    pub reass_bytes_in_use: u32,
    /// Datagrams waiting for fragments now (of `LWIP_SNAT_REASS_SLOTS`).
    pub reass_in_flight: u16,
    /// The TCP table.
    pub tcp: lwip_snat_proto_stats,
    /// The UDP table.
    pub udp: lwip_snat_proto_stats,
    /// The ICMP query table.
    pub icmp: lwip_snat_proto_stats,
    /// Sessions created for an inside host the host tracker had no room for
    /// (`LWIP_SNAT_MAX_HOSTS`): served, but not counted toward its quota.
    pub hosts_untracked: u32,
    /// Datagrams in progress discarded to make room for a newer one.
    pub reass_evicted: u32,
    /// Datagrams to the router that no mapping concerns, left to lwIP's own reassembly.
    pub reass_released: u32,
    /// Sessions that gave way to a new one in a full table: TCP connections closed by both
    /// FINs or an RST (RFC 7857 section 2.2).
    pub evicted_closed: u32,
    /// ... half-open TCP connections and answered DNS or NTP queries (`LWIP_SNAT_FULL_EVICT`;
    /// always 0 in a build without the `evict` feature).
    pub evicted_transitory: u32,
    /// ... sessions idle longer than `evict_idle_ms` (`LWIP_SNAT_FULL_EVICT`; always 0
    /// without `evict`).
    pub evicted_idle: u32,
    /// RSTs the NAT asked for (`LWIP_SNAT_SEND_RST`) to the ends of evicted connections
    /// (always 0 without `evict`).
    pub resets_requested: u32,
}

/// One live session, as `lwip_snat_foreach` shows it (addresses in host byte order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct lwip_snat_session {
    /// Inside host address.
    pub inside_addr: u32,
    /// Remote host address.
    pub remote_addr: u32,
    /// Milliseconds since the session last saw traffic that refreshes it.
    pub idle_ms: u32,
    /// Idle timeout that applies to it now.
    pub timeout_ms: u32,
    /// Inside port (ICMP: the query identifier).
    pub inside_port: u16,
    /// External port (ICMP: identifier) on the address of `ext_netif_idx`.
    pub ext_port: u16,
    /// Remote port (ICMP: the request type of the exchange, 8 echo, 13 timestamp, 15 information).
    pub remote_port: u16,
    /// An `lwip_snat_proto` value.
    pub proto: u8,
    /// Netif whose address is the external address.
    pub ext_netif_idx: u8,
    /// State bits (name: `lwip_snat_tcp_state_name`, `lwip_snat_udp_state_name`); 0 for ICMP.
    pub state: u8,
    /// 1: an inbound packet created it (port forward, or a remote the filter let in).
    pub admitted: u8,
    /// 1: in a full table it would give way to a new outbound flow now (see
    /// `lwip_snat_config.full_policy`).
    pub evictable: u8,
}

/// Called once per live session by `lwip_snat_foreach`. `session` is valid only during the call.
/// lwip_snat calls made from inside the callback return `LWIP_SNAT_ERR_BUSY`.
pub type lwip_snat_foreach_fn = Option<unsafe extern "C" fn(session: *const lwip_snat_session, arg: *mut c_void)>;

/// Says whether the router's own endpoint holds a port: non-zero when an lwIP pcb of `proto`
/// (`LWIP_SNAT_PROTO_TCP`/`_UDP`) is bound to `port` on the address of netif `netif_idx` or
/// to any address, or, for `LWIP_SNAT_PROTO_ICMP`, when `port` is an echo identifier the
/// router's own pings use. Called from inside `lwip_snat_process` and
/// `lwip_snat_portmap_add` (lwip_snat calls made from it return `LWIP_SNAT_ERR_BUSY`).
pub type lwip_snat_port_check_fn = Option<unsafe extern "C" fn(proto: u8, netif_idx: u8, port: u16) -> c_int>;

/// `lwip_snat_concerns.netif` bit: a rule names the netif (as input or output).
#[cfg(feature = "fast-path")]
pub const LWIP_SNAT_CONCERN_NAMED: u8 = 1;
/// `lwip_snat_concerns.netif` bit: the netif is a rule's outside (the router's own services
/// there are guarded).
#[cfg(feature = "fast-path")]
pub const LWIP_SNAT_CONCERN_OUTSIDE: u8 = 2;
/// `lwip_snat_concerns.netif` bit: the netif is a port forward's external netif.
#[cfg(feature = "fast-path")]
pub const LWIP_SNAT_CONCERN_PORTMAPPED: u8 = 4;
/// `lwip_snat_concerns.netif` bit: the netif may hold sessions.
#[cfg(feature = "fast-path")]
pub const LWIP_SNAT_CONCERN_SESSIONS: u8 = 8;

/// What the NAT makes of each netif (`lwip_snat_netif_concerns()`), for the lwIP shim's test of a
/// packet the NAT has nothing to do with.
#[cfg(feature = "fast-path")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lwip_snat_concerns {
    /// `LWIP_SNAT_CONCERN_*` bits, by lwIP netif index. They only ever err toward "concerned".
    pub netif: [u8; 256],
    /// Packets the shim passed on these bits alone; `lwip_snat_stats()` adds them to `passed`.
    pub passed: u32,
}
