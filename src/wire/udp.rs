//! UDP header view (RFC 768).

use super::{be16, put16, Error, Field};

pub(crate) mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

pub const HEADER_LEN: usize = 8;

/// A read/write view of a UDP datagram.
#[derive(Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a whole datagram: 8 bytes of header and a length field that fits the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(be16(bytes, field::LENGTH));
        if len < HEADER_LEN || len > bytes.len() {
            return Err(Error::Malformed);
        }
        Ok(Packet { buffer })
    }

    /// [`new_checked`](Self::new_checked) for the first bytes of a datagram of `datagram_len`
    /// bytes: the length field is checked against `datagram_len`.
    pub fn new_head(buffer: T, datagram_len: usize) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(be16(bytes, field::LENGTH));
        if len < HEADER_LEN || len > datagram_len {
            return Err(Error::Malformed);
        }
        Ok(Packet { buffer })
    }

    /// Wraps the 8-byte header quoted in an ICMP error, whatever its length field says.
    pub fn new_quoted(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_checksum(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DATAGRAM: [u8; 12] = [0x00, 0x7b, 0x00, 0x7b, 0x00, 0x0c, 0x12, 0x34, 1, 2, 3, 4];

    #[test]
    fn test_deconstruct() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(p.src_port(), 123);
        assert_eq!(p.dst_port(), 123);
        assert_eq!(p.length(), 12);
        assert_eq!(p.checksum(), 0x1234);
    }

    #[test]
    fn test_construct() {
        let mut bytes = DATAGRAM;
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        p.set_checksum(0);
        assert_eq!(&bytes[..8], &[0x00, 0x7b, 0x00, 0x7b, 0x00, 0x0c, 0, 0]);
    }

    #[test]
    fn test_impossible_len() {
        assert_eq!(Packet::new_checked(&DATAGRAM[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&DATAGRAM[..11]).unwrap_err(), Error::Malformed);
        let mut bytes = DATAGRAM;
        bytes[5] = 7;
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
        assert!(Packet::new_quoted(&bytes[..8]).is_ok());
    }
}
