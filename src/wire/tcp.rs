//! TCP header view (RFC 9293): the ports, flags and checksum the NAT reads and rewrites.

use super::{be16, byte, put16, Error, Field};

pub(crate) mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const CHECKSUM: Field = 16..18;
}

/// Minimum header length.
pub const HEADER_LEN: usize = 20;

/// The TCP control bits the NAT's state tracking looks at.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const ACK: u8 = 0x10;
}

/// A read/write view of a TCP segment.
#[derive(Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a whole segment: at least 20 bytes and a data offset that fits in it.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        // In 32-bit words, as the data offset counts: a header of `words` words fits in the
        // segment exactly when `words` is at most its whole words.
        let words = usize::from(byte(bytes, field::DATA_OFFSET) >> 4);
        if words < HEADER_LEN / 4 || words > bytes.len() / 4 {
            return Err(Error::Malformed);
        }
        Ok(Packet { buffer })
    }

    /// Wraps the start of a segment quoted in an ICMP error; at least the ports (8 bytes).
    pub fn new_quoted(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < 8 {
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

    pub fn flags(&self) -> u8 {
        byte(self.buffer.as_ref(), field::FLAGS)
    }

    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), field::DATA_OFFSET) >> 4) * 4
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

    static SYN: [u8; 24] = [
        0xc3, 0x50, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff, 0xab, 0xcd, 0, 0, 0x02, 0x04, 0x05,
        0xb4,
    ];

    #[test]
    fn test_deconstruct() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!(p.src_port(), 50000);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.flags(), flags::SYN);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.checksum(), 0xabcd);
    }

    #[test]
    fn test_construct() {
        let mut bytes = SYN;
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        p.set_checksum(0x1111);
        assert_eq!(&bytes[..16], &SYN[..16]);
        assert_eq!(&bytes[16..18], &[0x11, 0x11]);
    }

    #[test]
    fn test_impossible_len() {
        assert_eq!(Packet::new_checked(&SYN[..19]).unwrap_err(), Error::Truncated);
        let mut bytes = SYN;
        bytes[12] = 0x70; // 28-byte header in a 24-byte segment
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
        bytes[12] = 0x40; // 16-byte header
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
    }

    /// The data offset tested in words answers as the byte length did: every offset in every
    /// segment length from 0 to 64 bytes.
    #[test]
    fn data_offset_in_words_is_the_header_length_in_bytes() {
        let mut bytes = [0u8; 64];
        for offset in 0..=15u8 {
            bytes[12] = offset << 4 | 0x0F;
            for len in 0..=bytes.len() {
                let header_len = usize::from(offset) * 4;
                let expected = if len < HEADER_LEN {
                    Err(Error::Truncated)
                } else if header_len < HEADER_LEN || header_len > len {
                    Err(Error::Malformed)
                } else {
                    Ok(())
                };
                assert_eq!(Packet::new_checked(&bytes[..len]).map(|_| ()), expected, "offset {offset}, {len} bytes");
            }
        }
    }

    #[test]
    fn quoted_header_may_lack_checksum() {
        let p = Packet::new_quoted(&SYN[..8]).unwrap();
        assert_eq!(p.dst_port(), 80);
        assert_eq!(Packet::new_quoted(&SYN[..7]).unwrap_err(), Error::Truncated);
    }
}
