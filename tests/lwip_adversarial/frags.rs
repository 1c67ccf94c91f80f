//! Fragments turned against the router, through real lwIP: a flood of stray fragments cannot
//! block a fragmented reply, and the router still answers a fragmented ping larger than the
//! NAT's reassembly pool (lwIP's own reassembly takes it).

use crate::common::*;
use crate::router;
use lwip_snat::config::REASS_BYTES;

/// Needs `reassembly` (without it the fragments are dropped on a NAT path).
#[cfg(feature = "reassembly")]
#[test]
fn stray_fragment_flood_cannot_block_a_fragmented_reply_through_lwip() {
    let mut r = router();
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 4000, b"hello")).only("wan");
    let ext_port = sport(&out);
    // Pieces of datagrams that never complete, from one source and then from many spoofed ones:
    // non-first fragments (no ports to tell whose they are) and first fragments to the mapping.
    for i in 0..200u16 {
        let from = if i < 100 { [198, 51, 100, 66] } else { [198, 18, (i >> 8) as u8, i as u8] };
        let whole = with_ident(udp(from, 1000 + i, WAN_ADDR, ext_port, &[0x66; 3000]), 0x9000 + i);
        let stray =
            if i % 2 == 0 { raw_fragment(&whole, 1480, 2960, true) } else { raw_fragment(&whole, 0, 1480, true) };
        let sent = r.inject("wan", &stray);
        assert!(sent.out.is_empty(), "a stray fragment goes nowhere: {:?}", sent.out);
    }
    assert!(r.stat("reass_evicted") >= 190);
    assert_eq!(r.stat("drop_reassembly_full"), 0);
    // The genuine reply, 3000 bytes in three fragments, reaches HOST_A whole.
    let payload: Vec<u8> = (0..3000).map(|i| (i * 7) as u8).collect();
    let reply = with_ident(udp(SERVER, 4000, WAN_ADDR, ext_port, &payload), 7);
    let mut delivered = Vec::new();
    for frag in fragments_of(&reply, 1480) {
        let sent = r.inject("wan", &frag);
        sent.nothing_on("wan");
        delivered.extend(sent.on("lan"));
    }
    assert!(!delivered.is_empty(), "the reply must reach the LAN");
    let back = join_fragments(&delivered);
    assert_checksums(&back);
    assert_eq!((dst(&back), dport(&back), src(&back), sport(&back)), (HOST_A, 5000, SERVER, 4000));
    assert_eq!(&back[28..], &payload[..]);
}

/// Sends a 7000-byte ping to the router in fragments, the first one moved `first_at` places
/// back, and checks lwIP's echo reply.
fn the_router_answers_a_big_ping(first_at: usize) {
    let mut r = router();
    let payload: Vec<u8> = (0..7000).map(|i| (i % 251) as u8).collect();
    let ping = with_ident(echo_with(SERVER, WAN_ADDR, 8, 0x4242, 9, &payload), 0x1234);
    assert!(ping.len() > REASS_BYTES, "larger than the NAT's pool");
    let mut answer = Vec::new();
    let mut frags = fragments_of(&ping, 1480);
    frags[..=first_at].rotate_left(1);
    for frag in frags {
        let sent = r.inject("wan", &frag);
        sent.nothing_on("lan");
        answer.extend(sent.on("wan"));
    }
    assert!(answer.len() > 1, "the echo reply, fragmented by lwIP for the WAN: {answer:?}");
    let reply = join_fragments(&answer);
    assert_checksums(&reply);
    assert_eq!((src(&reply), dst(&reply)), (WAN_ADDR, SERVER));
    let icmp = &reply[20..];
    assert_eq!((icmp[0], &icmp[4..8]), (0, &[0x42, 0x42, 0, 9][..]), "an echo reply with the request's id and seq");
    assert_eq!(&icmp[8..], &payload[..]);
    // With `reassembly` the NAT held pieces first and released them to lwIP.
    assert_eq!(r.stat("reass_released"), u64::from(cfg!(feature = "reassembly")));
    assert_eq!(r.drops(), 0);
}

#[test]
fn the_router_answers_a_fragmented_ping_larger_than_the_pool_through_lwip() {
    the_router_answers_a_big_ping(0);
}

#[test]
fn the_router_answers_a_big_ping_whose_first_fragment_comes_last_through_lwip() {
    // The pool holds three pieces, the fourth reaches past it: the held pieces go to lwIP.
    the_router_answers_a_big_ping(4);
}

#[test]
fn the_router_answers_a_big_ping_whose_first_fragment_comes_third_through_lwip() {
    // The first fragment finds two pieces held: they go to lwIP with it.
    the_router_answers_a_big_ping(2);
}

/// Needs `reassembly` (without it the fragments are dropped on a NAT path).
#[cfg(feature = "reassembly")]
#[test]
fn released_fragments_the_netif_refuses_to_take_back_are_freed() {
    // LWIP_SNAT_REINJECT is netif->input in the Debian build; with "failreinject 1" it refuses
    // what the shim feeds it from inside the hook (ERR_MEM). Held fragments of a ping to the
    // router, released when its first fragment comes, must then be freed by the shim:
    // LeakSanitizer checks at exit.
    let ping = echo_with(SERVER, WAN_ADDR, 8, 0x4242, 9, &[7; 3000]);
    let mut frags = fragments_of(&with_ident(ping, 0x1234), 1480);
    frags.rotate_left(1);
    let mut commands = vec!["start".to_string(), format!("rule 1 0 {WAN}"), "failreinject 1".to_string()];
    commands.extend(frags.iter().map(|f| format!("in wan {}", crate::driver::hex(f))));
    commands.push("stats".to_string());
    let script = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("frags-failrelease.txt");
    std::fs::write(&script, commands.join("\n") + "\n").unwrap();
    let out = std::process::Command::new(crate::lwip_build::program("router"))
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .stdin(std::fs::File::open(&script).unwrap())
        .output()
        .expect("run router");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("stat reass_released 1"), "the held fragments were released:\n{stdout}");
    assert!(out.status.success(), "router exit {:?}:\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}
