//! Integration checks through Debian's lwIP: a header from another build than the library is
//! refused by lwip_snat_start() (tests/lwip/capacity.c); LWIP_SNAT_DEBUG logs through
//! LWIP_DEBUGF and compiles to nothing when off.

use crate::common::*;
use std::process::Command;

/// Runs C test program `name` (tests/lwip/<name>.c) and returns its stdout after checking that
/// every CHECK passed and at least `checks` ran.
fn run_checks(name: &str, checks: u32) -> String {
    let out = Command::new(crate::lwip_build::program(name))
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout.lines().last().unwrap_or("");
    assert!(summary.ends_with(" passed, 0 failed"), "{stdout}");
    let passed: u32 = summary.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= checks, "every check ran: {summary}");
    stdout
}

#[test]
fn start_refuses_a_header_generated_for_other_capacities() {
    run_checks("capacity", 17);
}

/// The router harness built with `defines` (tests/lwip/router.c), started and masquerading
/// everything that leaves by the WAN.
fn router_with(name: &str, defines: &[&str]) -> (std::path::PathBuf, crate::driver::Router) {
    let exe = crate::lwip_build::program_with(name, &["tests/lwip/router.c"], defines);
    let mut r = crate::driver::Router::spawn(&exe);
    r.ok("start");
    r.ok(&format!("rule {} 0 {}", 1, WAN));
    (exe, r)
}

/// The log lines (`lwip_snat: ...`) among a command's output lines.
fn log(events: &crate::driver::Events) -> Vec<String> {
    events.lines.iter().filter(|l| l.starts_with("lwip_snat: ")).cloned().collect()
}

/// Pieces of the log's format strings.
const LOG_WORDS: [&str; 7] = [
    "lwip_snat: drop %s",
    "lwip_snat: mapping created %s",
    "lwip_snat: mapping expired %s",
    " %s mapping(s) expired",
    "lwip_snat: ICMP error %",
    "lwip_snat: drop reason %u",
    "lwip_snat: drop error %d",
];

/// Whether the debug log of this build holds `word`: mappings expiring are named from the session
/// walk (`dump`), whose names drops give too; without it they give numbers.
fn logged_in_this_build(word: &str) -> bool {
    let numbered = word.starts_with("lwip_snat: drop reason") || word.starts_with("lwip_snat: drop error");
    let named = word == "lwip_snat: drop %s" || word.contains("mapping expired");
    if cfg!(feature = "dump") {
        !numbered
    } else {
        !named
    }
}

fn binary_contains(exe: &std::path::Path, text: &str) -> bool {
    let bytes = std::fs::read(exe).expect("read the harness program");
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn lwip_snat_debug_logs_drops_mappings_and_icmp_errors_through_lwip_debugf() {
    let (exe, mut r) = router_with("router_debug", &["LWIP_DEBUG", "LWIP_SNAT_DEBUG=LWIP_DBG_ON"]);

    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"query"));
    let ext = sport(&sent.only("wan"));
    assert_eq!(
        log(&sent),
        [format!("lwip_snat: mapping created UDP proto 17 192.168.1.10:5000 -> 203.0.113.5:53 as 10.0.0.1:{ext} -> 203.0.113.5:53")]
    );

    let stranger = r.inject("wan", &udp(SERVER2, 4000, WAN_ADDR, ext, b"from a stranger"));
    stranger.nothing_on("lan");
    // Without `dump` the library has no names: the shim logs the reason's number.
    let filtered = if cfg!(feature = "dump") { "filtered" } else { "reason 7" };
    assert_eq!(log(&stranger), [format!("lwip_snat: drop {filtered} proto 17 198.51.100.7:4000 -> 10.0.0.1:{ext}")]);

    let ping = r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 1)).only("wan");
    let mut pong = echo_reply(SERVER, WAN_ADDR, icmp_ident(&ping), 1);
    set_ttl(&mut pong, 1);
    let answered = r.inject("wan", &pong);
    assert_eq!((answered.only("wan")[20], answered.only("wan")[21]), (11, 0));
    assert_eq!(log(&answered), ["lwip_snat: ICMP error 11/0 sent about proto 1 203.0.113.5:0 -> 10.0.0.1:0"]);

    // The shim's own drop (a source that is a broadcast address of a router netif) is logged too.
    let spoofed = r.inject("lan", &udp([192, 168, 1, 255], 5001, SERVER, 53, b"spoofed"));
    spoofed.nothing_on("wan");
    assert_eq!(log(&spoofed), ["lwip_snat: drop broadcast_source proto 17 192.168.1.255:5001 -> 203.0.113.5:53"]);

    let expired = log(&r.ok("timers 700000"));
    // Each expiring mapping is named from the session walk, so with `dump` only.
    if cfg!(feature = "dump") {
        assert!(
            expired.contains(&format!(
                "lwip_snat: mapping expired UDP 192.168.1.10:5000 as 10.0.0.1:{ext} -> 203.0.113.5:53"
            )),
            "{expired:?}"
        );
        assert!(
            expired.iter().any(|l| l.starts_with("lwip_snat: mapping expired ICMP 192.168.1.10:4660 as 10.0.0.1:")),
            "{expired:?}"
        );
    }
    assert!(expired.contains(&"lwip_snat: 1 UDP mapping(s) expired".to_string()), "{expired:?}");
    assert!(expired.contains(&"lwip_snat: 1 ICMP mapping(s) expired".to_string()), "{expired:?}");
    for word in LOG_WORDS {
        assert_eq!(binary_contains(&exe, word), logged_in_this_build(word), "{word:?}");
    }
}

#[test]
fn lwip_snat_debug_off_compiles_no_logging_even_with_lwip_debug() {
    for (name, defines) in [("router", &[][..]), ("router_debug_off", &["LWIP_DEBUG"][..])] {
        let (exe, mut r) = router_with(name, defines);
        let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"query"));
        let ext = sport(&sent.only("wan"));
        let dropped = r.inject("wan", &udp(SERVER2, 4000, WAN_ADDR, ext, b"from a stranger"));
        assert!(log(&sent).is_empty() && log(&dropped).is_empty(), "{name}");
        for word in LOG_WORDS {
            assert!(!binary_contains(&exe, word), "{name} holds {word:?}");
        }
    }
}
