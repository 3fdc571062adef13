//! The readable report: the table `candor eval` prints and the ROC chart. Both only
//! read an [`EvalReport`] that is already computed.

use std::fmt::Write as _;

use candor_core::RiskState;

use super::{AucResult, Comparison, EvalReport, FileEval, FileStatus, PadAt};
use crate::aggregate::{Orientation, ScoreSpec};
use crate::manifest::Label;
use crate::metrics::Rate;

impl Comparison {
    pub fn title(self) -> &'static str {
        match self {
            Self::FakeVsReal => "fake vs real",
            Self::SpoofVsReal => "spoof vs real",
            Self::AnyAttackVsReal => "any attack vs real",
        }
    }
}

impl EvalReport {
    /// The ROC chart (any attack vs real) as an SVG document.
    pub fn roc_svg(&self) -> String {
        let n = |l: Label| self.labels.get(&l).map_or(0, |c| c.analysed);
        crate::svg::roc_svg(
            &format!(
                "ROC per file, any attack vs real ({} attack, {} real files)",
                n(Label::Fake) + n(Label::Spoof),
                n(Label::Real)
            ),
            &self.roc,
        )
    }

    /// The readable report.
    pub fn render_table(&self) -> String {
        let mut o = String::new();
        self.render_into(&mut o).expect("writing to a String");
        // Padding of the last column leaves trailing blanks.
        o.lines().map(|l| l.trim_end().to_owned() + "\n").collect()
    }

    fn render_into(&self, o: &mut String) -> std::fmt::Result {
        let count = |l: Label| self.labels.get(&l).map_or(0, |c| c.files);
        writeln!(
            o,
            "{} files ({} real, {} fake, {} spoof): {} analysed, {} failed",
            self.files_total,
            count(Label::Real),
            count(Label::Fake),
            count(Label::Spoof),
            self.files_analysed,
            self.files_failed
        )?;
        for (k, v) in &self.meta {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            writeln!(o, "  {k}: {text}")?;
        }

        // Per file.
        let shown: Vec<&ScoreSpec> = self
            .scores
            .iter()
            .map(|s| &s.spec)
            .filter(|s| s.signal.is_some() && s.orientation != Orientation::Unknown)
            .collect();
        let fw = self
            .files
            .iter()
            .map(|f| f.file.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let kw = self
            .files
            .iter()
            .map(|f| f.kind.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(o, "\nPer file (state shares are shares of segments)")?;
        write!(
            o,
            "  {:<fw$}  {:<5}  {:<kw$}  {:>4}  {:<12}  {:>5}  {:>5}  {:>5}  {:>5}",
            "file", "label", "kind", "segs", "worst", "clear", "inc", "susp", "alert"
        )?;
        for s in &shown {
            write!(o, "  {:>w$}", s.name, w = s.name.len().max(6))?;
        }
        writeln!(o)?;
        for f in &self.files {
            write!(
                o,
                "  {:<fw$}  {:<5}  {:<kw$}",
                f.file,
                f.label.as_str(),
                f.kind.as_deref().unwrap_or("-")
            )?;
            match &f.aggregate {
                Some(a) => {
                    write!(
                        o,
                        "  {:>4}  {:<12}",
                        a.segments,
                        a.worst_state.map_or("-", |s| s.as_str())
                    )?;
                    for st in RiskState::ALL {
                        write!(o, "  {:>5}", pct0(a.state_share[&st]))?;
                    }
                    for s in &shown {
                        let v = s.value(a).map_or("-".to_string(), |v| format!("{v:.3}"));
                        write!(o, "  {:>w$}", v, w = s.name.len().max(6))?;
                    }
                    if let Some(w) = &f.warning {
                        write!(o, "  warning: {w}")?;
                    }
                }
                None => write!(
                    o,
                    "  FAILED: {}",
                    f.error.as_deref().unwrap_or("unknown error")
                )?,
            }
            writeln!(o)?;
        }

        // Scores.
        writeln!(
            o,
            "\nROC AUC per file score ({:.0} % stratified bootstrap CI, {} resamples, seed {}; n = attack/real files)",
            self.options.ci_level * 100.0,
            self.options.bootstrap,
            self.options.seed
        )?;
        writeln!(
            o,
            "  orientation: lower/higher = the side attacks are expected on; unknown = evaluated as-is (higher = attack)"
        )?;
        let sw = self
            .scores
            .iter()
            .map(|s| s.spec.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        write!(o, "  {:<sw$}  {:<7}  {:<5}", "score", "attack", "fused")?;
        for c in Comparison::ALL {
            write!(o, "  {:<30}", c.title())?;
        }
        writeln!(o)?;
        for s in &self.scores {
            write!(
                o,
                "  {:<sw$}  {:<7}  {:<5}",
                s.spec.name,
                s.spec.orientation.as_str(),
                if s.spec.fused { "yes" } else { "no" }
            )?;
            for c in Comparison::ALL {
                let cell = s.auc.get(&c).map_or("n/a".to_string(), auc_cell);
                write!(o, "  {cell:<30}")?;
            }
            writeln!(o)?;
        }
        if !self
            .scores
            .iter()
            .any(|s| s.spec.signal.is_some() && s.spec.fused)
        {
            writeln!(
                o,
                "  (no fused score yet: synthetic_face_confidence, attack_score and fused_* signals are evaluated when present)"
            )?;
        }

        // PAD error rates.
        writeln!(
            o,
            "\nAPCER / BPCER per file (ISO/IEC 30107-3; a file is classified attack when its worst segment state reaches the threshold)"
        )?;
        let species: Vec<String> = {
            let mut v: Vec<String> = self
                .pad
                .iter()
                .flat_map(|p| p.errors.apcer_by_kind.keys().cloned())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let nw = species
            .iter()
            .map(|s| s.len() + 7)
            .max()
            .unwrap_or(0)
            .max(24);
        let max_cell = |p: &PadAt| {
            p.errors.apcer_max.as_ref().map_or("n/a".to_string(), |w| {
                format!("{} {}", rate_cell(&w.rate), w.kind)
            })
        };
        let cw = self
            .pad
            .iter()
            .map(|p| max_cell(p).len())
            .max()
            .unwrap_or(0)
            .max(18);
        write!(o, "  {:<nw$}", "")?;
        for p in &self.pad {
            write!(o, "  {:<cw$}", at_title(p.attack_from))?;
        }
        writeln!(o)?;
        write!(o, "  {:<nw$}", "BPCER real")?;
        for p in &self.pad {
            write!(o, "  {:<cw$}", rate_cell(&p.errors.bpcer))?;
        }
        writeln!(o)?;
        for l in [Label::Fake, Label::Spoof] {
            write!(o, "  {:<nw$}", format!("APCER {l} (pooled)"))?;
            for p in &self.pad {
                let r = p.errors.apcer_by_label.get(&l).copied().unwrap_or_default();
                write!(o, "  {:<cw$}", rate_cell(&r))?;
            }
            writeln!(o)?;
        }
        for k in &species {
            write!(o, "  {:<nw$}", format!("APCER {k}"))?;
            for p in &self.pad {
                let r = p.errors.apcer_by_kind.get(k).copied().unwrap_or_default();
                write!(o, "  {:<cw$}", rate_cell(&r))?;
            }
            writeln!(o)?;
        }
        write!(o, "  {:<nw$}", "APCER max over kinds")?;
        for p in &self.pad {
            write!(o, "  {:<cw$}", max_cell(p))?;
        }
        writeln!(o)?;

        // Confusion.
        writeln!(
            o,
            "\nStates against labels: files by worst state [segments by state]"
        )?;
        write!(o, "  {:<6}", "label")?;
        for st in RiskState::ALL {
            write!(o, "  {:<16}", st.as_str())?;
        }
        writeln!(o)?;
        for l in Label::ALL {
            write!(o, "  {:<6}", l.as_str())?;
            for st in RiskState::ALL {
                let cell = format!(
                    "{} [{}]",
                    self.confusion_files.get(l, st),
                    self.confusion_segments.get(l, st)
                );
                write!(o, "  {cell:<16}")?;
            }
            writeln!(o)?;
        }

        // Per kind.
        let headline: Vec<&str> = self
            .scores
            .iter()
            .filter(|s| s.spec.orientation != Orientation::Unknown)
            .map(|s| s.spec.name.as_str())
            .collect();
        writeln!(
            o,
            "\nPer kind (files flagged at alert / suspicious+; segments by state c/i/s/a; AUC of the kind against all real files)"
        )?;
        write!(
            o,
            "  {:<5}  {:<kw$}  {:>5}  {:>6}  {:>5}  {:>6}  {:<15}",
            "label", "kind", "files", "failed", "alert", "susp+", "segs c/i/s/a"
        )?;
        for h in &headline {
            write!(o, "  {:>w$}", h, w = h.len().max(6))?;
        }
        writeln!(o)?;
        for k in &self.by_kind {
            let segs = RiskState::ALL
                .iter()
                .map(|s| k.segment_states.get(s).copied().unwrap_or(0).to_string())
                .collect::<Vec<_>>()
                .join("/");
            write!(
                o,
                "  {:<5}  {:<kw$}  {:>5}  {:>6}  {:>5}  {:>6}  {:<15}",
                k.label.as_str(),
                k.kind.as_deref().unwrap_or("-"),
                k.files,
                k.failed,
                k.files_alert,
                k.files_suspicious_or_worse,
                segs
            )?;
            for h in &headline {
                let cell = match k.auc_vs_real.get(*h) {
                    Some(r) => r.auc.map_or("n/a".to_string(), |a| format!("{a:.3}")),
                    None => "".to_string(),
                };
                write!(o, "  {:>w$}", cell, w = h.len().max(6))?;
            }
            writeln!(o)?;
        }

        // False alerts.
        let fa = &self.false_alerts;
        writeln!(
            o,
            "\nFalse alerts on real clips: {} of {} real segments in alert ({}); {} suspicious or worse ({})",
            fa.alert.errors,
            fa.alert.total,
            pct1(fa.alert.rate),
            fa.suspicious_or_worse.errors,
            pct1(fa.suspicious_or_worse.rate)
        )?;
        for (what, counts) in [
            ("alert", &fa.alert_by_reason),
            ("suspicious", &fa.suspicious_by_reason),
        ] {
            if counts.is_empty() {
                continue;
            }
            // Most frequent first; ties in code order.
            let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = sorted.iter().map(|(c, n)| format!("{c} {n}")).collect();
            writeln!(o, "  {what} by first reason: {}", list.join(", "))?;
        }

        let alerts: Vec<String> = self
            .time_to_alert
            .iter()
            .map(|t| match (t.median_s, t.max_s) {
                (Some(med), Some(max)) => format!(
                    "{} {} of {} files, median {med:.1} s, max {max:.1} s",
                    t.label.as_str(),
                    t.alerted,
                    t.files
                ),
                _ => format!("{} 0 of {} files", t.label.as_str(), t.files),
            })
            .collect();
        writeln!(
            o,
            "Time to the first alert (first frame to the end of the first alert segment): {}",
            alerts.join("; ")
        )?;

        let failed: Vec<&FileEval> = self
            .files
            .iter()
            .filter(|f| f.status == FileStatus::Failed)
            .collect();
        if !failed.is_empty() {
            writeln!(o, "\nFailed files ({}):", failed.len())?;
            for f in failed {
                writeln!(
                    o,
                    "  line {}: {}: {}",
                    f.line,
                    f.file,
                    f.error.as_deref().unwrap_or("unknown error")
                )?;
            }
        }
        Ok(())
    }
}

fn at_title(from: RiskState) -> String {
    match from {
        RiskState::Alert => "attack = alert".into(),
        RiskState::Suspicious => "attack = susp+".into(),
        other => format!("attack >= {other}"),
    }
}

fn pct0(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn pct1(x: Option<f64>) -> String {
    x.map_or("n/a".to_string(), |x| format!("{:.1}%", x * 100.0))
}

fn rate_cell(r: &Rate) -> String {
    format!("{} ({}/{})", pct1(r.rate), r.errors, r.total)
}

fn auc_cell(r: &AucResult) -> String {
    let n = format!("n={}/{}", r.n_attack, r.n_real);
    match (r.auc, &r.ci) {
        (Some(a), Some(ci)) => format!("{a:.3} [{:.3}, {:.3}] {n}", ci.low, ci.high),
        (Some(a), None) => format!("{a:.3} {n}"),
        (None, _) => format!("n/a {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::tests::seg;
    use crate::manifest::Entry;
    use crate::report::EvalOptions;
    use candor_core::RiskState::{Alert, Clear, Inconclusive, Suspicious};
    use candor_core::SegmentReport;

    /// A small report with every part the table shows: provenance of both kinds, a
    /// failed file, a warning, a fused score, two attack classes and interval cells.
    fn golden_report() -> EvalReport {
        let e = |line: usize, file: &str, label: Label, kind: &str| Entry {
            line,
            file: file.into(),
            label,
            kind: Some(kind.into()),
            group: None,
        };
        let analysed = |entry: Entry, segs: &[SegmentReport], warning: Option<&str>| {
            let path = format!("/media/{}", entry.file);
            FileEval::analysed(&entry, path, segs, warning.map(str::to_owned))
        };
        let files = vec![
            analysed(
                e(2, "real-a.mp4", Label::Real, "studio"),
                &[
                    seg(0, Clear, &[("liveness", 0.93), ("fused_attack", 0.1)]),
                    seg(1, Clear, &[("liveness", 0.88), ("fused_attack", 0.2)]),
                ],
                None,
            ),
            analysed(
                e(3, "real-b.mp4", Label::Real, "webcam"),
                &[
                    seg(0, Clear, &[("liveness", 0.81), ("fused_attack", 0.3)]),
                    seg(1, Suspicious, &[("liveness", 0.52), ("fused_attack", 0.6)]),
                ],
                Some("input broke off at 4.0 s"),
            ),
            analysed(
                e(4, "swap.mp4", Label::Fake, "face_swap"),
                &[seg(0, Alert, &[("liveness", 0.7), ("fused_attack", 0.9)])],
                None,
            ),
            analysed(
                e(5, "print.mp4", Label::Spoof, "print"),
                &[
                    seg(0, Inconclusive, &[("liveness", 0.4)]),
                    seg(1, Alert, &[("liveness", 0.1)]),
                ],
                None,
            ),
            FileEval::failed(
                &e(6, "broken.mp4", Label::Spoof, "screen"),
                "/media/broken.mp4".into(),
                "no video stream".into(),
            ),
        ];
        let opts = EvalOptions {
            bootstrap: 200,
            seed: 7,
            ci_level: 0.9,
        };
        let mut r = EvalReport::build(&files, &opts);
        r.meta.insert("manifest".into(), "labels.csv".into());
        r.meta.insert("sample_fps".into(), serde_json::json!(2.0));
        r
    }

    /// The whole table, byte for byte, as `candor eval` prints it.
    #[test]
    fn table_text_is_unchanged() {
        let expected = r#"5 files (2 real, 1 fake, 2 spoof): 4 analysed, 1 failed
  manifest: labels.csv
  sample_fps: 2.0

Per file (state shares are shares of segments)
  file        label  kind       segs  worst         clear    inc   susp  alert  fused_attack.mean  fused_attack.max  liveness.mean  liveness.min
  real-a.mp4  real   studio        2  clear          100%     0%     0%     0%              0.150             0.200          0.905         0.880
  real-b.mp4  real   webcam        2  suspicious      50%     0%    50%     0%              0.450             0.600          0.665         0.520  warning: input broke off at 4.0 s
  swap.mp4    fake   face_swap     1  alert            0%     0%     0%   100%              0.900             0.900          0.700         0.700
  print.mp4   spoof  print         2  alert            0%    50%     0%    50%                  -                 -          0.250         0.100
  broken.mp4  spoof  screen     FAILED: no video stream

ROC AUC per file score (90 % stratified bootstrap CI, 200 resamples, seed 7; n = attack/real files)
  orientation: lower/higher = the side attacks are expected on; unknown = evaluated as-is (higher = attack)
  score              attack   fused  fake vs real                    spoof vs real                   any attack vs real
  worst_state        higher   yes    1.000 [1.000, 1.000] n=1/2      1.000 [1.000, 1.000] n=1/2      1.000 [1.000, 1.000] n=2/2
  fused_attack.mean  higher   yes    1.000 [1.000, 1.000] n=1/2      n/a n=0/2                       1.000 [1.000, 1.000] n=1/2
  fused_attack.max   higher   yes    1.000 [1.000, 1.000] n=1/2      n/a n=0/2                       1.000 [1.000, 1.000] n=1/2
  liveness.mean      lower    no     0.500 [0.000, 1.000] n=1/2      1.000 [1.000, 1.000] n=1/2      0.750 [0.000, 1.000] n=2/2
  liveness.min       lower    no     0.500 [0.000, 1.000] n=1/2      1.000 [1.000, 1.000] n=1/2      0.750 [0.000, 1.000] n=2/2

APCER / BPCER per file (ISO/IEC 30107-3; a file is classified attack when its worst segment state reaches the threshold)
                            attack = alert             attack = susp+
  BPCER real                0.0% (0/2)                 50.0% (1/2)
  APCER fake (pooled)       0.0% (0/1)                 0.0% (0/1)
  APCER spoof (pooled)      0.0% (0/1)                 0.0% (0/1)
  APCER fake/face_swap      0.0% (0/1)                 0.0% (0/1)
  APCER spoof/print         0.0% (0/1)                 0.0% (0/1)
  APCER max over kinds      0.0% (0/1) fake/face_swap  0.0% (0/1) fake/face_swap

States against labels: files by worst state [segments by state]
  label   clear             inconclusive      suspicious        alert
  real    1 [3]             0 [0]             1 [1]             0 [0]
  fake    0 [0]             0 [0]             0 [0]             1 [1]
  spoof   0 [0]             0 [1]             0 [0]             1 [1]

Per kind (files flagged at alert / suspicious+; segments by state c/i/s/a; AUC of the kind against all real files)
  label  kind       files  failed  alert   susp+  segs c/i/s/a     worst_state  fused_attack.mean  fused_attack.max  liveness.mean  liveness.min
  real   studio         1       0      0       0  2/0/0/0
  real   webcam         1       0      0       1  1/0/1/0
  fake   face_swap      1       0      1       1  0/0/0/1                1.000              1.000             1.000          0.500         0.500
  spoof  print          1       0      1       1  0/1/0/1                1.000                n/a               n/a          1.000         1.000
  spoof  screen         1       1      0       0  0/0/0/0                  n/a                n/a               n/a            n/a           n/a

False alerts on real clips: 0 of 4 real segments in alert (0.0%); 1 suspicious or worse (25.0%)
  suspicious by first reason: (none) 1
Time to the first alert (first frame to the end of the first alert segment): fake 1 of 1 files, median 2.0 s, max 2.0 s; spoof 1 of 1 files, median 4.0 s, max 4.0 s

Failed files (1):
  line 6: broken.mp4: no video stream
"#;
        let table = golden_report().render_table();
        assert_eq!(table, expected, "got:\n{table}");
        assert!(
            golden_report().roc_svg().contains(
                "<title>ROC per file, any attack vs real (2 attack, 2 real files)</title>"
            )
        );
    }
}
