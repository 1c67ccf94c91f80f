//! The C API: one statically allocated [`Nat`] behind `extern "C"` functions.
//!
//! This module is the crate's only unsafe boundary. The rules it keeps, after rustls-ffi:
//! every pointer is checked and NULL gives [`lwip_snat_err_t::LWIP_SNAT_ERR_NULL`]; out-params
//! are written only on success; structs read from C hold only integer fields (so any bytes C
//! passes are valid values) and are validated before use; result codes have fixed numbers that
//! are never reused. `include/lwip_snat.h` is generated from this file by `build.rs`.
//!
//! All calls are meant to come from lwIP's core context (the tcpip thread with the core lock,
//! or the NO_SYS main loop). A call made while another one runs — from a `foreach` callback,
//! an interrupt or a thread that forgot the lock — is refused with
//! [`lwip_snat_err_t::LWIP_SNAT_ERR_BUSY`] instead of touching the tables. The guard is an
//! atomic compare-and-swap of a flag where the target has one (`target_has_atomic = "8"`), so
//! two threads never both get in. Cores without compare-and-swap (Cortex-M0/M0+, thumbv6m)
//! fall back to an atomic load and store: that still refuses re-entry from a callback or an
//! interrupt that arrives while a call runs, but two threads can pass the check together, so
//! there callers must hold lwIP's core lock (`LOCK_TCPIP_CORE`) or stay in the tcpip thread.
#![allow(unsafe_code, non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
#[cfg(feature = "dump")]
use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::config::{ConfigError, FullPolicy};
#[cfg(feature = "dump")]
use crate::config::{MAX_ICMP, MAX_TCP, MAX_UDP};
#[cfg(feature = "dump")]
use crate::pcb::{tcp, udp};
use crate::{
    Config, Context, DropReason, Eviction, Filtering, IcmpRequest, Nat, PortCheck, Protocol, Route, Rule, RuleError,
    Verdict,
};
#[cfg(feature = "portmap")]
use crate::{Portmap, PortmapError};

/// Number of drop reasons: the length of `lwip_snat_stats.dropped`.
pub const LWIP_SNAT_DROP_REASONS: usize = 27;
const _: () = assert!(LWIP_SNAT_DROP_REASONS == DropReason::COUNT);

/// Result of every call that can fail. 0 is success; errors are negative, like lwIP's `err_t`.
/// The numbers are part of the ABI and never reused.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_err_t {
    /// Success.
    LWIP_SNAT_OK = 0,
    /// A required pointer argument was NULL.
    LWIP_SNAT_ERR_NULL = -1,
    /// An argument is out of range: netif index 0, unknown kind, protocol, route or filtering
    /// mode, a flag other than 0 or 1, a length the platform cannot address.
    LWIP_SNAT_ERR_ARG = -2,
    /// Another lwip_snat call is running (re-entry from a callback or an interrupt, or a call
    /// from another thread). Nothing was changed. Every call is refused this way while another
    /// runs where the core has an atomic compare-and-swap; on cores without one (Cortex-M0/M0+)
    /// two threads can still get in together, so callers there must hold lwIP's core lock.
    LWIP_SNAT_ERR_BUSY = -3,
    /// `lwip_snat_init` has not succeeded yet.
    LWIP_SNAT_ERR_NOT_INIT = -4,
    /// A configured timeout is 0, above 2^31-1 ms, or below its RFC floor while
    /// `allow_short_timeouts` is 0.
    LWIP_SNAT_ERR_TIMEOUT = -5,
    /// The port range is empty, starts below 1024 or reaches lwIP's own ports (0xC000-0xFFFF).
    LWIP_SNAT_ERR_PORT_RANGE = -6,
    /// All `LWIP_SNAT_MAX_RULES` rule slots are in use.
    LWIP_SNAT_ERR_RULES_FULL = -7,
    /// The same rule is already installed.
    LWIP_SNAT_ERR_RULE_EXISTS = -8,
    /// No such rule is installed.
    LWIP_SNAT_ERR_RULE_NOT_FOUND = -9,
    /// All `LWIP_SNAT_MAX_PORTMAPS` port forward slots are in use.
    LWIP_SNAT_ERR_PORTMAPS_FULL = -10,
    /// The external port is forwarded already, a mapping of another inside endpoint or the
    /// router's own endpoint holds it, or the inside endpoint has a mapping on another port.
    LWIP_SNAT_ERR_PORTMAP_CONFLICT = -11,
    /// No such port forward is installed.
    LWIP_SNAT_ERR_PORTMAP_NOT_FOUND = -12,
    /// The buffer is smaller than the data to copy into it.
    LWIP_SNAT_ERR_BUFFER = -13,
    /// No reassembled datagram is waiting (the last verdict was not `LWIP_SNAT_REASSEMBLED`).
    LWIP_SNAT_ERR_NO_DATAGRAM = -14,
}

use lwip_snat_err_t::*;

/// Kind of an interface rule (`lwip_snat_rule.kind`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_rule_kind {
    /// Translate everything forwarded from `src_netif_idx`, whichever netif it leaves by.
    LWIP_SNAT_RULE_SOURCE = 0,
    /// Translate everything forwarded out of `out_netif_idx` (the usual "WAN" rule).
    LWIP_SNAT_RULE_OUTBOUND = 1,
    /// Translate what is forwarded from `src_netif_idx` out of `out_netif_idx`.
    LWIP_SNAT_RULE_PAIR = 2,
}

/// Which inbound packets may use a mapping (RFC 4787 REQ-8, RFC 5382 REQ-3).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_filtering {
    /// Any remote may send to a mapping.
    LWIP_SNAT_FILTER_ENDPOINT_INDEPENDENT = 0,
    /// Only remote addresses the inside endpoint has sent to.
    LWIP_SNAT_FILTER_ADDRESS_DEPENDENT = 1,
    /// Only remote address:port pairs the inside endpoint has sent to (the default).
    LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT = 2,
}

/// Where lwIP would send a packet (`lwip_snat_ctx.route`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_route {
    /// The destination is one of the router's own addresses, owned by `out_netif_idx`.
    LWIP_SNAT_ROUTE_LOCAL = 0,
    /// lwIP would forward the packet out of `out_netif_idx`.
    LWIP_SNAT_ROUTE_FORWARD = 1,
}

/// IP protocol numbers of the translated protocols (`lwip_snat_session.proto`,
/// `lwip_snat_portmap.proto`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_proto {
    LWIP_SNAT_PROTO_ICMP = 1,
    LWIP_SNAT_PROTO_TCP = 6,
    LWIP_SNAT_PROTO_UDP = 17,
}

/// What the caller must do with a processed packet (`lwip_snat_verdict.action`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_action {
    /// Not the NAT's business: let lwIP go on with the packet unchanged.
    LWIP_SNAT_PASS = 0,
    /// Rewritten in place: let lwIP go on (it routes and forwards the new bytes).
    LWIP_SNAT_TRANSLATED = 1,
    /// Free the packet; `drop_reason` says why (it has been counted).
    LWIP_SNAT_DROP = 2,
    /// The NAT kept a copy of this fragment: free the packet.
    LWIP_SNAT_HELD = 3,
    /// The fragments are complete: copy the whole datagram (`len` bytes) out with
    /// `lwip_snat_reassembled` and feed it to `ip4_input()`; free the packet.
    LWIP_SNAT_REASSEMBLED = 4,
    /// Send ICMP `icmp_type`/`icmp_code` (with `mtu` for 3/4) about the packet as it is, then
    /// free it.
    LWIP_SNAT_SEND_ICMP = 5,
    /// A fragment to the router whose datagram the NAT leaves to lwIP's reassembly: feed
    /// `ip4_input()` each fragment `lwip_snat_released` gives until it gives none, then let
    /// lwIP go on with the packet unchanged.
    LWIP_SNAT_RELEASE = 6,
    /// A TCP segment of a connection evicted from a full table: answer its sender with an RST
    /// in the name of its destination (lwIP's `tcp_rst()`: sequence number = the segment's
    /// acknowledgment number, acknowledging its sequence number plus its length), then free it.
    LWIP_SNAT_SEND_RST = 7,
}

/// Why a packet was dropped: index into `lwip_snat_stats.dropped`. Fixed numbers.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_drop_reason {
    /// IPv4 header invalid: version, header length, total length vs the buffer.
    LWIP_SNAT_DROP_MALFORMED = 0,
    /// IPv4 header checksum wrong.
    LWIP_SNAT_DROP_BAD_CHECKSUM = 1,
    /// Source address that must never be forwarded (0/8, 127/8, multicast 224/4, class E 240/4,
    /// which holds 255.255.255.255).
    LWIP_SNAT_DROP_MARTIAN = 2,
    /// A fragment the NAT cannot handle.
    LWIP_SNAT_DROP_FRAGMENT = 3,
    /// TCP/UDP/ICMP header too short or inconsistent on a NAT path.
    LWIP_SNAT_DROP_BAD_TRANSPORT = 4,
    /// An IP protocol the NAT does not translate (GRE, ESP, ...) on a NAT path.
    LWIP_SNAT_DROP_UNSUPPORTED_PROTOCOL = 5,
    /// Outbound packet that may not create a mapping and has none (a TCP non-SYN).
    LWIP_SNAT_DROP_NO_MAPPING = 6,
    /// Inbound packet refused by the mapping's filtering mode.
    LWIP_SNAT_DROP_FILTERED = 7,
    /// The protocol's table is full of live sessions.
    LWIP_SNAT_DROP_TABLE_FULL = 8,
    /// The inside host opened its quota of sessions in this protocol's table.
    LWIP_SNAT_DROP_HOST_QUOTA = 9,
    /// No external port (or ICMP identifier) of the needed class is free.
    LWIP_SNAT_DROP_PORTS_EXHAUSTED = 10,
    /// ICMP error with a bad ICMP or quoted-IP checksum.
    LWIP_SNAT_DROP_ICMP_BAD_CHECKSUM = 11,
    /// ICMP error or reply about a datagram no live mapping matches.
    LWIP_SNAT_DROP_ICMP_NO_MAPPING = 12,
    /// ICMP error quoting too little to identify the datagram.
    LWIP_SNAT_DROP_ICMP_MALFORMED = 13,
    /// Forwarded from the outside straight to an inside address, against a rule.
    LWIP_SNAT_DROP_REVERSE_DIRECTION = 14,
    /// ICMP error to translate inbound or hairpin with TTL <= 1, or an outbound packet with TTL 0.
    LWIP_SNAT_DROP_TTL_EXPIRED = 15,
    /// A fragment whose bytes differ from bytes already held: the whole datagram is dropped.
    LWIP_SNAT_DROP_FRAGMENT_OVERLAP = 16,
    /// A first fragment too short for the whole transport header (RFC 1858).
    LWIP_SNAT_DROP_FRAGMENT_TOO_SHORT = 17,
    /// Fragments adding up to more than 65535 bytes.
    LWIP_SNAT_DROP_FRAGMENT_TOO_BIG = 18,
    /// A fragment past the largest datagram the pool holds (`LWIP_SNAT_REASS_BYTES`).
    LWIP_SNAT_DROP_FRAGMENT_BEYOND_LIMIT = 19,
    /// No longer produced (a new datagram evicts the oldest; see `reass_evicted`).
    LWIP_SNAT_DROP_REASSEMBLY_FULL = 20,
    /// No longer produced (a fragment short of pool bytes evicts the oldest; see `reass_evicted`).
    LWIP_SNAT_DROP_REASSEMBLY_NO_ROOM = 21,
    /// A fragment that brings nothing new.
    LWIP_SNAT_DROP_FRAGMENT_DUPLICATE = 22,
    /// A TCP SYN from outside that no mapping, port forward or router listener takes
    /// (dropped silently, no RST: RFC 5382 REQ-4).
    LWIP_SNAT_DROP_UNSOLICITED_SYN = 23,
    /// An ICMP error with DF set, too big for the next link (no ICMP error about an ICMP error).
    LWIP_SNAT_DROP_ICMP_ERROR_TOO_BIG = 24,
    /// A mapping holds `mapping_sessions` sessions already.
    LWIP_SNAT_DROP_MAPPING_FULL = 25,
    /// A remote sender would open a session to an inside host that holds half its quota of
    /// sessions opened from outside.
    LWIP_SNAT_DROP_REMOTE_QUOTA = 26,
}

impl lwip_snat_drop_reason {
    /// The C number of a core reason (an exhaustive match: a new reason must be added here).
    fn from_core(reason: DropReason) -> Self {
        use lwip_snat_drop_reason::*;
        match reason {
            DropReason::Malformed => LWIP_SNAT_DROP_MALFORMED,
            DropReason::BadChecksum => LWIP_SNAT_DROP_BAD_CHECKSUM,
            DropReason::Martian => LWIP_SNAT_DROP_MARTIAN,
            DropReason::Fragment => LWIP_SNAT_DROP_FRAGMENT,
            DropReason::BadTransport => LWIP_SNAT_DROP_BAD_TRANSPORT,
            DropReason::UnsupportedProtocol => LWIP_SNAT_DROP_UNSUPPORTED_PROTOCOL,
            DropReason::NoMapping => LWIP_SNAT_DROP_NO_MAPPING,
            DropReason::Filtered => LWIP_SNAT_DROP_FILTERED,
            DropReason::TableFull => LWIP_SNAT_DROP_TABLE_FULL,
            DropReason::HostQuota => LWIP_SNAT_DROP_HOST_QUOTA,
            DropReason::PortsExhausted => LWIP_SNAT_DROP_PORTS_EXHAUSTED,
            DropReason::IcmpBadChecksum => LWIP_SNAT_DROP_ICMP_BAD_CHECKSUM,
            DropReason::IcmpNoMapping => LWIP_SNAT_DROP_ICMP_NO_MAPPING,
            DropReason::IcmpMalformed => LWIP_SNAT_DROP_ICMP_MALFORMED,
            DropReason::ReverseDirection => LWIP_SNAT_DROP_REVERSE_DIRECTION,
            DropReason::TtlExpired => LWIP_SNAT_DROP_TTL_EXPIRED,
            DropReason::FragmentOverlap => LWIP_SNAT_DROP_FRAGMENT_OVERLAP,
            DropReason::FragmentTooShort => LWIP_SNAT_DROP_FRAGMENT_TOO_SHORT,
            DropReason::FragmentTooBig => LWIP_SNAT_DROP_FRAGMENT_TOO_BIG,
            DropReason::FragmentBeyondLimit => LWIP_SNAT_DROP_FRAGMENT_BEYOND_LIMIT,
            DropReason::ReassemblyFull => LWIP_SNAT_DROP_REASSEMBLY_FULL,
            DropReason::ReassemblyNoRoom => LWIP_SNAT_DROP_REASSEMBLY_NO_ROOM,
            DropReason::FragmentDuplicate => LWIP_SNAT_DROP_FRAGMENT_DUPLICATE,
            DropReason::UnsolicitedSyn => LWIP_SNAT_DROP_UNSOLICITED_SYN,
            DropReason::IcmpErrorTooBig => LWIP_SNAT_DROP_ICMP_ERROR_TOO_BIG,
            DropReason::MappingFull => LWIP_SNAT_DROP_MAPPING_FULL,
            DropReason::RemoteQuota => LWIP_SNAT_DROP_REMOTE_QUOTA,
        }
    }
}

/// Run-time settings (`lwip_snat_config_default` fills in the defaults, which meet every RFC
/// floor). Flags are 0 or 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// TCP filtering, an `lwip_snat_filtering` value.
    pub tcp_filtering: u8,
    /// UDP filtering, an `lwip_snat_filtering` value.
    pub udp_filtering: u8,
    /// 1: answer a new flow refused for lack of room with ICMP 3/13; 0: drop silently.
    pub reject_when_full: u8,
    /// 1: accept timeouts below the RFC floors (tiny-RAM builds).
    pub allow_short_timeouts: u8,
    /// 1 (default): lower the MSS of forwarded TCP SYNs to what the output MTU carries.
    pub mss_clamp: u8,
    /// 128-bit key for unpredictable port choice and the table hashes (RFC 6056): fill it
    /// from a good random source. `lwip_snat_start` uses `LWIP_RAND()` when it is all zero;
    /// `lwip_snat_set_config` ignores it.
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
    /// (default 120000).
    pub evict_idle_ms: u32,
    /// What a new flow finding its table full does, an `lwip_snat_full_policy` value.
    pub full_policy: u8,
}

/// What a new flow that finds its table full of live sessions does
/// (`lwip_snat_config.full_policy`). Either way a TCP session closed by both FINs or an RST
/// gives way first, and a session created from outside never displaces one created from inside.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lwip_snat_full_policy {
    /// Refuse the new flow (default): live sessions are never evicted.
    LWIP_SNAT_FULL_REJECT = 0,
    /// Evict the least recently used half-open, answered (DNS, NTP) or long idle session; an
    /// established TCP connection so evicted is reset at both ends when they next send.
    LWIP_SNAT_FULL_EVICT = 1,
}

impl lwip_snat_config {
    fn from_core(config: &Config) -> Self {
        lwip_snat_config {
            tcp_established_ms: config.tcp_established_ms,
            tcp_transitory_ms: config.tcp_transitory_ms,
            udp_ms: config.udp_ms,
            icmp_ms: config.icmp_ms,
            reass_timeout_ms: config.reass_timeout_ms,
            port_range_start: config.port_range.0,
            port_range_end: config.port_range.1,
            host_quota: config.host_quota,
            tcp_filtering: config.tcp_filtering as u8,
            udp_filtering: config.udp_filtering as u8,
            reject_when_full: u8::from(config.reject_when_full),
            allow_short_timeouts: u8::from(config.allow_short_timeouts),
            mss_clamp: u8::from(config.mss_clamp),
            seed: [0; 16],
            mapping_sessions: config.mapping_sessions,
            udp_dns_ms: config.udp_dns_ms,
            udp_ntp_ms: config.udp_ntp_ms,
            evict_idle_ms: config.evict_idle_ms,
            full_policy: config.full_policy as u8,
        }
    }

    /// The core settings and seed, or the error code that names what is wrong.
    fn to_core(self) -> Result<(Config, [u64; 2]), lwip_snat_err_t> {
        let config = Config {
            tcp_established_ms: self.tcp_established_ms,
            tcp_transitory_ms: self.tcp_transitory_ms,
            udp_ms: self.udp_ms,
            icmp_ms: self.icmp_ms,
            port_range: (self.port_range_start, self.port_range_end),
            tcp_filtering: filtering(self.tcp_filtering)?,
            udp_filtering: filtering(self.udp_filtering)?,
            host_quota: self.host_quota,
            reject_when_full: flag(self.reject_when_full)?,
            allow_short_timeouts: flag(self.allow_short_timeouts)?,
            mss_clamp: flag(self.mss_clamp)?,
            reass_timeout_ms: self.reass_timeout_ms,
            mapping_sessions: self.mapping_sessions,
            udp_dns_ms: self.udp_dns_ms,
            udp_ntp_ms: self.udp_ntp_ms,
            full_policy: match self.full_policy {
                0 => FullPolicy::Reject,
                1 => FullPolicy::Evict,
                _ => return Err(LWIP_SNAT_ERR_ARG),
            },
            evict_idle_ms: self.evict_idle_ms,
        };
        config.validate().map_err(|e| match e {
            ConfigError::Timeout => LWIP_SNAT_ERR_TIMEOUT,
            ConfigError::PortRange => LWIP_SNAT_ERR_PORT_RANGE,
        })?;
        let (low, high) = self.seed.split_at(8);
        let word = |bytes: &[u8]| bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Ok((config, [word(low), word(high)]))
    }
}

fn filtering(value: u8) -> Result<Filtering, lwip_snat_err_t> {
    match value {
        0 => Ok(Filtering::EndpointIndependent),
        1 => Ok(Filtering::AddressDependent),
        2 => Ok(Filtering::AddressAndPortDependent),
        _ => Err(LWIP_SNAT_ERR_ARG),
    }
}

fn flag(value: u8) -> Result<bool, lwip_snat_err_t> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(LWIP_SNAT_ERR_ARG),
    }
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

impl lwip_snat_rule {
    fn to_core(self) -> Result<Rule, lwip_snat_err_t> {
        let index = |i: u8| if i == 0 { Err(LWIP_SNAT_ERR_ARG) } else { Ok(i) };
        match self.kind {
            0 => Ok(Rule::Source(index(self.src_netif_idx)?)),
            1 => Ok(Rule::Outbound(index(self.out_netif_idx)?)),
            2 => Ok(Rule::Pair(index(self.src_netif_idx)?, index(self.out_netif_idx)?)),
            _ => Err(LWIP_SNAT_ERR_ARG),
        }
    }
}

/// A static port forwarding: `proto` traffic to external port `ext_port` on the address of
/// `out_netif_idx` goes to `inside_addr`:`inside_port` (addresses in host byte order).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct lwip_snat_portmap {
    pub inside_addr: u32,
    pub ext_port: u16,
    pub inside_port: u16,
    /// `LWIP_SNAT_PROTO_TCP` or `LWIP_SNAT_PROTO_UDP`.
    pub proto: u8,
    pub out_netif_idx: u8,
}

#[cfg(feature = "portmap")]
impl lwip_snat_portmap {
    fn to_core(self) -> Result<Portmap, lwip_snat_err_t> {
        let protocol = match Protocol::from_ip(self.proto) {
            Some(p @ (Protocol::Tcp | Protocol::Udp)) => p,
            _ => return Err(LWIP_SNAT_ERR_ARG),
        };
        if self.out_netif_idx == 0 {
            return Err(LWIP_SNAT_ERR_ARG);
        }
        Ok(Portmap {
            protocol,
            netif: self.out_netif_idx,
            ext_port: self.ext_port,
            inside: self.inside_addr,
            in_port: self.inside_port,
        })
    }
}

#[cfg(feature = "portmap")]
fn portmap_error(e: PortmapError) -> lwip_snat_err_t {
    match e {
        PortmapError::Full => LWIP_SNAT_ERR_PORTMAPS_FULL,
        PortmapError::Conflict => LWIP_SNAT_ERR_PORTMAP_CONFLICT,
        PortmapError::Invalid => LWIP_SNAT_ERR_ARG,
        PortmapError::NotFound => LWIP_SNAT_ERR_PORTMAP_NOT_FOUND,
    }
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

impl lwip_snat_ctx {
    fn to_core(self) -> Result<Context, lwip_snat_err_t> {
        if self.in_netif_idx == 0 || self.out_netif_idx == 0 {
            return Err(LWIP_SNAT_ERR_ARG);
        }
        let route = match self.route {
            0 => Route::Local { netif: self.out_netif_idx, mtu: self.out_mtu },
            1 => Route::Forward { out_netif: self.out_netif_idx, out_addr: self.out_addr, out_mtu: self.out_mtu },
            _ => return Err(LWIP_SNAT_ERR_ARG),
        };
        Ok(Context { in_netif: self.in_netif_idx, route })
    }
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

impl lwip_snat_verdict {
    fn from_core(verdict: Verdict) -> Self {
        use lwip_snat_action::*;
        let mut out = lwip_snat_verdict { len: 0, mtu: 0, action: 0, drop_reason: 0, icmp_type: 0, icmp_code: 0 };
        out.action = match verdict {
            Verdict::Pass => LWIP_SNAT_PASS,
            Verdict::Translated => LWIP_SNAT_TRANSLATED,
            Verdict::Drop(reason) => {
                out.drop_reason = lwip_snat_drop_reason::from_core(reason) as u8;
                LWIP_SNAT_DROP
            }
            Verdict::Held => LWIP_SNAT_HELD,
            Verdict::Release => LWIP_SNAT_RELEASE,
            Verdict::Reassembled(len) => {
                out.len = u32::try_from(len).unwrap_or(u32::MAX);
                LWIP_SNAT_REASSEMBLED
            }
            Verdict::SendIcmp(request) => {
                (out.icmp_type, out.icmp_code) = match request {
                    IcmpRequest::TimeExceeded => (11, 0),
                    IcmpRequest::FragmentationNeeded { mtu } => {
                        out.mtu = mtu;
                        (3, 4)
                    }
                    IcmpRequest::AdminProhibited => (3, 13),
                };
                LWIP_SNAT_SEND_ICMP
            }
            Verdict::SendTcpReset => LWIP_SNAT_SEND_RST,
        } as u8;
        out
    }
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
    /// Packets between two inside hosts translated on both sides (hairpinning).
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
    pub tcp: lwip_snat_proto_stats,
    pub udp: lwip_snat_proto_stats,
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
    /// ... half-open TCP connections and answered DNS or NTP queries (`LWIP_SNAT_FULL_EVICT`).
    pub evicted_transitory: u32,
    /// ... sessions idle longer than `evict_idle_ms` (`LWIP_SNAT_FULL_EVICT`).
    pub evicted_idle: u32,
    /// RSTs the NAT asked for (`LWIP_SNAT_SEND_RST`) to the ends of evicted connections.
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

/// The NAT and whether `lwip_snat_init` succeeded.
struct State {
    nat: Nat,
    ready: bool,
}

/// The one instance, in `.bss`/`.data`, never on the heap; see the module doc for the guard.
struct Instance {
    busy: AtomicBool,
    state: UnsafeCell<State>,
    /// The C port check the NAT's [`PortCheck`] hands over to; written only inside `enter`.
    port_check: UnsafeCell<lwip_snat_port_check_fn>,
}

// SAFETY: `state` is only reached through `enter`, which lets one call at a time in (see
// `claim` for cores without compare-and-swap).
unsafe impl Sync for Instance {}

static INSTANCE: Instance = Instance {
    busy: AtomicBool::new(false),
    state: UnsafeCell::new(State { nat: Nat::new(), ready: false }),
    port_check: UnsafeCell::new(None),
};

/// Sets `busy` if it was clear; false when another call holds it.
#[cfg(target_has_atomic = "8")]
#[inline(always)]
fn claim(busy: &AtomicBool) -> bool {
    busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// Without compare-and-swap: a load then a store, exclusive only within one thread (see the
/// module doc).
#[cfg(not(target_has_atomic = "8"))]
#[inline(always)]
fn claim(busy: &AtomicBool) -> bool {
    if busy.load(Ordering::Acquire) {
        return false;
    }
    busy.store(true, Ordering::Release);
    true
}

/// Runs `f` with exclusive access to the state, or refuses with `LWIP_SNAT_ERR_BUSY`.
fn enter<R>(f: impl FnOnce(&mut State) -> Result<R, lwip_snat_err_t>) -> Result<R, lwip_snat_err_t> {
    if !claim(&INSTANCE.busy) {
        return Err(LWIP_SNAT_ERR_BUSY);
    }
    // SAFETY: this call set `busy`, so no other reference to the state exists: with
    // compare-and-swap in any thread, without it in this one (the contract for such cores
    // excludes calls from other threads).
    let state = unsafe { &mut *INSTANCE.state.get() };
    let result = f(state);
    INSTANCE.busy.store(false, Ordering::Release);
    result
}

/// Like `enter`, for calls that need a successful `lwip_snat_init`.
fn enter_ready<R>(f: impl FnOnce(&mut Nat) -> Result<R, lwip_snat_err_t>) -> Result<R, lwip_snat_err_t> {
    enter(|state| if state.ready { f(&mut state.nat) } else { Err(LWIP_SNAT_ERR_NOT_INIT) })
}

fn code(result: Result<(), lwip_snat_err_t>) -> lwip_snat_err_t {
    result.err().unwrap_or(LWIP_SNAT_OK)
}

/// Reads a C struct of plain integers, or `LWIP_SNAT_ERR_NULL`. Unaligned reads, so a struct in
/// a packed buffer is no undefined behaviour either.
///
/// # Safety
/// `ptr` is NULL or points to a readable `T`.
unsafe fn read<T: Copy>(ptr: *const T) -> Result<T, lwip_snat_err_t> {
    if ptr.is_null() {
        return Err(LWIP_SNAT_ERR_NULL);
    }
    // SAFETY: readable per the contract; every `T` used here is integers only, so any bytes
    // are a valid value.
    Ok(unsafe { ptr.read_unaligned() })
}

fn rule_error(e: RuleError) -> lwip_snat_err_t {
    match e {
        RuleError::Full => LWIP_SNAT_ERR_RULES_FULL,
        RuleError::Exists => LWIP_SNAT_ERR_RULE_EXISTS,
        RuleError::NotFound => LWIP_SNAT_ERR_RULE_NOT_FOUND,
    }
}

/// Fills `*out` with the default settings (RFC floors, full port range, address-and-port
/// dependent filtering) and an all-zero seed.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_config` (any alignment).
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_config_default(out: *mut lwip_snat_config) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    // SAFETY: non-NULL and writable per the contract.
    unsafe { out.write_unaligned(lwip_snat_config::from_core(&Config::DEFAULT)) };
    LWIP_SNAT_OK
}

/// Resets all state (sessions, rules, counters) and starts with `cfg`, or with the defaults
/// and an all-zero seed when `cfg` is NULL. An invalid `cfg` changes nothing.
///
/// # Safety
/// `cfg` is NULL or points to a readable `lwip_snat_config`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_init(cfg: *const lwip_snat_config) -> lwip_snat_err_t {
    let parsed = if cfg.is_null() {
        Ok((Config::DEFAULT, [0, 0]))
    } else {
        // SAFETY: non-NULL and readable per the contract.
        unsafe { read(cfg) }.and_then(lwip_snat_config::to_core)
    };
    code(parsed.and_then(|(config, seed)| {
        enter(|state| {
            state.nat.reset(config, seed).map_err(|_| LWIP_SNAT_ERR_ARG)?;
            state.ready = true;
            Ok(())
        })
    }))
}

/// Changes the settings at run time: filtering, timeouts, port range, host quota, reject and
/// MSS clamping take effect from the next packet or tick, for live sessions too (a shorter
/// timeout expires them sooner, a more open filter admits more). Sessions, rules, port
/// forwards and counters stay. `cfg->seed` is ignored: the tables are keyed with the seed
/// given at init. An invalid `cfg` changes nothing (same checks as `lwip_snat_init`).
///
/// # Safety
/// `cfg` is NULL or points to a readable `lwip_snat_config`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_set_config(cfg: *const lwip_snat_config) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    let parsed = unsafe { read(cfg) }.and_then(lwip_snat_config::to_core);
    code(parsed.and_then(|(config, _seed)| {
        enter_ready(|nat| {
            nat.set_config(config).map_err(|_| LWIP_SNAT_ERR_ARG)?;
            Ok(())
        })
    }))
}

/// Writes the settings in force into `*out` (seed all zero), e.g. to change one field with
/// `lwip_snat_set_config`.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_config` (any alignment).
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_get_config(out: *mut lwip_snat_config) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    match enter_ready(|nat| Ok(lwip_snat_config::from_core(nat.config()))) {
        Ok(config) => {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { out.write_unaligned(config) };
            LWIP_SNAT_OK
        }
        Err(e) => e,
    }
}

/// Installs an interface rule.
///
/// # Safety
/// `rule` is NULL or points to a readable `lwip_snat_rule`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_rule_add(rule: *const lwip_snat_rule) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    let rule = unsafe { read(rule) }.and_then(lwip_snat_rule::to_core);
    code(rule.and_then(|rule| enter_ready(|nat| nat.add_rule(rule).map_err(rule_error))))
}

/// Removes an interface rule. Sessions it created stay until they expire.
///
/// # Safety
/// `rule` is NULL or points to a readable `lwip_snat_rule`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_rule_remove(rule: *const lwip_snat_rule) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    let rule = unsafe { read(rule) }.and_then(lwip_snat_rule::to_core);
    code(rule.and_then(|rule| enter_ready(|nat| nat.remove_rule(rule).map_err(rule_error))))
}

/// Forwards `map->ext_port` on the address of `map->out_netif_idx` to
/// `map->inside_addr`:`map->inside_port` (TCP or UDP), whoever sends to it.
/// `LWIP_SNAT_ERR_ARG` for port 0 (either side) and for an inside address that cannot be a
/// host: 0.0.0.0/8, loopback 127/8, multicast 224/4, class E 240/4 (which holds
/// 255.255.255.255).
///
/// # Safety
/// `map` is NULL or points to a readable `lwip_snat_portmap`.
#[cfg(feature = "portmap")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_portmap_add(map: *const lwip_snat_portmap) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    let map = unsafe { read(map) }.and_then(lwip_snat_portmap::to_core);
    code(map.and_then(|map| enter_ready(|nat| nat.add_portmap(map).map_err(portmap_error))))
}

/// Removes a port forward and the sessions that came in through it.
///
/// # Safety
/// `map` is NULL or points to a readable `lwip_snat_portmap`.
#[cfg(feature = "portmap")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_portmap_remove(map: *const lwip_snat_portmap) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    let map = unsafe { read(map) }.and_then(lwip_snat_portmap::to_core);
    code(map.and_then(|map| enter_ready(|nat| nat.remove_portmap(map).map_err(portmap_error))))
}

/// Runs one IPv4 packet through the NAT, rewriting it in place when it is translated, and
/// writes what to do next into `*verdict`. `pkt` starts at the IPv4 header; bytes after its
/// total length are ignored. `now_ms` is a wrapping millisecond clock (`sys_now()`).
/// Whatever the bytes, the outcome is a verdict (malformed packets are dropped and counted).
///
/// # Safety
/// `pkt` is NULL or points to `len` writable bytes that nothing else accesses during the call;
/// `ctx` is NULL or readable; `verdict` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_process(
    pkt: *mut u8,
    len: usize,
    ctx: *const lwip_snat_ctx,
    now_ms: u32,
    verdict: *mut lwip_snat_verdict,
) -> lwip_snat_err_t {
    if pkt.is_null() || verdict.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    if len > isize::MAX as usize {
        return LWIP_SNAT_ERR_ARG;
    }
    // SAFETY: NULL or readable per the contract.
    let ctx = match unsafe { read(ctx) }.and_then(lwip_snat_ctx::to_core) {
        Ok(ctx) => ctx,
        Err(e) => return e,
    };
    let result = enter_ready(|nat| {
        // SAFETY: non-NULL, `len` writable bytes not aliased during the call, len <= isize::MAX.
        let packet = unsafe { core::slice::from_raw_parts_mut(pkt, len) };
        Ok(nat.process(packet, &ctx, now_ms))
    });
    match result {
        Ok(v) => {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { verdict.write_unaligned(lwip_snat_verdict::from_core(v)) };
            LWIP_SNAT_OK
        }
        Err(e) => e,
    }
}

/// After `LWIP_SNAT_RELEASE`: copies the next fragment the NAT held of the released datagram
/// into `buf` (room for `cap` bytes; a smaller `buf` gets smaller fragments) and writes its length to `*len`, 0 when none is left. A NULL `buf` or a `cap`
/// below 28 discards the rest. Feed each to `ip4_input()` before the next call.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_released(buf: *mut u8, cap: usize, len: *mut usize) -> lwip_snat_err_t {
    if len.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    let out: &mut [u8] = if buf.is_null() {
        &mut []
    } else {
        // SAFETY: `buf` points to `cap` writable bytes per the contract, and cannot overlap the
        // NAT's own pool, which C never sees.
        unsafe { core::slice::from_raw_parts_mut(buf, cap) }
    };
    let written = match enter_ready(|nat| Ok(nat.next_released(out))) {
        Ok(written) => written,
        Err(e) => return e,
    };
    // SAFETY: non-NULL and writable per the contract.
    unsafe { len.write_unaligned(written) };
    LWIP_SNAT_OK
}

/// Copies the datagram the last `LWIP_SNAT_REASSEMBLED` verdict announced into `buf` (room for
/// `cap` bytes) and writes its length to `*len`. Call it before any other lwip_snat call.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_reassembled(buf: *mut u8, cap: usize, len: *mut usize) -> lwip_snat_err_t {
    if buf.is_null() || len.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    code(enter_ready(|nat| {
        let datagram = nat.reassembled();
        if datagram.is_empty() {
            return Err(LWIP_SNAT_ERR_NO_DATAGRAM);
        }
        if datagram.len() > cap {
            return Err(LWIP_SNAT_ERR_BUFFER);
        }
        // SAFETY: `buf` has room for `cap` >= datagram.len() bytes per the contract, and it
        // cannot overlap the NAT's own pool, which C never sees.
        unsafe { core::ptr::copy_nonoverlapping(datagram.as_ptr(), buf, datagram.len()) };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { len.write_unaligned(datagram.len()) };
        Ok(())
    }))
}

/// Removes sessions idle past their timeout. Call about once a second (the shim's timer does).
#[no_mangle]
pub extern "C" fn lwip_snat_tick(now_ms: u32) -> lwip_snat_err_t {
    code(enter_ready(|nat| {
        nat.tick(now_ms);
        Ok(())
    }))
}

/// The netif's address changed or it went down: its mappings are dropped.
#[no_mangle]
pub extern "C" fn lwip_snat_netif_changed(netif_idx: u8) -> lwip_snat_err_t {
    if netif_idx == 0 {
        return LWIP_SNAT_ERR_ARG;
    }
    code(enter_ready(|nat| {
        nat.netif_changed(netif_idx);
        Ok(())
    }))
}

/// Drops every session of one inside host (address in host byte order).
#[no_mangle]
pub extern "C" fn lwip_snat_remove_host(addr: u32) -> lwip_snat_err_t {
    code(enter_ready(|nat| {
        nat.remove_host(addr);
        Ok(())
    }))
}

/// Registers `check` (NULL removes it): which ports and ICMP identifiers the router's own
/// endpoints hold. The NAT then never hands them to inside hosts (port preservation and
/// allocation skip them), refuses port forwards of them (`LWIP_SNAT_ERR_PORTMAP_CONFLICT`),
/// lets inbound packets for them reach lwIP even where an older mapping's filter would take
/// them, and drops unsolicited SYNs from outside to ports nothing holds instead of letting
/// lwIP answer RST (RFC 5382 REQ-4). Without one, the NAT knows only lwIP's ephemeral range.
/// Kept across `lwip_snat_init`; may be called before it. `lwip_snat_start()` registers the
/// shim's check, which answers from lwIP's pcb lists.
///
/// # Safety
/// `check` is NULL or a function that is safe to call with any arguments whenever lwip_snat
/// runs, until it is replaced.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_set_port_check(check: lwip_snat_port_check_fn) -> lwip_snat_err_t {
    code(enter(|state| {
        // SAFETY: inside `enter`, so no NAT call (the only reader, `c_port_check`) is running.
        unsafe { *INSTANCE.port_check.get() = check };
        state.nat.set_port_check(check.map(|_| c_port_check as PortCheck));
        Ok(())
    }))
}

/// The NAT's [`PortCheck`] while a C one is registered: asks it.
fn c_port_check(protocol: Protocol, netif: u8, port: u16) -> bool {
    // SAFETY: called by the NAT, so inside `enter`; the cell is written only inside `enter`
    // and no reference to it outlives that write.
    let check = unsafe { *INSTANCE.port_check.get() };
    // SAFETY: callable with any arguments per `lwip_snat_set_port_check`'s contract.
    check.is_some_and(|f| unsafe { f(protocol as u8, netif, port) } != 0)
}

/// Drops every session; rules, settings and counters stay.
#[no_mangle]
pub extern "C" fn lwip_snat_flush() -> lwip_snat_err_t {
    code(enter_ready(|nat| {
        nat.flush();
        Ok(())
    }))
}

/// Copies the counters into `*out`.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_stats`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_stats(out: *mut lwip_snat_stats) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    let stats = enter_ready(|nat| {
        let s = nat.stats();
        let in_flight = nat.fragments_in_flight();
        let proto = |p: Protocol| lwip_snat_proto_stats {
            created: s.created[p.index()],
            expired: s.expired[p.index()],
            in_use: u16::try_from(nat.sessions_in_use(p)).unwrap_or(u16::MAX),
            high_water: u16::try_from(nat.sessions_high_water(p)).unwrap_or(u16::MAX),
            capacity: u16::try_from(nat.capacity(p)).unwrap_or(u16::MAX),
        };
        Ok(lwip_snat_stats {
            translated_out: s.translated_out,
            translated_in: s.translated_in,
            icmp_errors_translated: s.icmp_errors_translated,
            passed: s.passed,
            icmp_requested: s.icmp_requested,
            hairpinned: s.hairpinned,
            mss_clamped: s.mss_clamped,
            dropped: s.dropped,
            fragments_held: s.fragments_held,
            reassembled: s.reassembled,
            reass_expired: s.reass_expired,
            reass_bytes_in_use: u32::try_from(in_flight.1).unwrap_or(u32::MAX),
            reass_in_flight: u16::try_from(in_flight.0).unwrap_or(u16::MAX),
            tcp: proto(Protocol::Tcp),
            udp: proto(Protocol::Udp),
            icmp: proto(Protocol::Icmp),
            hosts_untracked: s.hosts_untracked,
            reass_evicted: s.reass_evicted,
            reass_released: s.reass_released,
            evicted_closed: s.evicted[Eviction::Closed as usize],
            evicted_transitory: s.evicted[Eviction::Transitory as usize],
            evicted_idle: s.evicted[Eviction::Idle as usize],
            resets_requested: s.resets_requested,
        })
    });
    match stats {
        Ok(stats) => {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { out.write_unaligned(stats) };
            LWIP_SNAT_OK
        }
        Err(e) => e,
    }
}

/// Calls `cb(session, arg)` once per live session (a `conntrack -L` style dump). `now_ms` is
/// the clock the idle times are computed against.
///
/// # Safety
/// `cb` is NULL or a function that is safe to call with a valid session pointer and `arg`.
#[cfg(feature = "dump")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_foreach(cb: lwip_snat_foreach_fn, arg: *mut c_void, now_ms: u32) -> lwip_snat_err_t {
    let Some(cb) = cb else {
        return LWIP_SNAT_ERR_NULL;
    };
    code(enter_ready(|nat| {
        for (protocol, session) in nat.sessions() {
            let info = lwip_snat_session {
                inside_addr: session.inside,
                remote_addr: session.remote,
                idle_ms: now_ms.wrapping_sub(session.last_used),
                timeout_ms: nat.timeout_ms(protocol, session),
                inside_port: session.in_port,
                ext_port: session.ext_port,
                remote_port: session.remote_port,
                proto: protocol as u8,
                ext_netif_idx: session.netif,
                state: if protocol == Protocol::Icmp {
                    0
                } else {
                    Nat::<MAX_TCP, MAX_UDP, MAX_ICMP>::session_state(session)
                },
                admitted: u8::from(session.opened_by_remote()),
                evictable: u8::from(nat.evictable(protocol, session, now_ms)),
            };
            // SAFETY: `cb` is callable per the contract; `info` outlives the call. Calls it
            // makes back into this API find `busy` set and are refused.
            unsafe { cb(&info, arg) };
        }
        Ok(())
    }))
}

/// Short name of a drop reason ("bad_checksum", ...), or NULL for an unknown number.
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_drop_reason_name(reason: u8) -> *const c_char {
    match DropReason::ALL.get(usize::from(reason)) {
        Some(&r) => drop_reason_cname(r).as_ptr(),
        None => core::ptr::null(),
    }
}

#[cfg(feature = "dump")]
fn drop_reason_cname(reason: DropReason) -> &'static CStr {
    match reason {
        DropReason::Malformed => c"malformed",
        DropReason::BadChecksum => c"bad_checksum",
        DropReason::Martian => c"martian",
        DropReason::Fragment => c"fragment",
        DropReason::BadTransport => c"bad_transport",
        DropReason::UnsupportedProtocol => c"unsupported_protocol",
        DropReason::NoMapping => c"no_mapping",
        DropReason::Filtered => c"filtered",
        DropReason::TableFull => c"table_full",
        DropReason::HostQuota => c"host_quota",
        DropReason::PortsExhausted => c"ports_exhausted",
        DropReason::IcmpBadChecksum => c"icmp_bad_checksum",
        DropReason::IcmpNoMapping => c"icmp_no_mapping",
        DropReason::IcmpMalformed => c"icmp_malformed",
        DropReason::ReverseDirection => c"reverse_direction",
        DropReason::TtlExpired => c"ttl_expired",
        DropReason::FragmentOverlap => c"fragment_overlap",
        DropReason::FragmentTooShort => c"fragment_too_short",
        DropReason::FragmentTooBig => c"fragment_too_big",
        DropReason::FragmentBeyondLimit => c"fragment_beyond_limit",
        DropReason::ReassemblyFull => c"reassembly_full",
        DropReason::ReassemblyNoRoom => c"reassembly_no_room",
        DropReason::FragmentDuplicate => c"fragment_duplicate",
        DropReason::UnsolicitedSyn => c"unsolicited_syn",
        DropReason::IcmpErrorTooBig => c"icmp_error_too_big",
        DropReason::MappingFull => c"mapping_full",
        DropReason::RemoteQuota => c"remote_quota",
    }
}

/// Name of a TCP session state as `lwip_snat_session.state` holds it ("ESTABLISHED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_tcp_state_name(state: u8) -> *const c_char {
    const NAMES: [&CStr; 6] = [c"RESET", c"TIME_WAIT", c"FIN_WAIT", c"ESTABLISHED", c"SYN_SENT", c"SYN_RECV"];
    let name = tcp::name(state).as_bytes();
    NAMES.iter().find(|c| c.to_bytes() == name).map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Name of a UDP session state as `lwip_snat_session.state` holds it ("DNS_ANSWERED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_udp_state_name(state: u8) -> *const c_char {
    const NAMES: [&CStr; 5] = [c"OPEN", c"DNS_QUERY", c"DNS_ANSWERED", c"NTP_QUERY", c"NTP_ANSWERED"];
    let name = udp::name(state).as_bytes();
    NAMES.iter().find(|c| c.to_bytes() == name).map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Name of a result code ("LWIP_SNAT_ERR_NULL", ...), or NULL for an unknown number.
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_strerror(err: i32) -> *const c_char {
    let name = match err {
        0 => c"LWIP_SNAT_OK",
        -1 => c"LWIP_SNAT_ERR_NULL",
        -2 => c"LWIP_SNAT_ERR_ARG",
        -3 => c"LWIP_SNAT_ERR_BUSY",
        -4 => c"LWIP_SNAT_ERR_NOT_INIT",
        -5 => c"LWIP_SNAT_ERR_TIMEOUT",
        -6 => c"LWIP_SNAT_ERR_PORT_RANGE",
        -7 => c"LWIP_SNAT_ERR_RULES_FULL",
        -8 => c"LWIP_SNAT_ERR_RULE_EXISTS",
        -9 => c"LWIP_SNAT_ERR_RULE_NOT_FOUND",
        -10 => c"LWIP_SNAT_ERR_PORTMAPS_FULL",
        -11 => c"LWIP_SNAT_ERR_PORTMAP_CONFLICT",
        -12 => c"LWIP_SNAT_ERR_PORTMAP_NOT_FOUND",
        -13 => c"LWIP_SNAT_ERR_BUFFER",
        -14 => c"LWIP_SNAT_ERR_NO_DATAGRAM",
        _ => return core::ptr::null(),
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reason_numbers_and_names_match_the_core() {
        for reason in DropReason::ALL {
            assert_eq!(lwip_snat_drop_reason::from_core(reason) as u8, reason as u8);
            let name = lwip_snat_drop_reason_name(reason as u8);
            // SAFETY: non-NULL pointers from it are static C strings.
            assert_eq!(unsafe { CStr::from_ptr(name) }.to_str().unwrap(), reason.name());
        }
        assert!(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_REASONS as u8).is_null());
    }

    #[test]
    fn default_config_survives_the_round_trip_through_c() {
        let c = lwip_snat_config::from_core(&Config::DEFAULT);
        assert_eq!(c.to_core(), Ok((Config::DEFAULT, [0, 0])));
        let seeded = lwip_snat_config { seed: [1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4], ..c };
        assert_eq!(seeded.to_core().map(|(_, seed)| seed), Ok([0x0100_0000_0000_0002, 0x0300_0000_0000_0004]));
    }

    #[test]
    fn every_error_code_has_its_name() {
        for code in -14..=0 {
            let name = lwip_snat_strerror(code);
            assert!(!name.is_null(), "{code}");
        }
        // SAFETY: non-NULL, static C string.
        let busy = unsafe { CStr::from_ptr(lwip_snat_strerror(LWIP_SNAT_ERR_BUSY as i32)) };
        assert_eq!(busy.to_str(), Ok("LWIP_SNAT_ERR_BUSY"));
        assert!(lwip_snat_strerror(-15).is_null() && lwip_snat_strerror(1).is_null());
    }
}
