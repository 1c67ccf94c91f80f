//! One host cannot deny service to the others, through real lwIP: spoofed LAN sources do not
//! shut out the next host, and a SYN flood from spoofed remotes at a port forward takes
//! neither the table nor the forwarded server's own flows, and ages out on lwIP's timers.

use crate::common::*;
#[cfg(feature = "portmap")]
use crate::driver::Router;
use crate::router;
use lwip_snat::config::MAX_HOSTS;

#[test]
fn spoofed_lan_sources_through_lwip_do_not_shut_out_the_next_host() {
    let mut r = router();
    for i in 0..MAX_HOSTS {
        let spoofed = [192, 168, 1, 100 + i as u8];
        let out = r.inject("lan", &udp(spoofed, 4000, SERVER, 53, b"q")).only("wan");
        assert_eq!(src(&out), WAN_ADDR);
    }
    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"dns"));
    sent.nothing_on("lan");
    let out = sent.only("wan");
    assert_eq!((src(&out), dst(&out)), (WAN_ADDR, SERVER));
    assert_checksums(&out);
    let back = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer")).only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    assert_eq!(r.stat("hosts_untracked"), 1, "served without a quota: counted");
}

/// Needs a port forward (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn a_spoofed_syn_flood_at_a_port_forward_through_lwip_is_bounded_and_ages_out() {
    let mut r = router();
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.10 80"));
    let remote_quota = r.stat("tcp_capacity") as usize / 4 / 2;
    let flood = |r: &mut Router, count: usize| {
        (0..count)
            .filter(|&i| {
                let syn = tcp([198, 18, (i >> 8) as u8, i as u8], 40_000, WAN_ADDR, 8080, SYN);
                let sent = r.inject("wan", &syn);
                sent.nothing_on("wan");
                !sent.on("lan").is_empty()
            })
            .count()
    };
    assert_eq!(flood(&mut r, 200), remote_quota, "remote senders open half the server's quota");
    assert_eq!(r.stat("drop_remote_quota"), (200 - remote_quota) as u64);
    // The forwarded server still opens its own connections; so does every other host.
    for host in [HOST_A, HOST_B] {
        let out = r.inject("lan", &tcp(host, 30_000, SERVER, 443, SYN)).only("wan");
        assert_eq!(src(&out), WAN_ADDR);
    }
    assert_eq!(r.stat("tcp_in_use"), remote_quota as u64 + 2);
    // Half-open: the transitory timeout (240 s) on lwIP's timers, not the established one.
    r.ok("timers 239000");
    assert_eq!(r.stat("tcp_in_use"), remote_quota as u64 + 2);
    r.ok("timers 2000");
    assert_eq!(r.stat("tcp_in_use"), 0);
    assert_eq!(flood(&mut r, 200), remote_quota, "the quota is free again");
}
