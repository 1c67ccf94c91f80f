//! A deterministic stream of numbers for attack and load tests (xorshift64*): the same seed
//! gives the same traffic on every run.

/// xorshift64* over its state; the seed must not be 0.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The next 16 bits.
    pub fn u16(&mut self) -> u16 {
        self.next_u64() as u16
    }

    /// A number below `n` (not 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A public address in 198.18.0.0/15 (RFC 2544 benchmarking): never one of the test
    /// network's servers, so an attacker never matches a live session by chance.
    pub fn attacker(&mut self) -> [u8; 4] {
        let r = self.next_u64();
        [198, 18 + (r & 1) as u8, (r >> 8) as u8, (r >> 16) as u8 | 1]
    }

    /// `n` bytes of the stream.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
