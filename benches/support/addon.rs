//! A model of the original lwIP SNAT add-on's session lookup: the list walk lwip-snat replaces.
//!
//! Written from a reading of the add-on's source (nothing copied). Its sessions are `struct
//! nat_pcb`s carved from one static array per protocol at the size of the struct's used part
//! (an lwIP `tcp_pcb` / `udp_pcb` prefix plus the NAT's fields), linked newest first into a
//! `used` list. Per packet it walks that list from the head; for every node it reads `next`,
//! calls `nat_pcb_timedout` (a function of another file, so a real call per node), then compares
//! the netif indices, the addresses (`ip_addr_cmp`: type, then value) and the ports. A match
//! found more than 16 nodes down is moved to the head of the list. Visited round-robin, that
//! move-to-front always leaves the next flow at the tail: every lookup walks the whole list.
//!
//! [`Node`] has the layout of the add-on's `nat_pcb` built against lwIP 2.1.3's headers on
//! x86-64 (Debian's `liblwip-dev`, dual-stack `ip_addr_t` of 24 bytes): 124 bytes per TCP node,
//! 112 per UDP node, each field at the add-on's offset. Everything else per packet (parse,
//! state update, rewrite) is this crate's fast path, far cheaper than the add-on's own per-packet
//! work (its hook validates and routes the packet again, and with `CHECKSUM_CHECK_UDP` sums the
//! whole UDP datagram): only the walk is the add-on's, so the model flatters it.

use std::ptr;

use lwip_snat::flow::Side;
use lwip_snat::rewrite;
use lwip_snat::tables::tcp::{self as tcp_state, Direction};
use lwip_snat::{flow, Context, Protocol, Route, Verdict};

use super::{BenchNat, LAN, WAN_ADDR};

/// `IPADDR_TYPE_V4` / `IPADDR_TYPE_V6` of lwIP's dual-stack `ip_addr_t`.
const IPADDR_TYPE_V4: u8 = 0;
const IPADDR_TYPE_V6: u8 = 6;

/// lwIP's dual-stack `ip_addr_t`: an IPv6 address (with zone) or an IPv4 one in its first word,
/// and the type.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct IpAddr {
    words: [u32; 4],
    zone: u8,
    _pad: [u8; 3],
    kind: u8,
    _pad2: [u8; 3],
}

impl IpAddr {
    fn v4(addr: u32) -> Self {
        // lwIP keeps addresses in network byte order.
        IpAddr { words: [addr.to_be(), 0, 0, 0], kind: IPADDR_TYPE_V4, ..IpAddr::default() }
    }

    /// `ip_addr_cmp`.
    #[inline(always)]
    fn same(&self, other: &IpAddr) -> bool {
        self.kind == other.kind
            && if self.kind == IPADDR_TYPE_V6 {
                self.words == other.words && self.zone == other.zone
            } else {
                self.words[0] == other.words[0]
            }
    }
}

/// One `nat_pcb` (see the module doc), `TAIL` bytes of protocol pcb after the common part:
/// 28 for TCP (`next`, `callback_arg`, `state`, `prio`, then the three ports), 16 for UDP
/// (`next`, `flags`, then the three ports). The ports are the tail's last six bytes in both.
#[repr(C, packed(4))]
struct Node<const TAIL: usize> {
    /// The NAT's list link (the protocol pcb's own `next` is in the tail).
    next: *mut Node<TAIL>,
    /// The inside host (`nat_local_ip`); its port is `nat_local_port` in the tail.
    nat_local_ip: IpAddr,
    ext_netif_idx: u8,
    int_netif_idx: u8,
    /// Expiry tick, compared with the add-on's global tick counter.
    timeout: u8,
    _pad: [u8; 5],
    /// The external address (`ip.local_ip`); its port is the pcb's `local_port`.
    local_ip: IpAddr,
    remote_ip: IpAddr,
    /// `netif_idx`, `so_options`, `tos`, `ttl` of lwIP's `IP_PCB`, and padding.
    _ip_pcb: [u8; 8],
    tail: [u8; TAIL],
}

/// Where a TCP node's tail holds the `tcp_pcb`'s `state` (after `next` and `callback_arg`);
/// past the end of a UDP node's tail.
const TCP_STATE: usize = 16;

/// TCP nodes: 124 bytes, as `offsetof(struct nat_pcb, nat_tcp.end)`.
type TcpNode = Node<28>;
/// UDP nodes: 112 bytes, as `offsetof(struct nat_pcb, nat_udp.end)`.
type UdpNode = Node<16>;
const _: () = assert!(size_of::<TcpNode>() == 124 && size_of::<UdpNode>() == 112);

impl<const TAIL: usize> Node<TAIL> {
    fn port(&self, from_end: usize) -> u16 {
        let at = TAIL - from_end;
        u16::from_ne_bytes([self.tail[at], self.tail[at + 1]])
    }

    /// The external port (`tcp.local_port` / `udp.local_port`), host order as lwIP keeps it.
    fn local_port(&self) -> u16 {
        self.port(6)
    }

    fn remote_port(&self) -> u16 {
        self.port(4)
    }

    fn nat_local_port(&self) -> u16 {
        self.port(2)
    }
}

/// The add-on's `nat_pcb_timedout`: out of line, as a call into another file.
#[inline(never)]
fn timed_out<const TAIL: usize>(node: *const Node<TAIL>, tick: u8) -> bool {
    // SAFETY: `walk` only passes nodes of its own storage.
    let timeout = unsafe { (*node).timeout };
    timeout.wrapping_sub(tick) >= 0x80
}

/// One protocol's pcbs: the static storage and its `used` list.
struct Pcbs<const TAIL: usize> {
    /// Never resized after construction, so node addresses stay valid.
    storage: Box<[Node<TAIL>]>,
    used: *mut Node<TAIL>,
    /// Expired nodes go here (the add-on's `free` list); none expire in the benches.
    free: *mut Node<TAIL>,
    tick: u8,
}

/// The two address-and-port pairs a walk may compare besides the remote one.
#[derive(Clone, Copy)]
struct Endpoint {
    addr: IpAddr,
    port: u16,
}

impl<const TAIL: usize> Pcbs<TAIL> {
    fn new(sessions: &[Session]) -> Self {
        let mut storage: Box<[Node<TAIL>]> = sessions
            .iter()
            .map(|s| Node {
                next: ptr::null_mut(),
                nat_local_ip: IpAddr::v4(s.inside),
                ext_netif_idx: s.netif,
                int_netif_idx: LAN,
                timeout: REFRESH_TICKS,
                _pad: [0; 5],
                local_ip: IpAddr::v4(WAN_ADDR),
                remote_ip: IpAddr::v4(s.remote),
                _ip_pcb: [0; 8],
                tail: {
                    let mut tail = [0u8; TAIL];
                    tail[TAIL - 6..TAIL - 4].copy_from_slice(&s.ext_port.to_ne_bytes());
                    tail[TAIL - 4..TAIL - 2].copy_from_slice(&s.remote_port.to_ne_bytes());
                    tail[TAIL - 2..].copy_from_slice(&s.in_port.to_ne_bytes());
                    // TCP nodes only: a UDP tail ends before it.
                    if let Some(state) = tail.get_mut(TCP_STATE) {
                        *state = s.state;
                    }
                    tail
                },
            })
            .collect();
        // Allocated in storage order, each new pcb pushed on the head: newest first.
        let mut used = ptr::null_mut();
        for node in storage.iter_mut() {
            node.next = used;
            used = node;
        }
        Pcbs { storage, used, free: ptr::null_mut(), tick: 0 }
    }

    /// The add-on's walk: `int_netif_idx` 0, `local` or `nat` `None` mean "any".
    fn walk(
        &mut self,
        ext_netif_idx: u8,
        int_netif_idx: u8,
        remote: &Endpoint,
        local: Option<&Endpoint>,
        nat: Option<&Endpoint>,
    ) -> Option<&mut Node<TAIL>> {
        // Where the link to the current node is: the list head or the previous node's `next`
        // (4-aligned only, as in the add-on's packed storage, hence the unaligned writes).
        let mut prev: *mut *mut Node<TAIL> = &mut self.used;
        let mut pcb = self.used;
        let mut n = 0;
        // SAFETY: every pointer followed is null or a node of `self.storage`, which is neither
        // moved nor resized while `self` lives; `&mut self` makes this walk the only access.
        unsafe {
            while !pcb.is_null() {
                let next = (*pcb).next;
                if timed_out(pcb, self.tick) {
                    prev.write_unaligned(next);
                    (*pcb).next = self.free;
                    self.free = pcb;
                    pcb = next;
                    continue;
                }
                n += 1;
                let node = &*pcb;
                if ext_netif_idx == node.ext_netif_idx
                    && (int_netif_idx == 0 || int_netif_idx == node.int_netif_idx)
                    && local.is_none_or(|l| l.addr.same(&node.local_ip) && l.port == node.local_port())
                    && nat.is_none_or(|l| l.addr.same(&node.nat_local_ip) && l.port == node.nat_local_port())
                    && remote.addr.same(&node.remote_ip)
                    && remote.port == node.remote_port()
                {
                    if n > 16 {
                        prev.write_unaligned(next);
                        (*pcb).next = self.used;
                        self.used = pcb;
                    }
                    return Some(&mut *pcb);
                }
                prev = ptr::addr_of_mut!((*pcb).next);
                pcb = next;
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.storage.len()
    }
}

/// What the model needs of a NAT session.
struct Session {
    inside: u32,
    in_port: u16,
    ext_port: u16,
    remote: u32,
    remote_port: u16,
    netif: u8,
    state: u8,
}

enum Table {
    Tcp(Pcbs<28>),
    Udp(Pcbs<16>),
}

/// The add-on's walk over a copy of one protocol's sessions of a [`BenchNat`], with this
/// crate's parse, TCP state update and rewrite around it.
pub struct AddOnModel {
    table: Table,
}

impl AddOnModel {
    /// The sessions of `protocol` in `nat`, allocated in the order they were created.
    pub fn from_nat(nat: &BenchNat, protocol: Protocol) -> Self {
        let sessions: Vec<Session> = nat
            .sessions()
            .filter(|&(p, _)| p == protocol)
            .map(|(_, s)| Session {
                inside: s.inside,
                in_port: s.in_port,
                ext_port: s.ext_port,
                remote: s.remote,
                remote_port: s.remote_port,
                netif: s.netif,
                state: BenchNat::session_state(s),
            })
            .collect();
        let table = match protocol {
            Protocol::Tcp => Table::Tcp(Pcbs::new(&sessions)),
            _ => Table::Udp(Pcbs::new(&sessions)),
        };
        AddOnModel { table }
    }

    pub fn len(&self) -> usize {
        match &self.table {
            Table::Tcp(pcbs) => pcbs.len(),
            Table::Udp(pcbs) => pcbs.len(),
        }
    }

    /// Translates an established flow's packet in either direction.
    pub fn process(&mut self, packet: &mut [u8], ctx: &Context, _now: u32) -> Verdict {
        match &mut self.table {
            Table::Tcp(pcbs) => translate(pcbs, Protocol::Tcp, packet, ctx),
            Table::Udp(pcbs) => translate(pcbs, Protocol::Udp, packet, ctx),
        }
    }
}

/// Ticks a refreshed pcb lives (the add-on's per-protocol `LWIP_NAT_*_TICKS`).
const REFRESH_TICKS: u8 = 100;

fn translate<const TAIL: usize>(
    pcbs: &mut Pcbs<TAIL>,
    protocol: Protocol,
    packet: &mut [u8],
    ctx: &Context,
) -> Verdict {
    let Some(plain) = flow::parse_plain(packet) else { return Verdict::Pass };
    let f = &plain.flow;
    if f.protocol != protocol {
        return Verdict::Pass;
    }
    let tick = pcbs.tick;
    let (side, node) = match ctx.route {
        Route::Forward { out_netif, .. } => {
            let remote = Endpoint { addr: IpAddr::v4(f.dst), port: f.dst_port };
            let inside = Endpoint { addr: IpAddr::v4(f.src), port: f.src_port };
            (Side::Source, pcbs.walk(out_netif, ctx.in_netif, &remote, None, Some(&inside)))
        }
        Route::Local { netif, .. } => {
            let remote = Endpoint { addr: IpAddr::v4(f.src), port: f.src_port };
            let external = Endpoint { addr: IpAddr::v4(f.dst), port: f.dst_port };
            (Side::Destination, pcbs.walk(netif, 0, &remote, Some(&external), None))
        }
    };
    let Some(node) = node else { return Verdict::Pass };
    node.timeout = tick.wrapping_add(REFRESH_TICKS);
    // A copy: the packed node's generic tail cannot be borrowed in place.
    let mut tail = node.tail;
    if let Some(state) = tail.get_mut(TCP_STATE) {
        let direction = if side == Side::Source { Direction::Outbound } else { Direction::Inbound };
        *state = tcp_state::advance(direction, *state, f.tcp_flags);
        node.tail = tail;
    }
    let (addr, port) = match side {
        Side::Source => (u32::from_be(node.local_ip.words[0]), node.local_port()),
        Side::Destination => (u32::from_be(node.nat_local_ip.words[0]), node.nat_local_port()),
    };
    rewrite::plain_endpoint(packet, &plain, side, addr, port);
    Verdict::Translated
}
