//! ICMPv4 view (RFC 792): queries carry an identifier, errors quote the datagram they are about.

use super::{be16, byte, checksum, put16, Error, Field};

pub(crate) mod field {
    use super::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const MTU: Field = 6..8;
    pub const QUOTED: usize = 8;
}

pub const HEADER_LEN: usize = 8;

/// The ICMP types the NAT distinguishes.
pub mod kind {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACHABLE: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAMETER_PROBLEM: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMP_REPLY: u8 = 14;
    pub const INFO_REQUEST: u8 = 15;
    pub const INFO_REPLY: u8 = 16;
}

/// What an ICMP message is to the NAT (RFC 5508 section 3 and 4). Declared errors first: the
/// order only numbers the table's bytes, and with the two classes parsing answers early on
/// numbered 0 and 1 its tests took the least code (every order measured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// An error quoting a datagram (types 3, 11, 12).
    Error,
    /// Anything else (redirects, router adverts, ...): not translated.
    Other,
    /// A query a host sends; creates or refreshes a mapping keyed by the identifier.
    Request,
    /// The answer to a query; travels back through the mapping.
    Reply,
}

/// Classifies an ICMP type. Timestamp and information queries are queries only with the
/// `icmp-queries` feature; without it they are `Other`, which the NAT never translates.
/// A load from a table built at compile time by [`classify`]: the match in line took a chain
/// of compares at each of its callers.
pub fn class(icmp_type: u8) -> Class {
    CLASSES.get(usize::from(icmp_type)).copied().unwrap_or(Class::Other)
}

/// True for the types [`class`] calls a request or a reply. Without `icmp-queries` echo's two
/// alone: the types whose bits are all in echo request's, one test where the class took a
/// compare and a mask (minimal 4 B); with them the class, which LLVM tests as a bit mask of
/// the types (a range for the four newer ones took more). A test over every type pins it to
/// [`class`].
#[inline(always)]
pub fn is_query(icmp_type: u8) -> bool {
    if cfg!(feature = "icmp-queries") {
        matches!(class(icmp_type), Class::Request | Class::Reply)
    } else {
        icmp_type & !kind::ECHO_REQUEST == 0
    }
}

/// How many types [`CLASSES`] holds: every type from 0 up to the last one [`classify`] may call
/// other than `Other` (16 with `icmp-queries`, else parameter problem's 12); past the table
/// [`class`] answers `Other`.
const CLASSED: usize = (if cfg!(feature = "icmp-queries") { kind::INFO_REPLY } else { kind::PARAMETER_PROBLEM }) as usize + 1;

/// [`classify`] of each type up to the last one that may be other than `Other`.
const CLASSES: [Class; CLASSED] = {
    let mut classes = [Class::Other; CLASSED];
    let mut t = 0;
    while t < CLASSED {
        classes[t] = classify(t as u8);
        t += 1;
    }
    classes
};

/// What [`class`] answers, as a match.
const fn classify(icmp_type: u8) -> Class {
    match icmp_type {
        kind::ECHO_REQUEST => Class::Request,
        kind::ECHO_REPLY => Class::Reply,
        #[cfg(feature = "icmp-queries")]
        kind::TIMESTAMP | kind::INFO_REQUEST => Class::Request,
        #[cfg(feature = "icmp-queries")]
        kind::TIMESTAMP_REPLY | kind::INFO_REPLY => Class::Reply,
        kind::DEST_UNREACHABLE | kind::TIME_EXCEEDED | kind::PARAMETER_PROBLEM => Class::Error,
        _ => Class::Other,
    }
}

/// A read/write view of an ICMP message.
#[derive(Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a message of at least the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        byte(self.buffer.as_ref(), field::TYPE)
    }

    pub fn msg_code(&self) -> u8 {
        byte(self.buffer.as_ref(), field::CODE)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Identifier of a query (bytes 4–5).
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// Next-hop MTU of a "fragmentation needed" error (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.buffer.as_ref(), field::MTU)
    }

    /// True when the checksum over the whole message is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.buffer.as_ref())
    }

    /// The datagram an error quotes.
    pub fn quoted(&self) -> &[u8] {
        self.buffer.as_ref().get(field::QUOTED..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_ident(&mut self, ident: u16) {
        put16(self.buffer.as_mut(), field::IDENT, ident)
    }

    pub fn set_checksum(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, value)
    }

    /// Recomputes the checksum over the whole message (used when building packets).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let value = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(value);
    }

    pub fn quoted_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(field::QUOTED..).unwrap_or(&mut [])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table answers what the match does for every type.
    #[test]
    fn class_is_classify_for_every_type() {
        for t in 0..=u8::MAX {
            assert_eq!(class(t), classify(t), "type {t}");
        }
    }

    /// `is_query` is the class's requests and replies, for every type (in every feature set).
    #[test]
    fn is_query_is_a_request_or_a_reply() {
        for t in 0..=u8::MAX {
            assert_eq!(is_query(t), matches!(class(t), Class::Request | Class::Reply), "type {t}");
        }
    }

    static ECHO: [u8; 12] = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, b'p', b'i', b'n', b'g'];

    #[test]
    fn test_deconstruct() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), kind::ECHO_REQUEST);
        assert_eq!(class(p.msg_type()), Class::Request);
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(p.quoted(), b"ping");
    }

    #[test]
    fn test_construct() {
        let mut bytes = ECHO;
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        p.set_ident(0xbeef);
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(&bytes[4..6], &[0xbe, 0xef]);
    }

    #[test]
    fn test_impossible_len() {
        assert_eq!(Packet::new_checked(&ECHO[..7]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn classes() {
        assert_eq!(class(kind::TIME_EXCEEDED), Class::Error);
        assert_eq!(class(kind::PARAMETER_PROBLEM), Class::Error);
        assert_eq!(class(5), Class::Other);
        // The router's own fragments class an empty transport part as type 255 (`fragments`).
        assert_eq!(class(u8::MAX), Class::Other);
        let query = |expected| if cfg!(feature = "icmp-queries") { expected } else { Class::Other };
        assert_eq!(class(kind::TIMESTAMP), query(Class::Request));
        assert_eq!(class(kind::TIMESTAMP_REPLY), query(Class::Reply));
        assert_eq!(class(kind::INFO_REQUEST), query(Class::Request));
        assert_eq!(class(kind::INFO_REPLY), query(Class::Reply));
    }
}
