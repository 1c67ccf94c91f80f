//! A hairpinned packet whose TTL runs out at the router: Time Exceeded goes to its inside
//! sender (as on the inbound path), never from the router to itself out of the WAN.

use super::router;
use crate::common::*;

const LAN_ADDR: [u8; 4] = [192, 168, 1, 1];

#[test]
fn hairpinned_packet_with_ttl_1_or_0_gets_time_exceeded_to_its_inside_sender() {
    for ttl in [1, 0] {
        let mut r = router();
        r.ok(&format!("portmap 17 {WAN} 8080 192.168.1.11 80"));
        let mut p = udp(HOST_A, 7000, WAN_ADDR, 8080, b"short-lived");
        set_ttl(&mut p, ttl);
        let sent = r.inject("lan", &p);
        sent.nothing_on("wan");
        let err = sent.only("lan");
        assert_eq!((err[20], err[21]), (11, 0), "TTL {ttl}: Time Exceeded");
        assert_eq!((src(&err), dst(&err)), (LAN_ADDR, HOST_A), "TTL {ttl}: to the inside sender");
        assert_eq!(&quoted(&err)[..28], &p[..28], "TTL {ttl}: quotes the packet as A sent it");
        assert_eq!(r.stat("hairpinned"), 0);
    }
}
