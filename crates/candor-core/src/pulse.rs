//! Pulse from the colour of skin (remote photoplethysmography): each heartbeat swells
//! the blood vessels under the skin and changes its colour by a fraction of a grey
//! level, most in green. A live face carries one pulse, at the same rate and in step on
//! the forehead and both cheeks; a replayed or synthesised face usually carries none,
//! or patches that disagree.
//!
//! Per frame the caller gives the mean RGB of three skin regions ([`SkinSample`]). Over
//! a sliding window (8 s by default) a [`PulseMeter`]:
//!
//! 1. resamples each region's trace to a uniform 15 Hz grid (linear interpolation),
//!    as frames come unevenly spaced;
//! 2. projects it onto the pulse with POS (Wang, den Brinker, Stuijk & de Haan 2017,
//!    "Algorithmic principles of remote PPG", IEEE TBME): in sliding 1.6 s stretches,
//!    each channel is divided by its mean, S1 = G - B and S2 = G + B - 2R are combined
//!    as h = S1 + (sd(S1) / sd(S2)) S2, and the stretches are overlap-added. Light that
//!    brightens all channels alike cancels out;
//! 3. band-passes 0.7-4 Hz (42-240 bpm) by zeroing the DFT bins outside the band of
//!    the linearly detrended window. Zero phase, and no filter start-up to eat into a
//!    window only 8 s long, as a recursive filter would; the window's spectrum is
//!    needed anyway;
//! 4. finds each region's strongest frequency in the band and its SNR;
//! 5. measures whether the regions beat at one rate and in step
//!    ([`PulseReading::coherence`]).
//!
//! The reading's rate and SNR are those of the regions' pulses averaged (each scaled to
//! unit power first, so no region dominates).

use std::collections::VecDeque;

/// Mean red, green, blue of a skin region, 0-255.
pub type Rgb = [f64; 3];

/// Skin regions per sample: forehead, left cheek, right cheek.
pub const REGIONS: usize = 3;

/// One frame's skin colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkinSample {
    pub pts_us: i64,
    /// Forehead, left cheek, right cheek.
    pub regions: [Rgb; REGIONS],
}

#[derive(Debug, Clone, PartialEq)]
pub struct PulseConfig {
    /// Length of the window a reading is computed over; kept within 6-10 s (shorter
    /// cannot resolve 0.1 Hz, longer lags behind a changing heart rate).
    pub window_us: i64,
    /// Share of the window the samples must cover (gaps up to [`MAX_GAP_US`] count as
    /// covered).
    pub min_coverage: f64,
    /// Samples per second of covered time needed.
    pub min_rate_hz: f64,
    /// A new reading at most this often: one costs about as much as a few hundred
    /// frames' bookkeeping, and the pulse does not change faster.
    pub update_us: i64,
}

impl Default for PulseConfig {
    fn default() -> Self {
        Self {
            window_us: 8_000_000,
            min_coverage: 0.8,
            min_rate_hz: 12.0,
            update_us: 500_000,
        }
    }
}

/// Rate of the uniform grid the traces are resampled to: well above twice the band's
/// top (4 Hz), and what the slowest accepted input delivers.
pub const GRID_HZ: f64 = 15.0;
/// The band a pulse may lie in, Hz.
pub const BAND_HZ: (f64, f64) = (0.7, 4.0);
/// A longer pause between samples breaks the coverage of the window.
pub const MAX_GAP_US: i64 = 250_000;
/// POS's stretch: about one heartbeat at the slowest rate, so each stretch's mean
/// follows the skin's level but not the pulse.
const POS_STRETCH_S: f64 = 1.6;
/// Half width of the peak (and of its first harmonic) in the SNR, and the largest
/// difference of two regions' rates that still counts as agreeing, Hz.
pub const PEAK_HALF_WIDTH_HZ: f64 = 0.1;
/// Two regions' pulses are compared within this distance of their mean rate, Hz (two
/// DFT bins of an 8 s window either side).
pub const COHERENCE_HALF_BAND_HZ: f64 = 0.25;
/// Step of the spectrum the peak is searched on (0.6 bpm).
const SPECTRUM_STEP_HZ: f64 = 0.01;
/// SNR readings are clamped to this range, dB (a flat or pure signal has no finite
/// SNR).
pub const SNR_RANGE_DB: (f64, f64) = (-30.0, 30.0);

/// One region's pulse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionPulse {
    /// Strongest frequency in the band, beats per minute.
    pub bpm: f64,
    /// Power within ±0.1 Hz of that frequency and of its first harmonic (when in the
    /// band) over the power in the rest of the band, in dB.
    pub snr: f64,
}

/// The pulse over one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseReading {
    /// End of the window (the newest sample's time).
    pub at_us: i64,
    /// Rate of the regions' averaged pulse, beats per minute.
    pub bpm: f64,
    /// SNR of the averaged pulse, dB (as [`RegionPulse::snr`]).
    pub snr: f64,
    /// Agreement of the regions, 0-1: the mean over the three pairs of regions of the
    /// correlation at zero lag of their band-passed pulses, narrowed to within 0.25 Hz
    /// of the face's rate (the averaged pulse's peak; negative counts 0).
    ///
    /// Narrowed, because over the whole band the correlation is capped by each region's
    /// own SNR (a pulse as strong as the band's noise correlates at 0.5); near the rate
    /// it asks whether the regions beat in step. One pulse seen everywhere reads near
    /// 1; noise, or regions beating at different rates, near 0.
    pub coherence: f64,
    /// Forehead, left cheek, right cheek.
    pub regions: [RegionPulse; REGIONS],
}

/// Fed one sample per frame, in time order; keeps the latest reading.
#[derive(Debug, Clone)]
pub struct PulseMeter {
    config: PulseConfig,
    samples: VecDeque<SkinSample>,
    latest: Option<PulseReading>,
    computed_at: Option<i64>,
}

impl PulseMeter {
    pub fn new(mut config: PulseConfig) -> Self {
        config.window_us = config.window_us.clamp(6_000_000, 10_000_000);
        Self {
            config,
            samples: VecDeque::new(),
            latest: None,
            computed_at: None,
        }
    }

    /// Adds a frame's sample; one out of order, or with a value that is not finite,
    /// is ignored. Recomputes the reading when `update_us` has passed since the last
    /// time: then it is `None` if the window lacks samples.
    pub fn push(&mut self, sample: SkinSample) {
        let in_order = self.samples.back().is_none_or(|s| sample.pts_us > s.pts_us);
        let finite = sample.regions.iter().flatten().all(|v| v.is_finite());
        if !in_order || !finite {
            return;
        }
        let now = sample.pts_us;
        self.samples.push_back(sample);
        // Keep one sample from before the window's start, to interpolate from.
        while self
            .samples
            .get(1)
            .is_some_and(|s| s.pts_us <= now - self.config.window_us)
        {
            self.samples.pop_front();
        }
        if self
            .computed_at
            .is_none_or(|t| now - t >= self.config.update_us)
        {
            self.computed_at = Some(now);
            self.latest = read_window(self.samples.make_contiguous(), now, &self.config);
        }
    }

    /// The reading computed last, if its window had enough samples.
    pub fn reading(&self) -> Option<&PulseReading> {
        self.latest.as_ref()
    }

    /// Forgets every sample (another face, a new session).
    pub fn reset(&mut self) {
        self.samples.clear();
        self.latest = None;
        self.computed_at = None;
    }
}

/// The reading over the window of `config.window_us` ending at `end_us`, from samples
/// in time order. `None` when they cover too little of the window or come too rarely.
pub fn read_window(
    samples: &[SkinSample],
    end_us: i64,
    config: &PulseConfig,
) -> Option<PulseReading> {
    let start_us = end_us - config.window_us;
    let window_s = config.window_us as f64 / 1e6;
    let covered_s = covered_us(samples, start_us, end_us) as f64 / 1e6;
    let inside = samples
        .iter()
        .filter(|s| (start_us..=end_us).contains(&s.pts_us))
        .count();
    if covered_s < config.min_coverage * window_s
        || (inside as f64) < config.min_rate_hz * covered_s
    {
        return None;
    }
    let n = (window_s * GRID_HZ).round() as usize;
    if samples.is_empty() || n < 2 * (POS_STRETCH_S * GRID_HZ) as usize {
        return None;
    }
    let grid: Vec<i64> = (0..n)
        .map(|k| end_us - ((n - 1 - k) as f64 * 1e6 / GRID_HZ).round() as i64)
        .collect();
    let spectrum = Spectrum::new(n);
    let (pulses, bins): (Vec<Vec<f64>>, Vec<Bins>) = (0..REGIONS)
        .map(|r| {
            let trace = resample(samples, r, &grid);
            spectrum.band_pass(&detrend(&pos(&trace, POS_STRETCH_S)))
        })
        .unzip();
    let regions: Vec<RegionPulse> = pulses.iter().map(|p| spectrum.peak(p)).collect();
    let mut average = vec![0.0; n];
    for p in &pulses {
        let rms = (p.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
        if rms > 0.0 {
            for (a, v) in average.iter_mut().zip(p) {
                *a += v / rms / REGIONS as f64;
            }
        }
    }
    let face = spectrum.peak(&average);
    // Graded, not gated on each region's own peak: on compressed webcam video a
    // region's peak often lands on noise while the regions still beat in step at the
    // face's rate, and a ranking needs that difference.
    let face_hz = face.bpm / 60.0;
    let near = |k: usize| (spectrum.bin_hz(k) - face_hz).abs() <= COHERENCE_HALF_BAND_HZ;
    let pairs = [(0, 1), (0, 2), (1, 2)];
    let coherence = pairs
        .iter()
        .map(|&(i, j)| correlation(&bins[i], &bins[j], near).max(0.0))
        .sum::<f64>()
        / pairs.len() as f64;
    Some(PulseReading {
        at_us: end_us,
        bpm: face.bpm,
        snr: face.snr,
        coherence,
        regions: [regions[0], regions[1], regions[2]],
    })
}

/// Time of `[start, end]` spanned by consecutive samples at most `MAX_GAP_US` apart.
fn covered_us(samples: &[SkinSample], start: i64, end: i64) -> i64 {
    samples
        .windows(2)
        .filter(|w| w[1].pts_us - w[0].pts_us <= MAX_GAP_US)
        .map(|w| (w[1].pts_us.min(end) - w[0].pts_us.max(start)).max(0))
        .sum()
}

/// One region's RGB at each grid time: linear between the samples around it, the
/// nearest sample's value beyond the first or last.
fn resample(samples: &[SkinSample], region: usize, grid: &[i64]) -> Vec<Rgb> {
    let mut next = 0;
    grid.iter()
        .map(|&t| {
            while next < samples.len() && samples[next].pts_us < t {
                next += 1;
            }
            if next == 0 {
                return samples[0].regions[region];
            }
            if next == samples.len() {
                return samples[next - 1].regions[region];
            }
            let (a, b) = (&samples[next - 1], &samples[next]);
            let f = (t - a.pts_us) as f64 / (b.pts_us - a.pts_us) as f64;
            let (ca, cb) = (a.regions[region], b.regions[region]);
            [0, 1, 2].map(|c| ca[c] + f * (cb[c] - ca[c]))
        })
        .collect()
}

/// POS (plane orthogonal to skin) on a uniformly sampled RGB trace, with stretches of
/// `stretch_s` seconds at `GRID_HZ`.
fn pos(trace: &[Rgb], stretch_s: f64) -> Vec<f64> {
    let n = trace.len();
    let len = ((stretch_s * GRID_HZ).round() as usize).clamp(2, n.max(2));
    let mut h = vec![0.0; n];
    if n < len {
        return h;
    }
    let (mut s1, mut s2) = (vec![0.0; len], vec![0.0; len]);
    for m in 0..=n - len {
        let part = &trace[m..m + len];
        let mean = [0, 1, 2].map(|c| part.iter().map(|p| p[c]).sum::<f64>() / len as f64);
        if mean.iter().any(|&v| v <= 0.0) {
            continue;
        }
        for (i, p) in part.iter().enumerate() {
            let [r, g, b] = [0, 1, 2].map(|c| p[c] / mean[c]);
            s1[i] = g - b;
            s2[i] = g + b - 2.0 * r;
        }
        let (sd1, sd2) = (std_dev(&s1), std_dev(&s2));
        let alpha = if sd2 > 0.0 { sd1 / sd2 } else { 0.0 };
        let stretch: Vec<f64> = s1.iter().zip(&s2).map(|(a, b)| a + alpha * b).collect();
        let mean_h = stretch.iter().sum::<f64>() / len as f64;
        for (out, v) in h[m..m + len].iter_mut().zip(&stretch) {
            *out += v - mean_h;
        }
    }
    h
}

fn std_dev(x: &[f64]) -> f64 {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// The series minus its least-squares line, so a slow drift across the window does not
/// leak into the band through the window's edges.
fn detrend(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let x_mean = x.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        let t = i as f64 - t_mean;
        sxy += t * (v - x_mean);
        sxx += t * t;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    x.iter()
        .enumerate()
        .map(|(i, v)| v - x_mean - slope * (i as f64 - t_mean))
        .collect()
}

/// Zero-lag correlation of two band-passed series from their DFT bins (Parseval),
/// counting only the bins `keep` selects; 0 when either has no power there.
fn correlation(a: &[(f64, f64)], b: &[(f64, f64)], keep: impl Fn(usize) -> bool) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (_, (x, y)) in a.iter().zip(b).enumerate().filter(|(k, _)| keep(*k)) {
        ab += x.0 * y.0 + x.1 * y.1;
        aa += x.0 * x.0 + x.1 * x.1;
        bb += y.0 * y.0 + y.1 * y.1;
    }
    if aa > 0.0 && bb > 0.0 {
        ab / (aa * bb).sqrt()
    } else {
        0.0
    }
}

/// DFT coefficients (re, im) of the bins in the band, lowest first.
type Bins = Vec<(f64, f64)>;

/// The band-pass and spectrum of windows of `n` grid samples.
struct Spectrum {
    n: usize,
    /// cos and sin of 2 pi m / n, m = 0..n.
    cos: Vec<f64>,
    sin: Vec<f64>,
    /// DFT bins inside the band.
    bins: std::ops::RangeInclusive<usize>,
    /// Frequencies of the fine spectrum, Hz, with Goertzel's 2 cos(omega).
    freqs: Vec<(f64, f64)>,
}

impl Spectrum {
    fn new(n: usize) -> Self {
        let turn = |m: usize| 2.0 * std::f64::consts::PI * m as f64 / n as f64;
        let bin_hz = GRID_HZ / n as f64;
        let steps = ((BAND_HZ.1 - BAND_HZ.0) / SPECTRUM_STEP_HZ).round() as usize;
        Self {
            n,
            cos: (0..n).map(|m| turn(m).cos()).collect(),
            sin: (0..n).map(|m| turn(m).sin()).collect(),
            bins: (BAND_HZ.0 / bin_hz).ceil() as usize..=(BAND_HZ.1 / bin_hz).floor() as usize,
            freqs: (0..=steps)
                .map(|i| {
                    let f = BAND_HZ.0 + i as f64 * SPECTRUM_STEP_HZ;
                    (f, 2.0 * (2.0 * std::f64::consts::PI * f / GRID_HZ).cos())
                })
                .collect(),
        }
    }

    /// Keeps only the DFT bins in the band (and their mirror images): the band-passed
    /// series and the bins' coefficients, lowest bin first.
    fn band_pass(&self, x: &[f64]) -> (Vec<f64>, Bins) {
        let n = self.n;
        let mut out = vec![0.0; n];
        let mut bins = Vec::new();
        for k in self.bins.clone() {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in x.iter().enumerate() {
                let m = k * i % n;
                re += v * self.cos[m];
                im -= v * self.sin[m];
            }
            for (i, o) in out.iter_mut().enumerate() {
                let m = k * i % n;
                *o += 2.0 / n as f64 * (re * self.cos[m] - im * self.sin[m]);
            }
            bins.push((re, im));
        }
        (out, bins)
    }

    /// Frequency of the `i`th band bin, Hz.
    fn bin_hz(&self, i: usize) -> f64 {
        (self.bins.start() + i) as f64 * GRID_HZ / self.n as f64
    }

    /// Strongest frequency in the band and its SNR, from the power on the fine grid
    /// (Goertzel's algorithm at each frequency).
    fn peak(&self, x: &[f64]) -> RegionPulse {
        let power: Vec<f64> = self
            .freqs
            .iter()
            .map(|&(_, coeff)| {
                let (mut s1, mut s2) = (0.0, 0.0);
                for v in x {
                    let s = v + coeff * s1 - s2;
                    s2 = s1;
                    s1 = s;
                }
                (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0)
            })
            .collect();
        let best = (0..power.len())
            .max_by(|&a, &b| power[a].total_cmp(&power[b]))
            .unwrap_or(0);
        let peak_hz = self.freqs[best].0;
        let near = |f: f64| {
            (f - peak_hz).abs() <= PEAK_HALF_WIDTH_HZ + 1e-9
                || (f - 2.0 * peak_hz).abs() <= PEAK_HALF_WIDTH_HZ + 1e-9
        };
        let (mut signal, mut noise) = (0.0, 0.0);
        for (&(f, _), p) in self.freqs.iter().zip(&power) {
            if near(f) {
                signal += p;
            } else {
                noise += p;
            }
        }
        let snr = if noise > 0.0 && signal > 0.0 {
            10.0 * (signal / noise).log10()
        } else if signal > 0.0 {
            SNR_RANGE_DB.1
        } else {
            SNR_RANGE_DB.0
        };
        RegionPulse {
            bpm: peak_hz * 60.0,
            snr: snr.clamp(SNR_RANGE_DB.0, SNR_RANGE_DB.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: a few lines of seeded noise for the synthetic traces.
    struct Noise(u64);

    impl Noise {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Roughly normal, unit variance (Irwin-Hall: the sum of 12 uniforms, less 6).
        fn normal(&mut self) -> f64 {
            (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
        }
    }

    const SKIN: Rgb = [150.0, 110.0, 90.0];
    /// The pulse's amplitude per channel, grey levels: strongest in green, as in skin.
    const PULSE: Rgb = [0.3, 0.5, 0.28];

    /// `seconds` of 15 fps frames with timestamps jittered by up to ±15 ms; each
    /// region carries a pulse at its own frequency (if any) and independent noise of
    /// 0.2 grey levels; `flicker` scales every channel of every region alike.
    fn frames(
        seconds: f64,
        fps: f64,
        pulse_hz: [Option<f64>; REGIONS],
        flicker: impl Fn(f64) -> f64,
        seed: u64,
    ) -> Vec<SkinSample> {
        let mut noise = Noise(seed);
        let count = (seconds * fps) as usize;
        (0..count)
            .map(|k| {
                let jitter = (noise.uniform() - 0.5) * 0.03;
                let t = k as f64 / fps + jitter;
                let regions = pulse_hz.map(|hz| {
                    let wave = hz.map_or(0.0, |f| (2.0 * std::f64::consts::PI * f * t).sin());
                    [0, 1, 2]
                        .map(|c| (SKIN[c] + PULSE[c] * wave) * flicker(t) + 0.2 * noise.normal())
                });
                SkinSample {
                    pts_us: (t * 1e6).round() as i64,
                    regions,
                }
            })
            .collect()
    }

    fn read(samples: &[SkinSample]) -> Option<PulseReading> {
        let mut meter = PulseMeter::new(PulseConfig::default());
        for s in samples {
            meter.push(*s);
        }
        meter.reading().copied()
    }

    const STEADY: fn(f64) -> f64 = |_| 1.0;

    #[test]
    fn a_pulse_in_every_region_reads_its_rate_coherently() {
        let pulse = read(&frames(12.0, 15.0, [Some(1.2); 3], STEADY, 1)).unwrap();
        let none = read(&frames(12.0, 15.0, [None; 3], STEADY, 1)).unwrap();
        assert!((pulse.bpm - 72.0).abs() <= 3.0, "{pulse:?}");
        for r in pulse.regions {
            assert!((r.bpm - 72.0).abs() <= 3.0, "{pulse:?}");
        }
        assert!(pulse.coherence > 0.8, "{pulse:?}");
        assert!(none.coherence < 0.5, "{none:?}");
        assert!(pulse.snr > none.snr + 6.0, "{pulse:?} {none:?}");
        assert!(none.snr < 0.0, "{none:?}");
    }

    #[test]
    fn noise_alone_reads_incoherent_under_many_seeds() {
        // The face's rate is where the averaged noise happens to peak, so the regions
        // correlate a little there by selection: noise reads up to about 0.4, a pulse
        // above 0.8.
        for seed in 2..12 {
            let none = read(&frames(10.0, 15.0, [None; 3], STEADY, seed)).unwrap();
            assert!(
                none.coherence < 0.5 && none.snr < 0.0,
                "seed {seed}: {none:?}"
            );
        }
    }

    #[test]
    fn regions_beating_at_different_rates_disagree() {
        let hz = [Some(1.0), Some(1.6), Some(2.3)];
        let r = read(&frames(12.0, 15.0, hz, STEADY, 3)).unwrap();
        let bpm = r.regions.map(|p| p.bpm);
        for (got, want) in bpm.iter().zip([60.0, 96.0, 138.0]) {
            assert!((got - want).abs() <= 3.0, "{r:?}");
        }
        assert!(r.coherence < 0.3, "{r:?}");
    }

    #[test]
    fn light_that_dims_every_channel_alike_cancels_out() {
        // A 1 % flicker at 0.9 Hz is three times the pulse's size in grey levels.
        let flicker = |t: f64| 1.0 + 0.01 * (2.0 * std::f64::consts::PI * 0.9 * t).sin();
        let r = read(&frames(12.0, 15.0, [Some(1.2); 3], flicker, 4)).unwrap();
        assert!((r.bpm - 72.0).abs() <= 3.0, "{r:?}");
        assert!(r.coherence > 0.8, "{r:?}");
    }

    #[test]
    fn too_few_samples_give_no_reading() {
        // 5 s of an 8 s window.
        assert_eq!(read(&frames(5.0, 15.0, [Some(1.2); 3], STEADY, 5)), None);
        // 10 samples a second.
        assert_eq!(read(&frames(12.0, 10.0, [Some(1.2); 3], STEADY, 5)), None);
        // A 3 s hole in the middle of the last window.
        let full = frames(12.0, 15.0, [Some(1.2); 3], STEADY, 5);
        let holed: Vec<SkinSample> = full
            .into_iter()
            .filter(|s| !(6_000_000..9_000_000).contains(&s.pts_us))
            .collect();
        assert_eq!(read(&holed), None);
        assert_eq!(read(&[]), None);
    }

    #[test]
    fn the_reading_is_recomputed_at_most_every_half_second() {
        let all = frames(12.0, 15.0, [Some(1.2); 3], STEADY, 6);
        let mut meter = PulseMeter::new(PulseConfig::default());
        let mut times = Vec::new();
        for s in all {
            meter.push(s);
            let at = meter.reading().map(|r| r.at_us);
            if at.is_some() && times.last() != Some(&at) {
                times.push(at);
            }
        }
        let times: Vec<i64> = times.into_iter().flatten().collect();
        assert!(times.len() >= 6, "{times:?}");
        assert!(
            times.windows(2).all(|w| w[1] - w[0] >= 500_000),
            "{times:?}"
        );
        meter.reset();
        assert_eq!(meter.reading(), None);
    }

    #[test]
    fn the_window_stays_within_six_to_ten_seconds() {
        let short = PulseConfig {
            window_us: 1_000_000,
            ..PulseConfig::default()
        };
        assert_eq!(PulseMeter::new(short).config.window_us, 6_000_000);
        let long = PulseConfig {
            window_us: 60_000_000,
            ..PulseConfig::default()
        };
        assert_eq!(PulseMeter::new(long).config.window_us, 10_000_000);
    }

    #[test]
    fn band_pass_keeps_the_pulse_and_drops_drift() {
        let n = 120;
        let s = Spectrum::new(n);
        let wave = |hz: f64| -> Vec<f64> {
            (0..n)
                .map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / GRID_HZ).sin())
                .collect()
        };
        // 1.25 Hz and 0.25 Hz fall on bins 10 and 2 of a 120-sample, 15 Hz window.
        let pulse = wave(1.25);
        let mixed: Vec<f64> = pulse
            .iter()
            .zip(wave(0.25))
            .map(|(a, b)| a + 3.0 * b)
            .collect();
        let (out, _) = s.band_pass(&mixed);
        assert!(out.iter().zip(&pulse).all(|(a, b)| (a - b).abs() < 1e-9));
        let peak = s.peak(&pulse);
        assert!((peak.bpm - 75.0).abs() < 1e-6, "{peak:?}");
    }

    #[test]
    fn pos_ignores_intensity_and_keeps_colour_change() {
        // All channels scaled alike: every normalised channel is equal, S1 = S2 = 0.
        let grey: Vec<Rgb> = (0..60)
            .map(|i| SKIN.map(|c| c * (1.0 + 0.05 * (i as f64 * 0.7).sin())))
            .collect();
        assert!(pos(&grey, POS_STRETCH_S).iter().all(|v| v.abs() < 1e-12));
        let green: Vec<Rgb> = (0..60)
            .map(|i| [SKIN[0], SKIN[1] + (i as f64 * 0.7).sin(), SKIN[2]])
            .collect();
        assert!(pos(&green, POS_STRETCH_S).iter().any(|v| v.abs() > 1e-3));
    }

    /// Cost per frame: `cargo test --release -p candor-core pulse -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_per_frame() {
        let all = frames(60.0, 15.0, [Some(1.2); 3], STEADY, 7);
        let mut meter = PulseMeter::new(PulseConfig::default());
        let start = std::time::Instant::now();
        for s in &all {
            meter.push(*s);
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / all.len() as f64;
        println!(
            "pulse meter: {us:.1} µs per frame over {} frames",
            all.len()
        );
        assert!(meter.reading().is_some());
    }
}
