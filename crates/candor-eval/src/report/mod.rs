//! The evaluation result: what `candor eval` writes to `eval.json` and prints as a
//! table.
//!
//! Units: a *file* (one manifest line) is one presentation. Scores are per file (see
//! [`crate::aggregate`]); APCER/BPCER classify a file as an attack when its worst
//! segment state reaches the threshold state (`alert`, or `suspicious` or worse); the
//! false-alert rate counts real *segments*. Files that failed to decode are listed and
//! counted but take no part in any metric.
//!
//! This module computes the report; the `render` submodule prints it.

use std::collections::BTreeMap;

use candor_core::{RiskState, SegmentReport};
use serde::{Deserialize, Serialize};

use crate::aggregate::{FileAggregate, Orientation, ScoreSpec, score_specs};
use crate::manifest::{Entry, Label};
pub use crate::metrics::RocCurve;
use crate::metrics::{
    Ci, Confusion, PadErrors, Rate, RocPoint, auc, bootstrap_auc_ci, pad_errors, quantile,
    roc_curve,
};

mod render;

/// How the numbers are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// Bootstrap resamples per confidence interval (0: no intervals).
    pub bootstrap: usize,
    /// Seed of the resampling PRNG.
    pub seed: u64,
    /// Confidence level of the intervals.
    pub ci_level: f64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            bootstrap: 1000,
            seed: 42,
            ci_level: 0.95,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Ok,
    Failed,
}

/// One segment, briefly: for `per_file.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentBrief {
    pub index: u32,
    pub start_us: i64,
    pub end_us: i64,
    pub state: RiskState,
    /// The codes of the reasons for a state other than clear, most severe first: why
    /// a real segment alerted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_score: Option<f32>,
    /// Segment mean of every signal.
    pub signals: BTreeMap<String, f32>,
}

/// One manifest entry and what analysis made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEval {
    /// Manifest line.
    pub line: usize,
    /// The path as written in the manifest.
    pub file: String,
    /// The path that was analysed.
    pub path: String,
    pub label: Label,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set when the input broke off part-way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<FileAggregate>,
    /// Per-segment states and signal means (left out of `eval.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentBrief>,
}

impl FileEval {
    pub fn analysed(
        entry: &Entry,
        path: String,
        reports: &[SegmentReport],
        warning: Option<String>,
    ) -> Self {
        Self {
            line: entry.line,
            file: entry.file.clone(),
            path,
            label: entry.label,
            kind: entry.kind.clone(),
            status: FileStatus::Ok,
            error: None,
            warning,
            aggregate: Some(FileAggregate::from_reports(reports)),
            segments: reports
                .iter()
                .map(|r| SegmentBrief {
                    index: r.segment.index,
                    start_us: r.segment.start_us,
                    end_us: r.segment.end_us,
                    state: r.assessment.state,
                    reasons: r
                        .assessment
                        .reasons
                        .iter()
                        .filter(|x| x.state != RiskState::Clear)
                        .map(|x| x.code.clone())
                        .collect(),
                    attack_score: r.assessment.attack_score,
                    signals: r
                        .segment
                        .signals
                        .iter()
                        .map(|s| (s.name.clone(), s.mean))
                        .collect(),
                })
                .collect(),
        }
    }

    pub fn failed(entry: &Entry, path: String, error: String) -> Self {
        Self {
            line: entry.line,
            file: entry.file.clone(),
            path,
            label: entry.label,
            kind: entry.kind.clone(),
            status: FileStatus::Failed,
            error: Some(error),
            warning: None,
            aggregate: None,
            segments: Vec::new(),
        }
    }

    /// The aggregate of a file that was analysed and produced at least one segment.
    fn usable(&self) -> Option<&FileAggregate> {
        self.aggregate.as_ref().filter(|a| a.worst_state.is_some())
    }
}

/// Which classes are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    FakeVsReal,
    SpoofVsReal,
    AnyAttackVsReal,
}

impl Comparison {
    pub const ALL: [Comparison; 3] = [
        Comparison::FakeVsReal,
        Comparison::SpoofVsReal,
        Comparison::AnyAttackVsReal,
    ];

    fn includes(self, label: Label) -> bool {
        match self {
            Self::FakeVsReal => label == Label::Fake,
            Self::SpoofVsReal => label == Label::Spoof,
            Self::AnyAttackVsReal => label.is_attack(),
        }
    }
}

/// AUC of one score for one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AucResult {
    /// Attack files with a value for the score.
    pub n_attack: usize,
    /// Real files with a value for the score.
    pub n_real: usize,
    /// `None` when either class is empty.
    pub auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<Ci>,
}

impl AucResult {
    fn compute(attack: &[f64], real: &[f64], opts: &EvalOptions) -> Self {
        Self {
            n_attack: attack.len(),
            n_real: real.len(),
            auc: auc(attack, real),
            ci: bootstrap_auc_ci(attack, real, opts.bootstrap, opts.seed, opts.ci_level),
        }
    }
}

/// One score over every comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreEval {
    #[serde(flatten)]
    pub spec: ScoreSpec,
    pub auc: BTreeMap<Comparison, AucResult>,
}

/// APCER/BPCER with files classified as attack from `attack_from` upwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PadAt {
    /// A file counts as an attack when its worst segment state is this or worse.
    pub attack_from: RiskState,
    #[serde(flatten)]
    pub errors: PadErrors,
}

/// One (label, kind) group of files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindRow {
    pub label: Label,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub files: usize,
    pub failed: usize,
    pub segments: u64,
    /// Analysed files whose worst state is `alert`.
    pub files_alert: usize,
    /// Analysed files whose worst state is `suspicious` or `alert`.
    pub files_suspicious_or_worse: usize,
    /// Segments per state.
    pub segment_states: BTreeMap<RiskState, u64>,
    /// For attack kinds: AUC of every score, this kind against every real file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auc_vs_real: BTreeMap<String, AucResult>,
}

/// How often real footage is flagged, per segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FalseAlerts {
    /// Real segments in `alert`, out of all real segments.
    pub alert: Rate,
    /// Real segments in `suspicious` or `alert`.
    pub suspicious_or_worse: Rate,
    /// Real segments in `alert`, by the code of their first reason: what to fix first.
    #[serde(default)]
    pub alert_by_reason: BTreeMap<String, usize>,
    /// Real segments in `suspicious`, by the code of their first reason.
    #[serde(default)]
    pub suspicious_by_reason: BTreeMap<String, usize>,
}

impl FalseAlerts {
    /// Real segments of `files` in `state`, by their first reason's code.
    fn by_reason(files: &[FileEval], state: RiskState) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        let real = files.iter().filter(|f| f.label == Label::Real);
        for s in real.flat_map(|f| &f.segments).filter(|s| s.state == state) {
            let code = s.reasons.first().map_or("(none)", String::as_str);
            *out.entry(code.to_owned()).or_insert(0) += 1;
        }
        out
    }
}

/// How soon attack files of one label reach `alert`: from the file's first frame to
/// the end of its first `alert` segment (when a live badge could first show it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeToAlert {
    pub label: Label,
    /// Analysed files of the label.
    pub files: usize,
    /// Those with at least one `alert` segment.
    pub alerted: usize,
    /// Over the files that alerted, in seconds.
    pub median_s: Option<f64>,
    pub max_s: Option<f64>,
}

impl TimeToAlert {
    fn of(label: Label, files: &[FileEval]) -> Self {
        let analysed: Vec<&FileEval> = files
            .iter()
            .filter(|f| f.label == label && f.status == FileStatus::Ok)
            .collect();
        let mut times: Vec<f64> = analysed
            .iter()
            .filter_map(|f| {
                let first = f.segments.first()?.start_us;
                let alert = f.segments.iter().find(|s| s.state == RiskState::Alert)?;
                Some((alert.end_us - first) as f64 / 1e6)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        Self {
            label,
            files: analysed.len(),
            alerted: times.len(),
            median_s: (!times.is_empty()).then(|| quantile(&times, 0.5)),
            max_s: times.last().copied(),
        }
    }
}

/// Files per label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelCounts {
    pub files: usize,
    pub analysed: usize,
    pub failed: usize,
    pub segments: u64,
}

/// Everything `candor eval` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Provenance set by the caller: manifest, media folder, models, thresholds.
    pub meta: BTreeMap<String, serde_json::Value>,
    pub options: EvalOptions,
    pub files_total: usize,
    pub files_analysed: usize,
    pub files_failed: usize,
    pub labels: BTreeMap<Label, LabelCounts>,
    /// Per-file scores, ROC AUC with bootstrap CI, per comparison.
    pub scores: Vec<ScoreEval>,
    /// APCER/BPCER at `alert`, and at `suspicious` or worse.
    pub pad: Vec<PadAt>,
    /// Files by label and worst state.
    pub confusion_files: Confusion,
    /// Segments by label and state.
    pub confusion_segments: Confusion,
    pub by_kind: Vec<KindRow>,
    /// False-alert rate on real clips, per segment.
    pub false_alerts: FalseAlerts,
    /// Time to the first `alert`, per attack label.
    pub time_to_alert: Vec<TimeToAlert>,
    /// ROC curves, any attack vs real.
    pub roc: Vec<RocCurve>,
    /// Every file (segments left out; they are in `per_file.jsonl`).
    pub files: Vec<FileEval>,
}

impl EvalReport {
    pub fn build(files: &[FileEval], opts: &EvalOptions) -> Self {
        let usable: Vec<(&FileEval, &FileAggregate)> = files
            .iter()
            .filter_map(|f| f.usable().map(|a| (f, a)))
            .collect();
        let specs = score_specs(usable.iter().map(|(_, a)| *a));

        let values = |spec: &ScoreSpec, pick: &dyn Fn(&FileEval) -> bool| -> Vec<f64> {
            usable
                .iter()
                .filter(|(f, _)| pick(f))
                .filter_map(|(_, a)| spec.attack_score(a))
                .collect()
        };
        let scores: Vec<ScoreEval> = specs
            .iter()
            .map(|spec| {
                let real = values(spec, &|f| f.label == Label::Real);
                let auc = Comparison::ALL
                    .into_iter()
                    .map(|c| {
                        let attack = values(spec, &|f| c.includes(f.label));
                        (c, AucResult::compute(&attack, &real, opts))
                    })
                    .collect();
                ScoreEval {
                    spec: spec.clone(),
                    auc,
                }
            })
            .collect();

        let roc = specs
            .iter()
            .map(|spec| {
                let real = values(spec, &|f| f.label == Label::Real);
                let attack = values(spec, &|f| f.label.is_attack());
                let points = roc_curve(&attack, &real)
                    .into_iter()
                    .map(|p| RocPoint {
                        threshold: p.threshold.map(|t| spec.orientation.orient(t)),
                        ..p
                    })
                    .collect();
                RocCurve {
                    score: spec.name.clone(),
                    orientation: spec.orientation,
                    attack_if: if spec.orientation == Orientation::LowerIsAttack {
                        "<=".into()
                    } else {
                        ">=".into()
                    },
                    auc: auc(&attack, &real),
                    points,
                }
            })
            .collect();

        let pad = [RiskState::Alert, RiskState::Suspicious]
            .into_iter()
            .map(|from| PadAt {
                attack_from: from,
                errors: pad_errors(usable.iter().map(|(f, a)| {
                    (
                        f.label,
                        f.kind.as_deref(),
                        a.worst_state.is_some_and(|w| w >= from),
                    )
                })),
            })
            .collect();

        let mut confusion_files = Confusion::default();
        let mut confusion_segments = Confusion::default();
        let mut labels: BTreeMap<Label, LabelCounts> = Label::ALL
            .into_iter()
            .map(|l| (l, Default::default()))
            .collect();
        for f in files {
            let c = labels.entry(f.label).or_default();
            c.files += 1;
            match &f.aggregate {
                Some(a) if f.status == FileStatus::Ok => {
                    c.analysed += 1;
                    c.segments += u64::from(a.segments);
                    if let Some(w) = a.worst_state {
                        confusion_files.add(f.label, w, 1);
                    }
                    for (s, n) in &a.state_segments {
                        confusion_segments.add(f.label, *s, u64::from(*n));
                    }
                }
                _ => c.failed += 1,
            }
        }

        let real_segments = confusion_segments.row_total(Label::Real) as usize;
        let real_at_least = |from: RiskState| {
            RiskState::ALL
                .into_iter()
                .filter(|s| *s >= from)
                .map(|s| confusion_segments.get(Label::Real, s))
                .sum::<u64>() as usize
        };
        let false_alerts = FalseAlerts {
            alert: Rate::new(real_at_least(RiskState::Alert), real_segments),
            suspicious_or_worse: Rate::new(real_at_least(RiskState::Suspicious), real_segments),
            alert_by_reason: FalseAlerts::by_reason(files, RiskState::Alert),
            suspicious_by_reason: FalseAlerts::by_reason(files, RiskState::Suspicious),
        };

        let by_kind = kind_rows(files, &usable, &specs, opts);
        let files_failed = files
            .iter()
            .filter(|f| f.status == FileStatus::Failed)
            .count();
        Self {
            meta: BTreeMap::new(),
            options: opts.clone(),
            files_total: files.len(),
            files_analysed: files.len() - files_failed,
            files_failed,
            labels,
            scores,
            pad,
            confusion_files,
            confusion_segments,
            by_kind,
            false_alerts,
            time_to_alert: Label::ALL
                .into_iter()
                .filter(|l| l.is_attack())
                .map(|l| TimeToAlert::of(l, files))
                .collect(),
            roc,
            files: files
                .iter()
                .map(|f| FileEval {
                    segments: Vec::new(),
                    ..f.clone()
                })
                .collect(),
        }
    }
}

fn kind_rows(
    files: &[FileEval],
    usable: &[(&FileEval, &FileAggregate)],
    specs: &[ScoreSpec],
    opts: &EvalOptions,
) -> Vec<KindRow> {
    let mut groups: BTreeMap<(Label, Option<String>), KindRow> = BTreeMap::new();
    for f in files {
        let row = groups
            .entry((f.label, f.kind.clone()))
            .or_insert_with(|| KindRow {
                label: f.label,
                kind: f.kind.clone(),
                files: 0,
                failed: 0,
                segments: 0,
                files_alert: 0,
                files_suspicious_or_worse: 0,
                segment_states: RiskState::ALL.into_iter().map(|s| (s, 0)).collect(),
                auc_vs_real: BTreeMap::new(),
            });
        row.files += 1;
        match (&f.aggregate, f.status) {
            (Some(a), FileStatus::Ok) => {
                row.segments += u64::from(a.segments);
                for (s, n) in &a.state_segments {
                    *row.segment_states.entry(*s).or_default() += u64::from(*n);
                }
                if a.worst_state == Some(RiskState::Alert) {
                    row.files_alert += 1;
                }
                if a.worst_state.is_some_and(|w| w >= RiskState::Suspicious) {
                    row.files_suspicious_or_worse += 1;
                }
            }
            _ => row.failed += 1,
        }
    }
    for ((label, kind), row) in groups.iter_mut() {
        if !label.is_attack() {
            continue;
        }
        for spec in specs {
            let pick = |want_kind: bool| -> Vec<f64> {
                usable
                    .iter()
                    .filter(|(f, _)| {
                        if want_kind {
                            f.label == *label && f.kind == *kind
                        } else {
                            f.label == Label::Real
                        }
                    })
                    .filter_map(|(_, a)| spec.attack_score(a))
                    .collect()
            };
            row.auc_vs_real.insert(
                spec.name.clone(),
                AucResult::compute(&pick(true), &pick(false), opts),
            );
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::seg;
    use candor_core::RiskState::{Alert, Clear, Inconclusive, Suspicious};

    fn entry(line: usize, file: &str, label: Label, kind: Option<&str>) -> Entry {
        Entry {
            line,
            file: file.into(),
            label,
            kind: kind.map(str::to_owned),
            group: None,
        }
    }

    fn ok(line: usize, label: Label, kind: &str, segs: &[(RiskState, f32)]) -> FileEval {
        let reports: Vec<SegmentReport> = segs
            .iter()
            .enumerate()
            .map(|(i, (st, live))| seg(i as u32, *st, &[("liveness", *live)]))
            .collect();
        let e = entry(line, &format!("f{line}.mp4"), label, Some(kind));
        FileEval::analysed(&e, format!("/media/f{line}.mp4"), &reports, None)
    }

    fn sample() -> Vec<FileEval> {
        vec![
            ok(2, Label::Real, "grid", &[(Clear, 0.95), (Clear, 0.9)]),
            ok(3, Label::Real, "grid", &[(Clear, 0.9), (Suspicious, 0.55)]),
            ok(4, Label::Real, "hdtf", &[(Inconclusive, 0.8)]),
            ok(5, Label::Spoof, "print", &[(Alert, 0.2)]),
            ok(6, Label::Spoof, "screen", &[(Alert, 0.01)]),
            ok(7, Label::Fake, "face_swap", &[(Clear, 0.97), (Clear, 0.92)]),
            ok(
                8,
                Label::Fake,
                "talking_head_generation",
                &[(Suspicious, 0.58)],
            ),
            FileEval::failed(
                &entry(9, "bad.mp4", Label::Fake, Some("face_swap")),
                "/media/bad.mp4".into(),
                "input is truncated".into(),
            ),
        ]
    }

    fn score<'a>(r: &'a EvalReport, name: &str) -> &'a ScoreEval {
        r.scores.iter().find(|s| s.spec.name == name).unwrap()
    }

    #[test]
    fn time_to_alert_runs_from_the_first_frame_to_the_end_of_the_first_alert_segment() {
        let files = vec![
            ok(2, Label::Spoof, "print", &[(Alert, 0.2)]),
            ok(
                3,
                Label::Spoof,
                "screen",
                &[(Clear, 0.9), (Suspicious, 0.5), (Alert, 0.1)],
            ),
            ok(4, Label::Spoof, "screen", &[(Clear, 0.9), (Clear, 0.9)]),
            ok(5, Label::Fake, "face_swap", &[(Clear, 0.9)]),
        ];
        let r = EvalReport::build(&files, &EvalOptions::default());
        let spoof = r
            .time_to_alert
            .iter()
            .find(|t| t.label == Label::Spoof)
            .unwrap();
        assert_eq!((spoof.files, spoof.alerted), (3, 2));
        assert_eq!((spoof.median_s, spoof.max_s), (Some(4.0), Some(6.0)));
        let fake = r
            .time_to_alert
            .iter()
            .find(|t| t.label == Label::Fake)
            .unwrap();
        assert_eq!((fake.files, fake.alerted, fake.median_s), (1, 0, None));
        assert!(
            r.render_table()
                .contains("spoof 2 of 3 files, median 4.0 s, max 6.0 s")
        );
    }

    #[test]
    fn false_alerts_are_counted_by_their_first_reason() {
        let mut files = sample();
        files[1].segments[1].reasons = vec!["liveness_low".into(), "several_faces".into()];
        files.push(ok(10, Label::Real, "grid", &[(Alert, 0.9), (Alert, 0.9)]));
        files.last_mut().unwrap().segments[0].reasons = vec!["identity_changed".into()];
        let r = EvalReport::build(&files, &EvalOptions::default());
        let fa = &r.false_alerts;
        let counts = |m: &BTreeMap<String, usize>| -> Vec<(String, usize)> {
            m.iter().map(|(k, v)| (k.clone(), *v)).collect()
        };
        assert_eq!(
            counts(&fa.alert_by_reason),
            [
                ("(none)".to_string(), 1),
                ("identity_changed".to_string(), 1)
            ]
        );
        assert_eq!(
            counts(&fa.suspicious_by_reason),
            [("liveness_low".to_string(), 1)]
        );
        assert!(
            r.render_table()
                .contains("alert by first reason: (none) 1, identity_changed 1"),
            "{}",
            r.render_table()
        );
    }

    #[test]
    fn builds_metrics_from_files() {
        let r = EvalReport::build(&sample(), &EvalOptions::default());
        assert_eq!((r.files_total, r.files_analysed, r.files_failed), (8, 7, 1));
        assert_eq!(r.labels[&Label::Fake].failed, 1);
        assert_eq!(r.labels[&Label::Real].segments, 5);

        // liveness.mean: real 0.925, 0.725, 0.8; spoof 0.2, 0.01; fake 0.945, 0.58.
        let l = score(&r, "liveness.mean");
        let spoof = &l.auc[&Comparison::SpoofVsReal];
        assert_eq!((spoof.n_attack, spoof.n_real, spoof.auc), (2, 3, Some(1.0)));
        let fake = &l.auc[&Comparison::FakeVsReal];
        // 0.945 beats no real (more live than all); 0.58 beats all three -> 3/6.
        assert_eq!(fake.auc, Some(0.5));
        let any = &l.auc[&Comparison::AnyAttackVsReal];
        assert_eq!((any.n_attack, any.auc), (4, Some(9.0 / 12.0)));
        let ci = any.ci.unwrap();
        assert!(ci.low <= 0.75 && 0.75 <= ci.high);

        // worst_state ordinal: real 0, 2, 1; spoof 3, 3; fake 0, 2.
        let w = score(&r, "worst_state");
        assert_eq!(w.auc[&Comparison::SpoofVsReal].auc, Some(1.0));
        // fake 0 vs (0,2,1): 0.5+0+0; fake 2 vs (0,2,1): 1+0.5+1 -> 3/6
        assert_eq!(w.auc[&Comparison::FakeVsReal].auc, Some(0.5));

        // APCER/BPCER at alert: every spoof caught, every fake missed, no real flagged.
        let at_alert = &r.pad[0];
        assert_eq!(at_alert.attack_from, Alert);
        assert_eq!(at_alert.errors.bpcer, Rate::new(0, 3));
        assert_eq!(
            at_alert.errors.apcer_by_label[&Label::Spoof].rate,
            Some(0.0)
        );
        assert_eq!(
            at_alert.errors.apcer_by_label[&Label::Fake],
            Rate::new(2, 2)
        );
        // At suspicious or worse: one real flagged, the talking head caught.
        let at_susp = &r.pad[1];
        assert_eq!(at_susp.errors.bpcer, Rate::new(1, 3));
        assert_eq!(
            at_susp.errors.apcer_by_kind["fake/talking_head_generation"].rate,
            Some(0.0)
        );
        let worst = at_susp.errors.apcer_max.as_ref().unwrap();
        assert_eq!(worst.kind, "fake/face_swap");

        assert_eq!(r.confusion_files.get(Label::Real, Suspicious), 1);
        assert_eq!(r.confusion_files.get(Label::Spoof, Alert), 2);
        assert_eq!(r.confusion_segments.get(Label::Real, Clear), 3);
        assert_eq!(r.confusion_segments.get(Label::Fake, Clear), 2);

        assert_eq!(r.false_alerts.alert, Rate::new(0, 5));
        assert_eq!(r.false_alerts.suspicious_or_worse, Rate::new(1, 5));

        let swap = r
            .by_kind
            .iter()
            .find(|k| k.kind.as_deref() == Some("face_swap"))
            .unwrap();
        assert_eq!((swap.files, swap.failed, swap.segments), (2, 1, 2));
        assert_eq!(swap.auc_vs_real["liveness.mean"].auc, Some(0.0));
        let grid = r
            .by_kind
            .iter()
            .find(|k| k.kind.as_deref() == Some("grid"))
            .unwrap();
        assert!(grid.auc_vs_real.is_empty());
        assert_eq!(grid.files_suspicious_or_worse, 1);

        // ROC thresholds are in the score's own units.
        let roc = r.roc.iter().find(|c| c.score == "liveness.mean").unwrap();
        assert_eq!(roc.attack_if, "<=");
        assert_eq!(roc.points[1].threshold, Some(0.01f32 as f64));
        assert_eq!(roc.auc, Some(0.75));
    }

    #[test]
    fn empty_class_is_na_and_json_round_trips() {
        let files = vec![
            ok(2, Label::Real, "live", &[(Clear, 0.99)]),
            ok(3, Label::Spoof, "print", &[(Alert, 0.2)]),
        ];
        let r = EvalReport::build(&files, &EvalOptions::default());
        let fake = &score(&r, "liveness.mean").auc[&Comparison::FakeVsReal];
        assert_eq!((fake.n_attack, fake.n_real, fake.auc), (0, 1, None));
        assert!(fake.ci.is_none());
        let table = r.render_table();
        assert!(table.contains("n/a n=0/1"), "{table}");
        assert!(table.contains("1.000 [1.000, 1.000] n=1/1"), "{table}");
        assert!(table.contains("no fused score yet"), "{table}");

        let json = serde_json::to_string(&r).unwrap();
        // It reads back (floats may differ in the last bit, so compare the structure).
        let back: EvalReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.scores.len(), r.scores.len());
        assert_eq!(back.confusion_files, r.confusion_files);
        assert_eq!(back.pad[1].errors.bpcer, r.pad[1].errors.bpcer);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let live = v["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "liveness.mean")
            .unwrap();
        assert_eq!(live["orientation"], "lower_is_attack");
        assert_eq!(live["auc"]["spoof_vs_real"]["auc"], 1.0);
        assert!(live["auc"]["fake_vs_real"]["auc"].is_null());
        assert_eq!(v["pad"][0]["attack_from"], "alert");
        assert_eq!(v["pad"][0]["bpcer"]["rate"], 0.0);
        assert!(v["files"][0].get("segments").is_none());
    }

    #[test]
    fn table_mentions_failures_and_fused_scores() {
        let mut files = sample();
        let e = entry(10, "fused.mp4", Label::Fake, Some("face_swap"));
        files.push(FileEval::analysed(
            &e,
            "/media/fused.mp4".into(),
            &[seg(0, Alert, &[("liveness", 0.9), ("fused_attack", 0.8)])],
            None,
        ));
        let r = EvalReport::build(&files, &EvalOptions::default());
        let t = r.render_table();
        assert!(t.contains("FAILED: input is truncated"), "{t}");
        assert!(t.contains("line 9: bad.mp4: input is truncated"), "{t}");
        assert!(t.contains("fused_attack.mean"), "{t}");
        assert!(!t.contains("no fused score yet"), "{t}");
        let fused = score(&r, "fused_attack.mean");
        // Only one file carries it: no real value, so n/a.
        assert_eq!(fused.auc[&Comparison::AnyAttackVsReal].n_real, 0);
        assert!(t.contains("False alerts on real clips: 0 of 5"), "{t}");
    }
}
