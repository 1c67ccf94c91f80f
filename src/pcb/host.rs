//! Per-host mapping quota (RFC 6888 REQ-4): one inside host cannot take the whole table.
//!
//! A small fixed array of (address, sessions) pairs across all protocols; it is consulted only
//! when a session is created or removed, never per translated packet.

/// Why a host may not create another session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The host holds `quota` sessions already.
    Quota,
    /// Every host slot is taken by other hosts that still hold sessions.
    TooManyHosts,
}

#[derive(Clone, Copy, Debug, Default)]
struct Host {
    addr: u32,
    sessions: u16,
}

/// Session counts of up to `H` inside hosts. 8 bytes per host.
pub struct Hosts<const H: usize> {
    hosts: [Host; H],
}

impl<const H: usize> Hosts<H> {
    pub const fn new() -> Self {
        Hosts { hosts: [Host { addr: 0, sessions: 0 }; H] }
    }

    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// Sessions `addr` holds now.
    pub fn sessions(&self, addr: u32) -> usize {
        self.hosts.iter().find(|h| h.sessions > 0 && h.addr == addr).map_or(0, |h| usize::from(h.sessions))
    }

    /// Counts one more session for `addr` unless that would exceed `quota` (0 = no quota).
    pub fn acquire(&mut self, addr: u32, quota: u16) -> Result<(), Refused> {
        let mut free = None;
        for host in self.hosts.iter_mut() {
            if host.sessions > 0 && host.addr == addr {
                if quota != 0 && host.sessions >= quota {
                    return Err(Refused::Quota);
                }
                host.sessions += 1;
                return Ok(());
            }
            if host.sessions == 0 && free.is_none() {
                free = Some(host);
            }
        }
        let host = free.ok_or(Refused::TooManyHosts)?;
        *host = Host { addr, sessions: 1 };
        Ok(())
    }

    /// Counts one session of `addr` less.
    pub fn release(&mut self, addr: u32) {
        if let Some(host) = self.hosts.iter_mut().find(|h| h.sessions > 0 && h.addr == addr) {
            host.sessions -= 1;
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

    #[test]
    fn quota_is_per_host_and_released() {
        let mut hosts = Hosts::<2>::new();
        assert_eq!(hosts.acquire(1, 2), Ok(()));
        assert_eq!(hosts.acquire(1, 2), Ok(()));
        assert_eq!(hosts.acquire(1, 2), Err(Refused::Quota));
        assert_eq!(hosts.acquire(2, 2), Ok(()));
        assert_eq!(hosts.acquire(3, 2), Err(Refused::TooManyHosts));
        hosts.release(1);
        assert_eq!(hosts.sessions(1), 1);
        assert_eq!(hosts.acquire(1, 2), Ok(()));
        hosts.release(2);
        assert_eq!(hosts.acquire(3, 0), Ok(()), "a host with no sessions frees its slot");
    }
}
