//! The lwIP router driver lives in the test kit (`test_kit::lwip_driver`), one copy for every
//! suite that runs tests/lwip/router.c; here it gets what the kit cannot know without the
//! crate: the names of drop reasons in a build without `dump`, where router.c prints numbers.
#[allow(unused_imports)]
pub use test_kit::lwip_driver::*;

use std::ops::{Deref, DerefMut};
use std::path::Path;

/// What router.c answers to a command of a feature the library was built without (`dump`;
/// `portmap`, `unportmap`).
#[allow(dead_code)]
pub const ERR_NO_FEATURE: i32 = -110;

/// [`test_kit::lwip_driver::Router`], with [`Router::stat`] taking drop reasons by name in
/// every build.
pub struct Router(test_kit::lwip_driver::Router);

impl Router {
    /// See [`test_kit::lwip_driver::Router::spawn`].
    pub fn spawn(exe: &Path) -> Router {
        Router(test_kit::lwip_driver::Router::spawn(exe))
    }

    /// Counter `name` of the "stats" command; `drop_<reason>` by the reason's name (router.c
    /// prints `drop_<number>` without `dump`, whose names the C API then lacks).
    #[allow(dead_code)]
    pub fn stat(&mut self, name: &str) -> u64 {
        match name.strip_prefix("drop_") {
            Some(reason) if !cfg!(feature = "dump") => {
                let all = lwip_snat::DropReason::ALL;
                let found = all.iter().find(|r| r.name() == reason).unwrap_or_else(|| panic!("no {name}"));
                self.0.stat(&format!("drop_{}", *found as u8))
            }
            _ => self.0.stat(name),
        }
    }

    /// How many sessions the NAT holds: the session walk's lines (`dump`), else the sum of the
    /// tables' `*_in_use` counters, the one view a build without `dump` gives.
    #[allow(dead_code)]
    pub fn session_count(&mut self) -> usize {
        if cfg!(feature = "dump") {
            return self.0.sessions().len();
        }
        let in_use = ["tcp_in_use", "udp_in_use", "icmp_in_use"].map(|name| self.0.stat(name));
        usize::try_from(in_use.iter().sum::<u64>()).expect("a session count")
    }
}

/// A counter's name as router.c's "stats" prints it, with a drop reason's number (a build
/// without `dump`) turned into its name: `drop_7` is `drop_filtered`.
#[allow(dead_code)]
pub fn stat_name(printed: &str) -> String {
    let number = printed.strip_prefix("drop_").and_then(|n| n.parse::<u8>().ok());
    match number.and_then(lwip_snat::DropReason::from_repr) {
        Some(reason) => format!("drop_{}", reason.name()),
        None => printed.to_string(),
    }
}

impl Deref for Router {
    type Target = test_kit::lwip_driver::Router;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Router {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
