//! Counters: every packet the core sees ends in exactly one of them.
//!
//! Uses only `verdict`.

use crate::verdict::DropReason;

/// Packet and session counters (wrapping u32).
///
/// In C's order (`lwip_snat_stats`): the counters from `translated_out` to `reass_expired` and
/// from `hosts_untracked` to `resets_requested` lie as C's do, so the C API copies them as two
/// blocks (the C API checks the layouts agree when it is built).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets translated inside → outside.
    pub translated_out: u32,
    /// Packets translated outside → inside.
    pub translated_in: u32,
    /// ICMP errors translated (also counted in `translated_*`).
    pub icmp_errors_translated: u32,
    /// Packets passed to lwIP untouched.
    pub passed: u32,
    /// ICMP errors the core asked the caller to send.
    pub icmp_requested: u32,
    /// Packets translated on both sides between two inside hosts (hairpinning); always 0 in a
    /// build without the `hairpin` feature.
    pub hairpinned: u32,
    /// TCP SYNs whose MSS option was lowered to fit the link.
    pub mss_clamped: u32,
    /// Packets dropped, by [`DropReason`] number.
    pub dropped: [u32; DropReason::COUNT],
    /// Fragments taken into the reassembly pool (the one completing a datagram included).
    pub fragments_held: u32,
    /// Datagrams reassembled and handed back for re-injection ([`Verdict::Reassembled`]).
    ///
    /// [`Verdict::Reassembled`]: crate::Verdict::Reassembled
    pub reassembled: u32,
    /// Datagrams whose fragments waited longer than `Config::reass_timeout_ms`.
    pub reass_expired: u32,
    /// Sessions created for an inside host the host tracker had no room for
    /// (`LWIP_SNAT_MAX_HOSTS` hosts held sessions): served, but not counted toward its quota.
    pub hosts_untracked: u32,
    /// Datagrams in progress discarded to make room for a newer one: the oldest goes, like in
    /// lwIP's `ip_reass`, or the source's own oldest once it holds its share of the pool.
    pub reass_evicted: u32,
    /// Datagrams addressed to the router that no mapping or port forward concerns, left to
    /// lwIP's own reassembly (their fragments are counted in `passed`).
    pub reass_released: u32,
    /// Sessions that gave way to a new one in a full table, by [`Eviction`] number: TCP
    /// connections closed by both FINs or an RST, half-open or answered sessions, idle ones
    /// (the last two always 0 in a build without the `evict` feature).
    ///
    /// [`Eviction`]: crate::Eviction
    pub evicted: [u32; 3],
    /// TCP RSTs the core asked the caller to send ([`Verdict::SendTcpReset`]) to an end of an
    /// evicted connection (always 0 without `evict`).
    ///
    /// [`Verdict::SendTcpReset`]: crate::Verdict::SendTcpReset
    pub resets_requested: u32,
    /// Sessions created, per protocol (TCP, UDP, ICMP).
    pub created: [u32; 3],
    /// Sessions removed by idle timeout, per protocol.
    pub expired: [u32; 3],
}

impl Stats {
    /// Packets dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u32 {
        self.dropped.get(reason as usize).copied().unwrap_or(0)
    }

    /// Packets dropped for any reason (wrapping).
    pub fn total_dropped(&self) -> u32 {
        self.dropped.iter().fold(0u32, |a, &b| a.wrapping_add(b))
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let count = self.drop_counter(reason);
        *count = count.wrapping_add(1);
    }

    /// The counter of drops for `reason`: `dropped` has one per [`DropReason`], so the index
    /// is always in range (the firmware's no-panic link proves it).
    pub(crate) fn drop_counter(&mut self, reason: DropReason) -> &mut u32 {
        &mut self.dropped[reason as usize]
    }
}
