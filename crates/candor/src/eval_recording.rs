//! What `candor eval --save-segments` writes and `--segments` reads back: every file's
//! segments as the models measured them, before any judgement. Judging them again
//! under other thresholds, or refitting the fusion, then takes seconds instead of a run
//! of the models over every file. One JSON line per file, after a header line naming
//! the models and the sampling that measured them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use candor_core::Segment;
use serde::{Deserialize, Serialize};

/// The header line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordingHeader {
    pub candor_segments: u32,
    pub models: String,
    pub sampling: String,
}

/// One file's line: its segments, or why it could not be analysed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedFile {
    /// The path as written in the manifest.
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub segments: Vec<Segment>,
}

const VERSION: u32 = 1;

pub struct RecordingWriter {
    out: BufWriter<std::fs::File>,
}

impl RecordingWriter {
    pub fn create(path: &Path, models: &str, sampling: &str) -> Result<Self> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = Self {
            out: BufWriter::new(file),
        };
        w.line(&RecordingHeader {
            candor_segments: VERSION,
            models: models.to_owned(),
            sampling: sampling.to_owned(),
        })?;
        Ok(w)
    }

    pub fn add(&mut self, file: &RecordedFile) -> Result<()> {
        self.line(file)
    }

    fn line(&mut self, value: &impl Serialize) -> Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        // Each file as it is done: an interrupted run keeps what it measured.
        self.out.flush()?;
        Ok(())
    }
}

pub struct Recording {
    pub header: RecordingHeader,
    files: HashMap<String, RecordedFile>,
}

impl Recording {
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display();
        let reader = BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {shown}"))?,
        );
        let mut lines = reader.lines();
        let first = lines
            .next()
            .with_context(|| format!("{shown} is empty"))?
            .with_context(|| format!("cannot read {shown}"))?;
        let header: RecordingHeader = serde_json::from_str(&first).with_context(|| {
            format!(
                "{shown}: line 1 is not a segment recording's header (written by --save-segments)"
            )
        })?;
        if header.candor_segments != VERSION {
            bail!(
                "{shown}: recording format {} (this build reads {VERSION}); record it again",
                header.candor_segments
            );
        }
        let mut files = HashMap::new();
        for (i, line) in lines.enumerate() {
            let line = line.with_context(|| format!("cannot read {shown}"))?;
            let f: RecordedFile = serde_json::from_str(&line)
                .with_context(|| format!("{shown}: line {} is not a recorded file", i + 2))?;
            files.insert(f.file.clone(), f);
        }
        Ok(Self { header, files })
    }

    /// The recorded file written as `file` in the manifest.
    pub fn file(&self, file: &str) -> Result<&RecordedFile> {
        self.files.get(file).with_context(|| {
            format!(
                "{file} is not in the segment recording: record this manifest with \
                 --save-segments"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let seg = Segment {
            index: 0,
            start_us: 0,
            end_us: 2_000_000,
            counts: candor_core::FrameCounts {
                decoded: 50,
                analysed: 4,
                usable: 4,
                ..Default::default()
            },
            main_track: Some(1),
            other_tracks: 0,
            signals: Vec::new(),
            quality: Vec::new(),
            unusable: Default::default(),
        };
        let mut w = RecordingWriter::create(&path, "m 1", "2 fps").unwrap();
        w.add(&RecordedFile {
            file: "a.mp4".into(),
            error: None,
            warning: None,
            segments: vec![seg.clone()],
        })
        .unwrap();
        drop(w);
        let r = Recording::load(&path).unwrap();
        assert_eq!(r.header.models, "m 1");
        assert_eq!(r.file("a.mp4").unwrap().segments, vec![seg]);
        let err = r.file("b.mp4").unwrap_err().to_string();
        assert!(
            err.contains("b.mp4") && err.contains("--save-segments"),
            "{err}"
        );
    }
}
