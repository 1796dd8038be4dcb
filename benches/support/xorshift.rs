//! A tiny generator shared by the benches, so they measure the code under test, not the RNG.

/// Marsaglia's xorshift64: three shifts per number.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next number of the sequence (never 0 from a non-zero seed).
    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Roughly uniform in [0, n) (modulo bias is irrelevant for a bench).
    #[allow(dead_code)] // each bench that includes this module uses its own part of it
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
