//! H.264 in MP4/MKV stores NAL units with length prefixes ("AVCC") and the parameter
//! sets in the stream header; live relays send Annex-B (start codes, parameter sets
//! in-band). The reference client converts, as a platform plugin would.

use anyhow::{Result, bail};

/// The stream header's avcC record: NAL length size and the SPS/PPS units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    pub nal_length_size: usize,
    pub parameter_sets: Vec<Vec<u8>>,
}

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Parses an `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15).
pub fn parse_avcc(extradata: &[u8]) -> Result<AvcConfig> {
    if extradata.len() < 7 || extradata[0] != 1 {
        bail!("not an avcC record (stream is probably Annex-B already)");
    }
    let nal_length_size = usize::from(extradata[4] & 0x03) + 1;
    let mut pos = 5;
    let mut parameter_sets = Vec::new();
    // SPS count is in the low 5 bits; PPS count is a full byte after the SPS list.
    for count_mask in [0x1f_u8, 0xff] {
        let count = extradata.get(pos).copied().unwrap_or(0) & count_mask;
        pos += 1;
        for _ in 0..count {
            let len = match extradata.get(pos..pos + 2) {
                Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
                None => bail!("avcC record is truncated"),
            };
            pos += 2;
            let Some(unit) = extradata.get(pos..pos + len) else {
                bail!("avcC parameter set is truncated");
            };
            parameter_sets.push(unit.to_vec());
            pos += len;
        }
    }
    Ok(AvcConfig {
        nal_length_size,
        parameter_sets,
    })
}

/// Appends `packet`'s NAL units to `out` with start codes; on keyframes the parameter
/// sets go first so a decoder can join at any keyframe.
pub fn to_annexb(cfg: &AvcConfig, packet: &[u8], keyframe: bool, out: &mut Vec<u8>) -> Result<()> {
    if keyframe {
        for ps in &cfg.parameter_sets {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(ps);
        }
    }
    let n = cfg.nal_length_size;
    let mut pos = 0;
    while pos < packet.len() {
        let Some(len_bytes) = packet.get(pos..pos + n) else {
            bail!("packet ends inside a NAL length prefix");
        };
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        pos += n;
        let Some(unit) = packet.get(pos..pos + len) else {
            bail!("NAL unit runs past the end of the packet");
        };
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(unit);
        pos += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Vec<u8> {
        // version 1, profile/compat/level, 4-byte lengths, 1 SPS (3 bytes), 1 PPS (2 bytes)
        vec![
            1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 3, 0x67, 1, 2, 1, 0, 2, 0x68, 9,
        ]
    }

    #[test]
    fn parses_avcc() {
        let cfg = parse_avcc(&record()).unwrap();
        assert_eq!(cfg.nal_length_size, 4);
        assert_eq!(cfg.parameter_sets, vec![vec![0x67, 1, 2], vec![0x68, 9]]);
    }

    #[test]
    fn converts_length_prefixed_units() {
        let cfg = parse_avcc(&record()).unwrap();
        let packet = [0, 0, 0, 2, 0x65, 7, 0, 0, 0, 1, 0x06];
        let mut out = Vec::new();
        to_annexb(&cfg, &packet, true, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 9, 0, 0, 0, 1, 0x65, 7, 0, 0, 0, 1, 0x06
            ]
        );
        out.clear();
        to_annexb(&cfg, &packet[..6], false, &mut out).unwrap();
        assert_eq!(out, vec![0, 0, 0, 1, 0x65, 7]);
    }

    #[test]
    fn rejects_broken_input() {
        assert!(parse_avcc(&[0, 0, 0, 1, 0x67]).is_err());
        let cfg = parse_avcc(&record()).unwrap();
        assert!(to_annexb(&cfg, &[0, 0, 0, 9, 1], false, &mut Vec::new()).is_err());
        assert!(to_annexb(&cfg, &[0, 0], false, &mut Vec::new()).is_err());
    }
}
