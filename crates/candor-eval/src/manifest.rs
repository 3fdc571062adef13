//! Labelled evaluation manifests: tab-separated text, one media file per line.
//!
//! ```text
//! # file<TAB>label<TAB>kind
//! image_F1.jpg<TAB>spoof<TAB>print
//! image_T1.jpg<TAB>real<TAB>live
//! ```
//!
//! - The first non-blank line is the header (a leading `#` is allowed). It names the
//!   columns; `file` and `label` are required, `kind` is optional, any other column is
//!   ignored. Column names are case-insensitive.
//! - After the header, blank lines and lines starting with `#` are skipped.
//! - `label` is `real` (bona fide), `fake` (deepfake: face swap, generated or reenacted
//!   face) or `spoof` (presentation attack: print, screen, replay, mask).
//! - `kind` is free text: the attack species (`print`, `face_swap`, ...) for attacks,
//!   the source family for real files. Empty means unknown.
//! - `group` (optional) names files that must stay on one side of a cross-validation
//!   split, e.g. a face swap and the real clip it was made from. Empty: the file is its
//!   own group.
//! - `file` is relative to a media folder (absolute paths are kept as they are). A file
//!   may be listed once only.
//!
//! Every error names the line it is about.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Ground truth of one presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Bona fide: a live, real person in front of the camera.
    Real,
    /// Deepfake: face swap, generated talking head, reenactment.
    Fake,
    /// Presentation attack: printed photo, screen, replayed video, mask.
    Spoof,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Real, Label::Fake, Label::Spoof];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Real => "real",
            Self::Fake => "fake",
            Self::Spoof => "spoof",
        }
    }

    pub fn is_attack(self) -> bool {
        self != Self::Real
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "real" => Some(Self::Real),
            "fake" => Some(Self::Fake),
            "spoof" => Some(Self::Spoof),
            _ => None,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based line number in the manifest.
    pub line: usize,
    /// The path as written in the manifest.
    pub file: String,
    pub label: Label,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Entry {
    /// The cross-validation group: the `group` column, else the file itself.
    pub fn group_name(&self) -> &str {
        self.group.as_deref().unwrap_or(&self.file)
    }

    /// The path of the file under `media_dir`.
    pub fn path(&self, media_dir: &Path) -> PathBuf {
        media_dir.join(&self.file)
    }

    /// The kind, or `-` when none was given.
    pub fn kind_or_dash(&self) -> &str {
        self.kind.as_deref().unwrap_or("-")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("manifest is empty: it needs a header line naming the columns file and label")]
    Empty,
    #[error("line {line}: header has no column \"{column}\" (columns found: {found})")]
    MissingColumn {
        line: usize,
        column: &'static str,
        found: String,
    },
    #[error("line {line}: header names column \"{column}\" twice")]
    DuplicateColumn { line: usize, column: String },
    #[error("line {line}: no value in column \"{column}\"")]
    MissingValue { line: usize, column: &'static str },
    #[error("line {line}: unknown label \"{label}\" (expected real, fake or spoof)")]
    UnknownLabel { line: usize, label: String },
    #[error("line {line}: file \"{file}\" is already listed on line {first}")]
    DuplicateFile {
        line: usize,
        file: String,
        first: usize,
    },
    #[error("line {line}: file not found: {path}")]
    FileNotFound { line: usize, path: String },
    #[error("no files listed after the header")]
    NoEntries,
}

impl ManifestError {
    /// The line the error is about, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::MissingColumn { line, .. }
            | Self::DuplicateColumn { line, .. }
            | Self::MissingValue { line, .. }
            | Self::UnknownLabel { line, .. }
            | Self::DuplicateFile { line, .. }
            | Self::FileNotFound { line, .. } => Some(*line),
            Self::Read { .. } | Self::Empty | Self::NoEntries => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub entries: Vec<Entry>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
        let (header_line, header) = lines
            .by_ref()
            .find(|(_, l)| !l.trim().is_empty())
            .ok_or(ManifestError::Empty)?;
        let names: Vec<String> = header
            .trim_start()
            .trim_start_matches('#')
            .split('\t')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() && names[..i].contains(n) {
                return Err(ManifestError::DuplicateColumn {
                    line: header_line,
                    column: n.clone(),
                });
            }
        }
        let col = |name: &'static str| names.iter().position(|n| n == name);
        let missing = |column| ManifestError::MissingColumn {
            line: header_line,
            column,
            found: names
                .iter()
                .filter(|n| !n.is_empty())
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let file_col = col("file").ok_or_else(|| missing("file"))?;
        let label_col = col("label").ok_or_else(|| missing("label"))?;
        let kind_col = col("kind");
        let group_col = col("group");

        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (line, text) in lines {
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = text.split('\t').map(str::trim).collect();
            let get = |i: usize| fields.get(i).copied().filter(|v| !v.is_empty());
            let file = get(file_col).ok_or(ManifestError::MissingValue {
                line,
                column: "file",
            })?;
            let label_text = get(label_col).ok_or(ManifestError::MissingValue {
                line,
                column: "label",
            })?;
            let label = Label::parse(label_text).ok_or_else(|| ManifestError::UnknownLabel {
                line,
                label: label_text.to_owned(),
            })?;
            if let Some(&first) = seen.get(file) {
                return Err(ManifestError::DuplicateFile {
                    line,
                    file: file.to_owned(),
                    first,
                });
            }
            seen.insert(file.to_owned(), line);
            entries.push(Entry {
                line,
                file: file.to_owned(),
                label,
                kind: kind_col.and_then(get).map(str::to_owned),
                group: group_col.and_then(get).map(str::to_owned),
            });
        }
        if entries.is_empty() {
            return Err(ManifestError::NoEntries);
        }
        Ok(Self { entries })
    }

    /// Checks that every listed file exists under `media_dir`; the first missing one is
    /// the error. Run it before any analysis starts.
    pub fn check_files(&self, media_dir: &Path) -> Result<(), ManifestError> {
        for e in &self.entries {
            let path = e.path(media_dir);
            if !path.is_file() {
                return Err(ManifestError::FileNotFound {
                    line: e.line,
                    path: path.display().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Files per label.
    pub fn count(&self, label: Label) -> usize {
        self.entries.iter().filter(|e| e.label == label).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_comments_and_extra_columns() {
        let text = "\n# file\tlabel\tkind\tnote\n\
                    a.jpg\tspoof\tprint\tA4 paper\n\
                    \n\
                    # a comment\n\
                    b.mp4\treal\t\n\
                    c.mp4\tFake\tface_swap\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.entries.len(), 3);
        assert_eq!(
            m.entries[0],
            Entry {
                line: 3,
                file: "a.jpg".into(),
                label: Label::Spoof,
                kind: Some("print".into()),
                group: None,
            }
        );
        assert_eq!(m.entries[1].kind, None);
        assert_eq!(m.entries[1].line, 6);
        assert_eq!(m.entries[1].group_name(), m.entries[1].file);
        let grouped = Manifest::parse("file\tlabel\tgroup\na_fake.mp4\tfake\tpair-a\n").unwrap();
        assert_eq!(grouped.entries[0].group_name(), "pair-a");
        assert_eq!(m.entries[2].label, Label::Fake);
        assert_eq!(m.count(Label::Real), 1);
    }

    #[test]
    fn columns_in_any_order_kind_optional() {
        let m = Manifest::parse("label\tfile\nreal\tx.mp4\r\n").unwrap();
        assert_eq!(m.entries[0].file, "x.mp4");
        assert_eq!(m.entries[0].kind, None);
    }

    #[test]
    fn unknown_label_names_line_and_label() {
        let text = "file\tlabel\n# c\na\treal\n\nb\tx\n";
        let e = Manifest::parse(text).unwrap_err();
        assert_eq!(e.line(), Some(5));
        assert_eq!(
            e.to_string(),
            "line 5: unknown label \"x\" (expected real, fake or spoof)"
        );
    }

    #[test]
    fn missing_column_and_value() {
        let e = Manifest::parse("file\tkind\na\tprint\n").unwrap_err();
        assert_eq!(e.line(), Some(1));
        assert!(e.to_string().contains("no column \"label\""), "{e}");
        let e = Manifest::parse("file\tlabel\na\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: no value in column \"label\"", "{e}");
        assert!(matches!(
            Manifest::parse("\n\n").unwrap_err(),
            ManifestError::Empty
        ));
        assert!(matches!(
            Manifest::parse("file\tlabel\n# nothing\n").unwrap_err(),
            ManifestError::NoEntries
        ));
    }

    #[test]
    fn duplicate_file_is_rejected() {
        let e = Manifest::parse("file\tlabel\na\treal\nb\treal\na\tfake\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4: file \"a\" is already listed on line 2"
        );
    }

    #[test]
    fn missing_file_names_line() {
        let dir = std::env::temp_dir().join(format!("candor-eval-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("here.jpg"), b"x").unwrap();
        let m = Manifest::parse("file\tlabel\nhere.jpg\treal\n\ngone.jpg\tspoof\n").unwrap();
        let e = m.check_files(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(e.line(), Some(4));
        assert!(e.to_string().starts_with("line 4: file not found: "), "{e}");
        assert!(e.to_string().ends_with("gone.jpg"), "{e}");
    }
}
