//! Chained pbufs through real lwIP (`PBUF_POOL`-style chains of small buffers, as STM32/NXP
//! Ethernet drivers deliver them): a datagram whose headers fit in the first pbuf is
//! translated there without a copy, and the bytes on the wire are those of the same datagram
//! in one pbuf; an ICMP error is still copied whole, and translated right.

use crate::common::*;
use crate::driver::Router;
use crate::router;

/// Injects `p` as a chain of `size`-byte pbufs and returns what leaves by `netif`.
fn pool(r: &mut Router, from: &str, size: usize, p: &[u8], netif: &str) -> Vec<u8> {
    r.ok(&format!("inpool {from} {size} {}", crate::driver::hex(p))).only(netif)
}

#[test]
fn pool_chain_is_translated_in_place_with_the_bytes_of_a_single_pbuf() {
    for size in [28, 40, 64, 128] {
        let mut single = router();
        let mut chained = router();
        let payload = [0x5A; 700];
        // UDP out, its reply in, TCP SYN (MSS clamped to the WAN's MTU) and data out
        single.ok("mtu wan 1400");
        chained.ok("mtu wan 1400");
        let packets: [(&str, Vec<u8>, &str); 3] = [
            ("lan", udp(HOST_A, 5000, SERVER, 53, &payload), "wan"),
            ("lan", syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460), "wan"),
            ("lan", tcp_data(HOST_A, 40000, SERVER, 443, ACK, &payload), "wan"),
        ];
        for (from, p, to) in &packets {
            let expected = single.inject(from, p).only(to);
            let got = pool(&mut chained, from, size, p, to);
            assert_eq!(got, expected, "pool buffers of {size} bytes");
            assert_checksums(&got);
            assert_eq!(src(&got), WAN_ADDR);
        }
        let out = single.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"again")).only("wan");
        assert_eq!(chained.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"again")).only("wan"), out);
        let reply = udp(SERVER, 53, WAN_ADDR, sport(&out), &payload);
        let expected = single.inject("wan", &reply).only("lan");
        let got = pool(&mut chained, "wan", size, &reply, "lan");
        assert_eq!(got, expected, "pool buffers of {size} bytes");
        assert_eq!((dst(&got), dport(&got)), (HOST_A, 5000));
        assert_eq!(&got[28..], &payload[..], "payload untouched");
        for stat in ["translated_out", "translated_in", "mss_clamped", "passed"] {
            assert_eq!(chained.stat(stat), single.stat(stat), "{stat}");
        }
        // Copied only when the headers run past the first pbuf: the SYN's are 48 bytes (MSS
        // option), the data segment's 40, the UDP datagrams' 28.
        let copied = [48, 40].iter().filter(|&&headers| size < headers).count() as u64;
        assert_eq!(chained.stat("hook_copies"), copied, "pool buffers of {size} bytes: copies");
    }
}

#[test]
fn pool_chain_holding_an_icmp_error_is_copied_whole_and_translated() {
    let mut r = router();
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, &[1; 300])).only("wan");
    let err = icmp_error(SERVER, WAN_ADDR, 3, 3, &out, 200);
    let back = pool(&mut r, "wan", 64, &err, "lan");
    assert_checksums(&back);
    assert_eq!(dst(&back), HOST_A);
    assert_eq!((src(quoted(&back)), sport(quoted(&back))), (HOST_A, 5000));
    assert_eq!(r.stat("hook_copies"), 1);
}

#[test]
fn pool_chain_with_a_lying_ip_length_is_dropped_not_forwarded() {
    let mut r = router();
    let mut p = udp(HOST_A, 5000, SERVER, 53, &[2; 300]);
    // The IP header claims more than the chain holds.
    p[2..4].copy_from_slice(&1200u16.to_be_bytes());
    refill_ip_checksum(&mut p);
    let sent = r.ok(&format!("inpool lan 64 {}", crate::driver::hex(&p)));
    sent.nothing_on("wan");
    assert_eq!(r.stat("hook_copies"), 0);
}
