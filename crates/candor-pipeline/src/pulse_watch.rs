//! The main face's pulse: the skin patches of every frame whose mesh was read (analysed
//! frames and glances, 15 or more a second) feed a POS pulse meter, and analysed frames
//! carry its latest reading as two signals. Real skin shows the heartbeat as a faint
//! colour change that beats in step on the forehead and both cheeks; a screen, a print
//! or a face rendered frame by frame need not.

use candor_core::pulse::{PulseConfig, PulseMeter, SkinSample};
use candor_core::signal::names;
use candor_core::{BgrImage, Signal, Source};

/// A reading older than this (media time) is not reported: the face was lost.
const STALE_US: i64 = 1_000_000;

pub struct PulseWatch {
    meter: PulseMeter,
    source: Source,
}

impl Default for PulseWatch {
    fn default() -> Self {
        Self {
            meter: PulseMeter::new(PulseConfig::default()),
            source: Source::new("pulse_pos", "1"),
        }
    }
}

impl PulseWatch {
    /// Takes the skin colour of a frame whose face mesh was read; the mesh's
    /// coordinates times `to_image` are `image`'s pixels.
    pub fn observe(&mut self, pts_us: i64, image: &BgrImage, mesh: &[[f32; 3]], to_image: f32) {
        if let Some(patches) = candor_vision::skin_patches(image, mesh, to_image) {
            self.meter.push(SkinSample {
                pts_us,
                regions: patches.map(|p| p.map(f64::from)),
            });
        }
    }

    /// `pulse_snr` (dB) and `pulse_coherence` (0-1) of the latest reading, when one
    /// covers the time up to `pts_us`.
    pub fn signals(&self, pts_us: i64) -> Vec<Signal> {
        match self.meter.reading() {
            Some(r) if pts_us - r.at_us <= STALE_US => vec![
                Signal::new(names::PULSE_SNR, r.snr as f32, &self.source),
                Signal::new(names::PULSE_COHERENCE, r.coherence as f32, &self.source),
            ],
            _ => Vec::new(),
        }
    }
}
