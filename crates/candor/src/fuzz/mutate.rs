//! Seeded mutations of media bytes: what a damaged network, a bad relay or an attacker
//! does to a stream. Deterministic for a seed, so a finding can be replayed.

/// xorshift64*: small, fast and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread small seeds over the state; never zero.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// Values that break length and size fields: zero, all ones, sign edges, one off.
const INTERESTING: [u32; 10] = [
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x0001_0000,
];

/// One to four stacked mutations of `input`; `other` is a second input of the same
/// kind for splicing.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        mutate_once(rng, &mut out, other);
    }
    out
}

/// Recomputes the CRC of every whole PNG chunk: the PNG decoder checks them, so
/// without this nearly every mutant stops at the first CRC and the chunk parsers
/// behind it are never reached.
pub fn fix_png_crcs(png: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e + 4 <= png.len()) else {
            return;
        };
        let crc = crc32(&png[at + 4..end]);
        png[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

/// CRC-32 (ISO-HDLC, as PNG uses), bit by bit: inputs are small.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn mutate_once(rng: &mut Rng, out: &mut Vec<u8>, other: &[u8]) {
    if out.is_empty() {
        out.extend((0..1 + rng.below(64)).map(|_| rng.byte()));
        return;
    }
    let len = out.len();
    match rng.below(8) {
        // Bit flips, often near the start where headers are.
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = if rng.below(2) == 0 {
                    rng.below(len.min(256))
                } else {
                    rng.below(len)
                };
                out[at] ^= 1 << rng.below(8);
            }
        }
        // Random bytes inserted.
        1 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(64);
            let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            out.splice(at..at, bytes);
        }
        // A range deleted.
        2 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(4096));
            out.drain(at..at + n);
        }
        // Truncation.
        3 => out.truncate(rng.below(len)),
        // Splice: our head, the other input's tail.
        4 if !other.is_empty() => {
            let cut = rng.below(len);
            let from = rng.below(other.len());
            out.truncate(cut);
            out.extend_from_slice(&other[from..]);
        }
        // A header field (32-bit, either byte order) set to an edge value.
        5 | 4 => {
            let at = rng.below(len.min(512));
            let v = INTERESTING[rng.below(INTERESTING.len())];
            let bytes = if rng.below(2) == 0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        // A block duplicated (repeated headers, replayed packets).
        6 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(2048));
            let block = out[at..at + n].to_vec();
            let to = rng.below(len + 1);
            out.splice(to..to, block);
        }
        // Bytes overwritten with noise.
        _ => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            for b in &mut out[at..at + n] {
                *b = rng.byte();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_crcs_are_those_of_the_standard() {
        // The IEND chunk's CRC is fixed by the standard.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\0\0\0\0".to_vec();
        fix_png_crcs(&mut png);
        assert_eq!(&png[16..], &[0xAE, 0x42, 0x60, 0x82]);
    }

    #[test]
    fn mutations_are_deterministic_for_a_seed() {
        let input: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..50)
                .map(|_| mutate(&mut rng, &input, b"other"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().any(|m| m != &input));
    }
}
