//! The drop-in C APIs through real lwIP: esp-lwip's NAPT (include/lwip_snat_compat_napt.h)
//! and the original SNAT add-on (include/lwip_snat_compat_nat.h), each from a C program that
//! sets the NAT up the way that API's users do (tests/lwip/compat_*.c on top of
//! tests/lwip/router.c), then packets both ways with every byte and checksum checked.

mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[allow(dead_code)]
#[path = "lwip22/build.rs"]
mod lwip22_build;
#[allow(dead_code)]
#[path = "lwip/build.rs"]
mod lwip_build;

use common::*;
use driver::Router;

const CLIENT: [u8; 4] = [192, 168, 1, 2];
#[cfg_attr(not(feature = "portmap"), allow(dead_code))]
const CLIENT2: [u8; 4] = [192, 168, 1, 3];
const TCP: u8 = 6;
#[cfg_attr(not(feature = "portmap"), allow(dead_code))]
const UDP: u8 = 17;
const ERR_ALREADY: i32 = -9;
const ERR_ARG: i32 = -16;

/// The router with esp-lwip's NAPT API (lan = the SoftAP, wan = the station), NAPT not enabled.
fn esp() -> Router {
    let exe = lwip_build::program_with(
        "compat_napt",
        &["tests/lwip/router.c", "tests/lwip/compat_napt.c", "c-shim/compat/napt.c"],
        &["ROUTER_EXTRA_COMMANDS"],
    );
    Router::spawn(&exe)
}

/// The router with the original add-on's API and `ip4_input_nat` as its hook, no rule yet.
fn addon() -> Router {
    let exe = lwip_build::program_with(
        "compat_nat",
        &["tests/lwip/router.c", "tests/lwip/compat_nat.c", "c-shim/compat/nat.c"],
        &["ROUTER_EXTRA_COMMANDS", "ROUTER_INPUT_HOOK=ip4_input_nat", "ROUTER_INCLUDE=\"lwip_snat_compat_nat.h\""],
    );
    Router::spawn(&exe)
}

/// The one "<word> ..." line a command printed, without the word.
fn answer(r: &mut Router, command: &str, word: &str) -> String {
    let lines = r.ok(command).lines;
    let prefix = format!("{word} ");
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(found.len(), 1, "{command}: {lines:?}");
    found[0][prefix.len()..].to_string()
}

fn ret(r: &mut Router, command: &str) -> i32 {
    answer(r, command, "ret").parse().unwrap()
}

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// A UDP datagram from `host`:`port` to the server leaves by the WAN; returns it.
fn udp_leaves(r: &mut Router, host: [u8; 4], port: u16) -> Vec<u8> {
    let sent = r.inject("lan", &udp(host, port, SERVER, 53, b"query"));
    sent.nothing_on("lan");
    sent.only("wan")
}

/// A TCP SYN from the server to the station's `port` reaches `to`:`to_port` on the AP side.
fn syn_forwarded(r: &mut Router, port: u16, to: [u8; 4], to_port: u16) {
    let syn = r.inject("wan", &tcp(SERVER, 33000, WAN_ADDR, port, SYN)).only("lan");
    assert_eq!((src(&syn), sport(&syn)), (SERVER, 33000));
    assert_eq!((dst(&syn), dport(&syn)), (to, to_port));
}

#[test]
fn esp_repeater_masquerades_its_ap_and_forwards_the_station_ports() {
    let mut r = esp();
    r.ok("repeater");

    // an AP client's query and its answer
    let out = udp_leaves(&mut r, HOST_A, 5000);
    assert_eq!(src(&out), WAN_ADDR, "masqueraded behind the station's address");
    let back = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer")).only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));

    // a ping: the identifier is translated and comes back
    let req = r.inject("lan", &echo_request(HOST_A, SERVER, 0x4242, 1)).only("wan");
    assert_eq!(src(&req), WAN_ADDR);
    let reply = r.inject("wan", &echo_reply(SERVER, WAN_ADDR, icmp_ident(&req), 1)).only("lan");
    assert_eq!((dst(&reply), icmp_ident(&reply)), (HOST_A, 0x4242));

    if cfg!(feature = "portmap") {
        // the TCP forward both ways: station:8080 is the client's port 80
        syn_forwarded(&mut r, 8080, CLIENT, 80);
        let synack = r.inject("lan", &tcp(CLIENT, 80, SERVER, 33000, SYN | ACK)).only("wan");
        assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
        assert_eq!((dst(&synack), dport(&synack)), (SERVER, 33000));

        // the UDP forward: station:5000 is the client's port 5001
        let dgram = r.inject("wan", &udp(SERVER, 7000, WAN_ADDR, 5000, b"hello")).only("lan");
        assert_eq!((dst(&dgram), dport(&dgram)), (CLIENT, 5001));
        let answer_out = r.inject("lan", &udp(CLIENT, 5001, SERVER, 7000, b"hi")).only("wan");
        assert_eq!((src(&answer_out), sport(&answer_out)), (WAN_ADDR, 5000));
        // nr_active_tcp, _udp, _icmp, nr_forced_evictions
        assert_eq!(answer(&mut r, "napt_stats", "napt"), "1 2 1 0");
    } else {
        // The repeater's ip_portmap_add() calls were refused: the station's ports reach no one.
        r.inject("wan", &tcp(SERVER, 33000, WAN_ADDR, 8080, SYN)).nothing_on("lan");
        r.inject("wan", &udp(SERVER, 7000, WAN_ADDR, 5000, b"hello")).nothing_on("lan");
        assert_eq!(answer(&mut r, "napt_stats", "napt"), "0 1 1 0");
    }

    // from the outside straight to an AP client's address (no session of it): dropped
    r.inject("wan", &udp(SERVER, 53, HOST_A, 6000, b"x")).nothing_on("lan");
    assert_eq!(r.stat("drop_reverse_direction"), 1);
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn esp_portmap_readded_for_the_same_port_replaces_the_forward() {
    let mut r = esp();
    r.ok(&format!("napt_enable {} 1", ip([192, 168, 1, 1])));
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 8080 {} 80", ip(WAN_ADDR), ip(CLIENT))), 1);
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 8080 {} 8000", ip(WAN_ADDR), ip(CLIENT2))), 1);
    assert_eq!(answer(&mut r, &format!("portmap_get {TCP} 8080"), "portmap"), "10.0.0.1 192.168.1.3 8000");
    syn_forwarded(&mut r, 8080, CLIENT2, 8000);
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn esp_portmap_added_before_dhcp_gives_the_station_its_address_works_once_it_has_it() {
    for maddr in ["0.0.0.0", "10.0.0.1"] {
        let mut r = esp();
        r.ok("setaddr wan 0.0.0.0");
        r.ok(&format!("napt_enable {} 1", ip([192, 168, 1, 1])));
        assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {maddr} 8080 {} 80", ip(CLIENT))), 1, "{maddr}");
        r.ok("setaddr wan 10.0.0.1");
        syn_forwarded(&mut r, 8080, CLIENT, 80);
        let synack = r.inject("lan", &tcp(CLIENT, 80, SERVER, 33000, SYN | ACK)).only("wan");
        assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080), "{maddr}");
        assert_eq!(answer(&mut r, &format!("portmap_get {TCP} 8080"), "portmap"), format!("{maddr} 192.168.1.2 80"));
    }
}

#[test]
fn esp_enable_for_an_address_no_netif_holds_yet_applies_when_a_netif_gets_it() {
    let mut r = esp();
    r.ok("setaddr lan 0.0.0.0");
    r.ok(&format!("napt_enable {} 1", ip([192, 168, 1, 1])));
    r.ok("setaddr lan 192.168.1.1");
    r.ok("timers 1000");
    let out = udp_leaves(&mut r, HOST_A, 5000);
    assert_eq!(src(&out), WAN_ADDR);
}

#[test]
fn esp_enable_by_netif_number_and_by_netif() {
    let mut r = esp();
    let num = answer(&mut r, "netif_num lan", "num");
    r.ok(&format!("napt_enable_no {num} 1"));
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), WAN_ADDR);

    let mut r = esp();
    assert_eq!(ret(&mut r, "napt_enable_netif none 1"), 0);
    r.ok("down lan");
    assert_eq!(ret(&mut r, "napt_enable_netif lan 1"), 0, "a netif that is down");
    r.ok("up lan");
    assert_eq!(ret(&mut r, "napt_enable_netif lan 1"), 1);
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), WAN_ADDR);
}

#[test]
fn esp_disabling_the_last_napt_netif_stops_translation_and_drops_the_forwards() {
    let mut r = esp();
    r.ok("repeater");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), WAN_ADDR);
    assert_eq!(ret(&mut r, "napt_enable_netif lan 0"), 1);
    assert_eq!(answer(&mut r, "napt_stats", "napt"), "0 0 0 0", "sessions dropped");
    assert_eq!(ret(&mut r, &format!("portmap_get {TCP} 8080")), 0, "forwards dropped");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5001)), HOST_A, "forwarded as a plain router does");
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn esp_forwards_added_before_napt_is_enabled_survive_disabling_a_netif_that_never_had_it() {
    let mut r = esp();
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 8080 {} 80", ip(WAN_ADDR), ip(CLIENT))), 1);
    assert_eq!(ret(&mut r, "napt_enable_netif wan 0"), 1);
    r.ok("napt_enable 10.0.0.1 0");
    syn_forwarded(&mut r, 8080, CLIENT, 80);
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn esp_portmap_remove_and_get_follow_the_table() {
    let mut r = esp();
    r.ok("repeater");
    assert_eq!(answer(&mut r, &format!("portmap_get {UDP} 5000"), "portmap"), "10.0.0.1 192.168.1.2 5001");
    assert_eq!(ret(&mut r, &format!("portmap_get {TCP} 5000")), 0, "the protocol is part of the key");
    assert_eq!(ret(&mut r, &format!("portmap_remove {TCP} 8080")), 1);
    assert_eq!(ret(&mut r, &format!("portmap_remove {TCP} 8080")), 0);
    assert_eq!(ret(&mut r, &format!("portmap_get {TCP} 8080")), 0);
    r.inject("wan", &tcp(SERVER, 33000, WAN_ADDR, 8080, SYN)).nothing_on("lan");
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn esp_portmap_refuses_other_protocols_and_a_full_table() {
    let mut r = esp();
    r.ok(&format!("napt_enable {} 1", ip([192, 168, 1, 1])));
    assert_eq!(ret(&mut r, &format!("portmap_add 1 {} 8080 {} 80", ip(WAN_ADDR), ip(CLIENT))), 0);
    for i in 0..8 {
        let cmd = format!("portmap_add {TCP} {} {} 192.168.1.{} 80", ip(WAN_ADDR), 8000 + i, 20 + i);
        assert_eq!(ret(&mut r, &cmd), 1, "{cmd}");
    }
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 9000 192.168.1.40 80", ip(WAN_ADDR))), 0);
    // replacing one of them still works in a full table
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 8000 192.168.1.41 81", ip(WAN_ADDR))), 1);
    syn_forwarded(&mut r, 8000, [192, 168, 1, 41], 81);
}

#[test]
fn addon_gateway_masquerades_through_ip4_input_nat() {
    let mut r = addon();
    r.ok("gateway");
    let syn = r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan");
    assert_eq!(src(&syn), WAN_ADDR);
    let synack = r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, sport(&syn), SYN | ACK)).only("lan");
    assert_eq!((dst(&synack), dport(&synack)), (HOST_A, 40000));

    // ICMP echo identifiers are translated (the add-on kept them)
    let req = r.inject("lan", &echo_request(HOST_A, SERVER, 0x0101, 1)).only("wan");
    assert_eq!(src(&req), WAN_ADDR);
    let reply = r.inject("wan", &echo_reply(SERVER, WAN_ADDR, icmp_ident(&req), 1)).only("lan");
    assert_eq!((dst(&reply), icmp_ident(&reply)), (HOST_A, 0x0101));

    // from the outside straight to an inside address: against the rule, dropped
    r.inject("wan", &udp(SERVER, 53, HOST_A, 5000, b"x")).nothing_on("lan");
}

#[test]
fn addon_rule_add_and_remove_answer_like_the_original() {
    let mut r = addon();
    r.ok("nat_init");
    assert_eq!(answer(&mut r, "nat_add - -", "rule"), format!("0 {ERR_ARG}"));
    assert_eq!(ret(&mut r, "nat_add_null"), ERR_ARG);
    assert_eq!(answer(&mut r, "nat_add - wan", "rule"), "1 0");
    assert_eq!(answer(&mut r, "nat_add - wan", "rule"), format!("2 {ERR_ALREADY}"));
    assert_eq!(ret(&mut r, "nat_remove 2"), ERR_ARG, "never added");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), WAN_ADDR);
    assert_eq!(ret(&mut r, "nat_remove 1"), 0);
    assert_eq!(ret(&mut r, "nat_remove 1"), ERR_ARG);
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5001)), HOST_A, "no rule: forwarded untranslated");
    // the same netifs again after the removal
    assert_eq!(answer(&mut r, "nat_add - wan", "rule"), "3 0");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5002)), WAN_ADDR);
}

#[test]
fn addon_source_and_pair_rules_translate_what_they_name() {
    let mut r = addon();
    r.ok("nat_init");
    assert_eq!(answer(&mut r, "nat_add lan -", "rule"), "0 0");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), WAN_ADDR);
    assert_eq!(ret(&mut r, "nat_remove 0"), 0);
    assert_eq!(answer(&mut r, "nat_add lan wan", "rule"), "1 0");
    assert_eq!(answer(&mut r, "nat_add lan wan", "rule"), format!("2 {ERR_ALREADY}"));
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5001)), WAN_ADDR);
}

#[test]
fn addon_rules_added_before_nat_init_take_effect_at_init() {
    let mut r = addon();
    assert_eq!(answer(&mut r, "nat_add - wan", "rule"), "0 0");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5000)), HOST_A, "not started yet");
    r.ok("nat_init");
    assert_eq!(src(&udp_leaves(&mut r, HOST_A, 5001)), WAN_ADDR);
}

#[test]
fn addon_rule_check_tells_translate_reverse_and_none() {
    let mut r = addon();
    assert_eq!(answer(&mut r, "nat_check lan wan", "check"), "-1");
    answer(&mut r, "nat_add - wan", "rule");
    assert_eq!(answer(&mut r, "nat_check lan wan", "check"), "0");
    assert_eq!(answer(&mut r, "nat_check wan lan", "check"), "1");
    let mut r = addon();
    answer(&mut r, "nat_add lan wan", "rule");
    assert_eq!(answer(&mut r, "nat_check lan wan", "check"), "0");
    assert_eq!(answer(&mut r, "nat_check wan lan", "check"), "1");
    assert_eq!(answer(&mut r, "nat_check lan lan", "check"), "-1");
}

/// The router with esp-lwip's NAPT API built with extra `lwipopts.h` knobs (`-D` defines).
#[cfg(feature = "dump")]
fn esp_with(name: &str, knobs: &[&str]) -> Router {
    let defines: Vec<&str> = ["ROUTER_EXTRA_COMMANDS"].iter().chain(knobs).copied().collect();
    let exe = lwip_build::program_with(
        name,
        &["tests/lwip/router.c", "tests/lwip/compat_napt.c", "c-shim/compat/napt.c"],
        &defines,
    );
    Router::spawn(&exe)
}

/// The timeout (last field of a `dump` line) of the one session of protocol `proto`.
#[cfg(feature = "dump")]
fn timeout_of(r: &mut Router, proto: u8) -> u64 {
    let prefix = format!("session {proto} ");
    let sessions: Vec<String> = r.sessions().into_iter().filter(|s| s.starts_with(&prefix)).collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    sessions[0].rsplit(' ').next().unwrap().parse().unwrap()
}

/// A TCP SYN, a UDP datagram (not DNS) and a ping from the AP side, each leaving by the WAN.
#[cfg(feature = "dump")]
fn open_one_of_each(r: &mut Router) {
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan");
    r.inject("lan", &udp(HOST_A, 5000, SERVER, 9999, b"x")).only("wan");
    r.inject("lan", &echo_request(HOST_A, SERVER, 7, 1)).only("wan");
}

#[cfg(feature = "dump")]
const ESP_DEFAULT_TIMEOUTS: [&str; 4] = [
    "IP_NAPT_TIMEOUT_MS_TCP=1800000",
    "IP_NAPT_TIMEOUT_MS_TCP_DISCON=60000",
    "IP_NAPT_TIMEOUT_MS_UDP=2000",
    "IP_NAPT_TIMEOUT_MS_ICMP=2000",
];

/// Needs the session walk (`dump`) to read timeouts.
#[cfg(feature = "dump")]
#[test]
fn esp_timeout_knobs_below_the_rfc_floors_are_raised_to_them() {
    let mut r = esp_with("compat_napt_esp_timeouts", &ESP_DEFAULT_TIMEOUTS);
    r.ok("napt_enable 192.168.1.1 1");
    open_one_of_each(&mut r);
    assert_eq!(timeout_of(&mut r, TCP), 240_000, "a SYN-sent connection: the transitory floor");
    assert_eq!(timeout_of(&mut r, UDP), 120_000);
    assert_eq!(timeout_of(&mut r, 1), 60_000);

    let mut r = esp();
    r.ok("napt_enable 192.168.1.1 1");
    open_one_of_each(&mut r);
    assert_eq!(timeout_of(&mut r, UDP), 300_000, "unset: lwip-snat's default");
}

/// Needs the session walk (`dump`) to read timeouts.
#[cfg(feature = "dump")]
#[test]
fn esp_timeout_knobs_apply_as_given_when_short_timeouts_are_allowed() {
    let knobs: Vec<&str> =
        ESP_DEFAULT_TIMEOUTS.iter().copied().chain(["LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS=1"]).collect();
    let mut r = esp_with("compat_napt_short_timeouts", &knobs);
    r.ok("napt_enable 192.168.1.1 1");
    open_one_of_each(&mut r);
    assert_eq!(timeout_of(&mut r, TCP), 60_000);
    assert_eq!(timeout_of(&mut r, UDP), 2_000);
    assert_eq!(timeout_of(&mut r, 1), 2_000);
    r.ok("timers 3000");
    assert_eq!(answer(&mut r, "napt_stats", "napt"), "1 0 0 0", "UDP and ICMP expired after 2 s");
}

/// Fills the TCP table (256 sessions, 64 per inside host) with half-open connections.
fn fill_tcp_table(r: &mut Router) {
    for host in 0..4u8 {
        for port in 0..64u16 {
            r.inject("lan", &tcp([192, 168, 1, 100 + host], 20000 + port, SERVER, 80, SYN)).only("wan");
        }
    }
}

#[cfg(feature = "evict")]
#[test]
fn esp_full_table_makes_room_for_a_new_flow_and_counts_the_forced_eviction() {
    let mut r = esp();
    r.ok("napt_enable 192.168.1.1 1");
    fill_tcp_table(&mut r);
    assert_eq!(answer(&mut r, "napt_stats", "napt"), "256 0 0 0");
    let syn = r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan");
    assert_eq!(src(&syn), WAN_ADDR);
    assert_eq!(answer(&mut r, "napt_stats", "napt"), "256 0 0 1");
}

/// Without `evict` the drop-in keeps the reject policy: a full table of live (half-open)
/// connections refuses a new flow, evicting none.
#[cfg(not(feature = "evict"))]
#[test]
fn esp_full_table_refuses_a_new_flow_without_evict() {
    let mut r = esp();
    r.ok("napt_enable 192.168.1.1 1");
    fill_tcp_table(&mut r);
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).nothing_on("wan");
    assert_eq!(answer(&mut r, "napt_stats", "napt"), "256 0 0 0");
}

#[test]
fn addon_full_table_refuses_a_new_flow() {
    let mut r = addon();
    r.ok("gateway");
    fill_tcp_table(&mut r);
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).nothing_on("wan");
    assert_eq!(r.stat("drop_table_full"), 1);
}

/// Compiles a unit that includes the NAPT compat header with `defines`: the compiler's
/// diagnostics when it fails, None when it compiles.
fn napt_header_with(defines: &[&str]) -> Option<String> {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("compat_napt_knobs.c");
    std::fs::write(&unit, "#include \"lwip_snat_compat_napt.h\"\n").unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let out = std::process::Command::new(&cc)
        .args(["-std=gnu99", "-fsyntax-only", "-Werror"])
        .arg(format!("-I{}", repo.join("include").display()))
        .arg(format!("-I{}", repo.join("c-shim").display()))
        .arg("-I/usr/include/lwip")
        .args(defines.iter().map(|d| format!("-D{d}")))
        .arg(&unit)
        .output()
        .unwrap_or_else(|e| panic!("run {cc}: {e}"));
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn esp_table_sizes_beyond_the_library_capacities_do_not_compile() {
    assert_eq!(napt_header_with(&["IP_NAPT_MAX=416", "IP_PORTMAP_MAX=8"]), None, "the library's own sizes");
    let err = napt_header_with(&["IP_NAPT_MAX=512"]).expect("esp-lwip's default 512 is more than 256+128+32");
    assert!(err.contains("IP_NAPT_MAX exceeds"), "{err}");
    let err = napt_header_with(&["IP_PORTMAP_MAX=32"]).expect("esp-lwip's default 32 is more than 8");
    assert!(err.contains("IP_PORTMAP_MAX exceeds"), "{err}");
}

#[test]
fn esp_repeater_on_lwip_22_with_the_hook_compiled_into_ip4_input() {
    // lwIP 2.2 from source calls the shim's hook from ip4_input() itself, as a firmware's
    // lwipopts.h sets it up (tests/lwip22/lwipopts.h)
    let exe = lwip22_build::router_with(
        "compat_napt",
        &["tests/lwip/compat_napt.c", "c-shim/compat/napt.c"],
        &["ROUTER_EXTRA_COMMANDS"],
    );
    let mut r = Router::spawn(&exe);
    r.ok("repeater");
    let out = udp_leaves(&mut r, HOST_A, 5000);
    assert_eq!(src(&out), WAN_ADDR);
    let back = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer")).only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    if cfg!(feature = "portmap") {
        syn_forwarded(&mut r, 8080, CLIENT, 80);
        let synack = r.inject("lan", &tcp(CLIENT, 80, SERVER, 33000, SYN | ACK)).only("wan");
        assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
        assert_eq!(answer(&mut r, "napt_stats", "napt"), "1 1 0 0");
    } else {
        r.inject("wan", &tcp(SERVER, 33000, WAN_ADDR, 8080, SYN)).nothing_on("lan");
        assert_eq!(answer(&mut r, "napt_stats", "napt"), "0 1 0 0");
    }
}

/// A library without `portmap` has no port forwards: ip_portmap_add() refuses every one and
/// remembers none.
#[cfg(not(feature = "portmap"))]
#[test]
fn esp_portmap_is_refused_by_a_library_without_port_forwards() {
    let mut r = esp();
    r.ok(&format!("napt_enable {} 1", ip([192, 168, 1, 1])));
    assert_eq!(ret(&mut r, &format!("portmap_add {TCP} {} 8080 {} 80", ip(WAN_ADDR), ip(CLIENT))), 0);
    assert_eq!(ret(&mut r, &format!("portmap_get {TCP} 8080")), 0);
    r.inject("wan", &tcp(SERVER, 33000, WAN_ADDR, 8080, SYN)).nothing_on("lan");
}
