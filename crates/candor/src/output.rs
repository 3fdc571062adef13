//! Human-readable table and JSON Lines output for `analyze`. The JSON schema is
//! documented in README.md ("JSON Lines output").

use std::io::Write;
use std::path::Path;

use candor_core::signal::names;
use candor_core::{RiskState, SegmentReport, Source};
use candor_pipeline::{FileOutcome, PipelineError};
use candor_server::scoring::{error_value, segment_value, summary_value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    JsonLines,
}

pub struct Printer<W: Write> {
    out: W,
    format: Format,
    models: Vec<Source>,
}

fn secs(us: i64) -> f64 {
    us as f64 / 1e6
}

fn stat(report: &SegmentReport, name: &str) -> Option<(f32, f32)> {
    report
        .segment
        .signal(name)
        .or_else(|| report.segment.quality_measure(name))
        .map(|s| (s.mean, s.min))
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, format: Format, models: Vec<Source>) -> Self {
        Self {
            out,
            format,
            models,
        }
    }

    pub fn begin_file(&mut self, file: &Path) -> std::io::Result<()> {
        if self.format == Format::Table {
            writeln!(self.out, "{}", file.display())?;
            writeln!(
                self.out,
                "  {:>3}  {:>13}  {:>15}  {:>8}  {:>11}  {:>5}  {:>5}  {:>6}  {:>6}  {:<12}  reason",
                "seg",
                "time (s)",
                "dec/anal/usable",
                "faces",
                "live (min)",
                "synth",
                "px",
                "light",
                "sharp",
                "state"
            )?;
        }
        Ok(())
    }

    pub fn segment(&mut self, file: &Path, r: &SegmentReport) -> std::io::Result<()> {
        match self.format {
            Format::JsonLines => writeln!(
                self.out,
                "{}",
                segment_value(file, r).map_err(std::io::Error::other)?
            ),
            Format::Table => {
                let s = &r.segment;
                let c = &s.counts;
                let live = stat(r, names::LIVENESS)
                    .map_or("-".to_string(), |(m, min)| format!("{m:.2} ({min:.2})"));
                let num = |name| stat(r, name).map_or("-".to_string(), |(m, _)| format!("{m:.0}"));
                let reason = r
                    .assessment
                    .reasons
                    .first()
                    .map_or("", |x| x.message.as_str());
                writeln!(
                    self.out,
                    "  {:>3}  {:>13}  {:>15}  {:>8}  {:>11}  {:>5}  {:>5}  {:>6}  {:>6}  {:<12}  {}",
                    s.index,
                    format!("{:.2}-{:.2}", secs(s.start_us), secs(s.end_us)),
                    format!("{}/{}/{}", c.decoded, c.analysed, c.usable),
                    format!("{}/{}/{}", c.one_face, c.no_face, c.several_faces),
                    live,
                    r.assessment
                        .synthetic_face_confidence
                        .map_or("-".to_string(), |v| format!("{v:.2}")),
                    num(names::FACE_WIDTH_PX),
                    num(names::BRIGHTNESS),
                    num(names::SHARPNESS),
                    r.assessment.state.as_str(),
                    reason
                )
            }
        }
    }

    pub fn summary(&mut self, file: &Path, o: &FileOutcome) -> std::io::Result<()> {
        let s = &o.summary;
        match self.format {
            Format::JsonLines => {
                let v = summary_value(file, o, &self.models).map_err(std::io::Error::other)?;
                writeln!(self.out, "{v}")
            }
            Format::Table => {
                let shares: Vec<String> = RiskState::ALL
                    .iter()
                    .filter(|st| s.time_share[st] > 0.0)
                    .map(|st| format!("{} {:.0}%", st, 100.0 * s.time_share[st]))
                    .collect();
                writeln!(
                    self.out,
                    "  summary: {} ({}), {} segments, {:.2} s, {} {}x{}; frames decoded {}, analysed {}, one face {}, no face {}, several faces {}",
                    s.worst_state.as_str().to_uppercase(),
                    shares.join(", "),
                    s.segments,
                    secs(s.duration_us),
                    o.stream.codec,
                    o.stream.width,
                    o.stream.height,
                    s.counts.decoded,
                    s.counts.analysed,
                    s.counts.one_face,
                    s.counts.no_face,
                    s.counts.several_faces,
                )?;
                if let Some(l) = s.mean_liveness {
                    writeln!(self.out, "  mean live score: {l:.3}")?;
                }
                if let Some(b) = s.blinks {
                    writeln!(self.out, "  blinks counted: {b}")?;
                }
                for t in &s.reasons {
                    writeln!(
                        self.out,
                        "  - [{}] {} x{} ({:.0}% of the time): {}",
                        t.state,
                        t.code,
                        t.segments,
                        t.time_share * 100.0,
                        t.example
                    )?;
                }
                if let Some(w) = &o.warning {
                    writeln!(self.out, "  warning: {w}")?;
                }
                let models: Vec<String> = self
                    .models
                    .iter()
                    .map(|m| format!("{} {}", m.name, m.version))
                    .collect();
                writeln!(self.out, "  models: {}", models.join(", "))?;
                writeln!(self.out)
            }
        }
    }

    pub fn error(&mut self, file: &Path, e: &PipelineError) -> std::io::Result<()> {
        match self.format {
            Format::JsonLines => {
                writeln!(self.out, "{}", error_value(file, &e.to_string()))
            }
            Format::Table => {
                writeln!(self.out, "  error: {e}")?;
                writeln!(self.out)
            }
        }?;
        // Errors also go to stderr, so a script reading stdout still sees them.
        eprintln!("candor: {}: {e}", file.display());
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
