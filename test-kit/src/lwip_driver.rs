//! Drives a router program built from tests/lwip/router.c (real lwIP + the shim + lwip-snat)
//! line by line: commands on its stdin, the packets lwIP sent and other event lines back.
//! Shared by tests/lwip_router.rs (Debian's lwIP 2.1.3) and tests/lwip22_hairpin.rs (lwIP 2.2
//! compiled from source with the hook), and the suites beside them; the tests build the program
//! (`tests/lwip/build.rs`, `tests/lwip22/build.rs`) and hand its path to [`Router::spawn`].

use crate::oracle::check_canonical;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// One packet lwIP sent.
#[derive(Debug, Clone)]
pub struct Out {
    pub netif: String,
    pub bytes: Vec<u8>,
}

/// What one command caused: packets sent and other event lines.
#[derive(Debug, Default)]
pub struct Events {
    pub out: Vec<Out>,
    pub lines: Vec<String>,
}

impl Events {
    pub fn on(&self, netif: &str) -> Vec<Vec<u8>> {
        self.out.iter().filter(|o| o.netif == netif).map(|o| o.bytes.clone()).collect()
    }

    /// The one packet sent out of `netif`, with its checksums verified.
    pub fn only(&self, netif: &str) -> Vec<u8> {
        let on = self.on(netif);
        assert_eq!(on.len(), 1, "expected exactly one packet out of {netif}, got {:?}", self.out);
        if let Err(e) = check_canonical(&on[0]) {
            panic!("{e}: {:02x?}", on[0]);
        }
        on[0].clone()
    }

    pub fn nothing_on(&self, netif: &str) {
        assert!(self.on(netif).is_empty(), "nothing may leave by {netif}: {:?}", self.out);
    }
}

/// A running router process.
pub struct Router {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Router {
    /// Runs the router program `exe`: lwIP up with LAN as netif 1 and WAN as netif 2, the NAT
    /// not started.
    pub fn spawn(exe: &Path) -> Router {
        let mut child = Command::new(exe).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("run router");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut r = Router { child, stdin, stdout };
        assert_eq!(r.ok("index lan").lines, ["index 1"], "test constants assume LAN is netif 1");
        assert_eq!(r.ok("index wan").lines, ["index 2"]);
        r
    }

    /// Runs one command: what it caused and its result line ("ok" or "err <code>").
    pub fn cmd(&mut self, line: &str) -> (Events, String) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut events = Events::default();
        loop {
            let mut text = String::new();
            assert!(self.stdout.read_line(&mut text).unwrap() > 0, "router exited during {line:?}");
            let text = text.trim_end().to_string();
            if text == "ok" || text.starts_with("err ") {
                return (events, text);
            }
            let mut words = text.split(' ');
            if words.next() == Some("out") {
                let netif = words.next().unwrap().to_string();
                let _next_hop = words.next();
                events.out.push(Out { netif, bytes: unhex(words.next().unwrap_or("")) });
            } else {
                events.lines.push(text);
            }
        }
    }

    pub fn ok(&mut self, line: &str) -> Events {
        let (events, result) = self.cmd(line);
        assert_eq!(result, "ok", "{line}");
        events
    }

    /// Runs a command that must fail with `code` (an `lwip_snat_err_t`).
    pub fn err(&mut self, line: &str, code: i32) {
        let (_, result) = self.cmd(line);
        assert_eq!(result, format!("err {code}"), "{line}");
    }

    pub fn inject(&mut self, netif: &str, packet: &[u8]) -> Events {
        self.ok(&format!("in {netif} {}", hex(packet)))
    }

    pub fn sessions(&mut self) -> Vec<String> {
        self.ok("dump").lines
    }

    pub fn stat(&mut self, name: &str) -> u64 {
        let prefix = format!("stat {name} ");
        self.ok("stats").lines.iter().find_map(|l| l.strip_prefix(&prefix).map(|v| v.parse().unwrap())).unwrap_or(0)
    }

    /// The part of the NAT's `passed` the shim's own quiet tests counted (`LWIP_SNAT_QUIET_PATH`;
    /// the router program's `shimpassed` command).
    pub fn shim_passed(&mut self) -> u64 {
        let lines = self.ok("shimpassed").lines;
        lines.iter().find_map(|l| l.strip_prefix("shimpassed ").map(|v| v.parse().unwrap())).unwrap()
    }

    /// Packets the NAT dropped, all reasons (the sum of its `drop_*` counters).
    pub fn drops(&mut self) -> u64 {
        self.ok("stats")
            .lines
            .iter()
            .filter(|l| l.starts_with("stat drop_"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap()).collect()
}
