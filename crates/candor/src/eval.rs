//! `candor eval`: runs the models over a labelled manifest and measures how well each
//! signal and the risk states separate attacks from real footage (ROC AUC with
//! bootstrap intervals, APCER/BPCER, confusion table, per-kind breakdown, false alerts
//! on real clips). The metrics live in the `candor-eval` crate; this is the driver.
//!
//! The manifest is checked (labels, columns, every file present) before the models are
//! loaded. A file that cannot be decoded is reported as failed and the others still
//! run; the exit code is then 1, as for `analyze`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use candor_core::{Judge, Segment, SegmentReport};
use candor_eval::attack_fit::{AttackFit, AttackFitOptions, fit_attack};
use candor_eval::fit::FitFile;
use candor_eval::synthetic_fit::{SyntheticFit, SyntheticFitOptions, fit_synthetic};
use candor_eval::{EvalOptions, EvalReport, FileEval, FileStatus, Manifest};
use candor_pipeline::{Engine, ForgerySelection, analyse_file};
use clap::Args;
use serde_json::json;

use crate::eval_recording::{RecordedFile, Recording, RecordingWriter};
use crate::settings::{AnalysisArgs, ModelArgs};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled manifest: tab-separated, a header naming the columns `file`, `label`
    /// (real, fake or spoof) and optionally `kind` (see tests/manifests/README.md).
    pub manifest: PathBuf,

    /// Folder the manifest's file paths are relative to. Default: the manifest's own
    /// folder.
    #[arg(long)]
    pub media_dir: Option<PathBuf>,

    /// Folder for eval.json, per_file.jsonl and roc.svg (created if missing).
    #[arg(long, default_value = "candor-eval-out")]
    pub out: PathBuf,

    /// Bootstrap resamples per AUC confidence interval (0: no intervals).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,

    /// Seed of the bootstrap resampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Print the evaluation as JSON (the content of eval.json) instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Also fit the synthetic-face rule and the attack score's calibration on the
    /// manifest's files and write them to this TOML file (loadable with --config;
    /// models/fusion_fit.toml is the shipped default).
    #[arg(long)]
    pub fit_out: Option<PathBuf>,

    /// Signals the fit combines, comma-separated. Default: every face-forgery signal
    /// (`*_fake`) the models produced.
    #[arg(long, value_delimiter = ',')]
    pub fit_signals: Vec<String>,

    /// Which statistic of a face-forgery signal's readings in a segment the fit reads
    /// (mean, median, min). Default: the one the configured synthetic-face rule reads.
    #[arg(long)]
    pub fit_statistic: Option<candor_core::config::Statistic>,

    /// L2 penalty of the fit's weights.
    #[arg(long, default_value_t = 1.0)]
    pub fit_l2: f64,

    /// Share of real segments the fitted rule may put at `alert`, counting findings
    /// as they stand once held (`[confirm] segments` in a row). 0: the line sits above
    /// every real run of the fit's data.
    #[arg(long, default_value_t = 0.0)]
    pub fit_alert_rate: f64,

    /// Share of real segments the fitted rule may put at `suspicious` or worse,
    /// counting findings as they stand once held.
    #[arg(long, default_value_t = 0.02)]
    pub fit_suspicious_rate: f64,

    /// Write every file's segments, as the models measured them, to this file (JSON
    /// lines), for judging again with --segments.
    #[arg(long, conflicts_with = "segments")]
    pub save_segments: Option<PathBuf>,

    /// Judge the segments recorded by --save-segments (same manifest) instead of
    /// running the models: the decision thresholds and the fit follow this run's
    /// --config, while sampling and per-frame quality gates stay as recorded.
    #[arg(long)]
    pub segments: Option<PathBuf>,

    /// Operating prior of the calibrated attack score: the share of sessions that are
    /// attacks, under which the score is stated.
    #[arg(long, default_value_t = 0.05)]
    pub fit_prior: f64,

    #[command(flatten)]
    pub models: ModelArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

impl EvalArgs {
    /// `--fit-statistic`, else the statistic the configured synthetic-face rule reads:
    /// the synthetic-face rule and the attack score's forgery term read the same one.
    fn statistic_for_fit(
        &self,
        cfg: &candor_core::AnalysisConfig,
    ) -> candor_core::config::Statistic {
        self.fit_statistic.unwrap_or(cfg.synthetic.statistic)
    }
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let manifest_name = args.manifest.display().to_string();
    let manifest =
        Manifest::load(&args.manifest).with_context(|| format!("manifest {manifest_name}"))?;
    let media_dir = match &args.media_dir {
        Some(d) => d.clone(),
        None => args
            .manifest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    manifest.check_files(&media_dir).with_context(|| {
        format!(
            "manifest {manifest_name} (media folder {})",
            media_dir.display()
        )
    })?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output folder {}", args.out.display()))?;

    let cfg = args.analysis.analysis_config()?;
    let decode = args.analysis.decode_options();
    let source = match &args.segments {
        Some(path) => Source::Recorded(Recording::load(path)?),
        None => {
            let engine_cfg = args.models.engine_config(ForgerySelection::All)?;
            tracing::info!(?engine_cfg, ?cfg, ?decode, "effective configuration");
            Source::Models(Engine::load(&engine_cfg)?)
        }
    };
    let (models, sampling) = match &source {
        Source::Recorded(r) => (r.header.models.clone(), r.header.sampling.clone()),
        Source::Models(engine) => (
            engine
                .sources()
                .iter()
                .map(|m| format!("{} {}", m.name, m.version))
                .collect::<Vec<_>>()
                .join(", "),
            format!(
                "{} fps, max side {} px, face crops up to {} px, {} ms segments",
                decode.sample_fps, decode.max_side, decode.crop_max_side, cfg.segment.length_ms
            ),
        ),
    };
    let mut recorder = match &args.save_segments {
        Some(path) => Some(RecordingWriter::create(path, &models, &sampling)?),
        None => None,
    };

    let total = manifest.entries.len();
    let mut files = Vec::with_capacity(total);
    let mut segments_by_file = Vec::with_capacity(total);
    for (i, entry) in manifest.entries.iter().enumerate() {
        let path = entry.path(&media_dir);
        let shown = path.display().to_string();
        let measured = source.measure(entry, &path, &decode, &cfg)?;
        if let Some(r) = &mut recorder {
            r.add(&measured)?;
        }
        let reports = judge(&cfg, &measured.segments);
        let file = match measured.error {
            None => FileEval::analysed(entry, shown, &reports, measured.warning),
            Some(e) => FileEval::failed(entry, shown, e),
        };
        let what = match (&file.aggregate, &file.error) {
            (Some(a), _) => format!(
                "{} segments, worst {}",
                a.segments,
                a.worst_state.map_or("-", |s| s.as_str())
            ),
            (None, e) => format!("FAILED: {}", e.as_deref().unwrap_or("?")),
        };
        eprintln!(
            "[{}/{total}] {} ({}/{}): {what}",
            i + 1,
            entry.file,
            entry.label,
            entry.kind_or_dash()
        );
        files.push(file);
        segments_by_file.push((
            entry.label,
            entry.group_name().to_owned(),
            measured.segments,
        ));
    }

    let opts = EvalOptions {
        bootstrap: args.bootstrap,
        seed: args.seed,
        ..EvalOptions::default()
    };
    let mut report = EvalReport::build(&files, &opts);
    report.meta.insert("manifest".into(), json!(manifest_name));
    report
        .meta
        .insert("media_dir".into(), json!(media_dir.display().to_string()));
    report.meta.insert("models".into(), json!(models));
    report.meta.insert("sampling".into(), json!(sampling));
    report.meta.insert(
        "thresholds".into(),
        json!(format!(
            "liveness alert below {}, suspicious below {}",
            cfg.liveness.alert_below, cfg.liveness.suspicious_below
        )),
    );
    report
        .meta
        .insert("analysis_config".into(), serde_json::to_value(&cfg)?);

    // The honest figure with every run: the attack score's calibration refitted without
    // each group, every held-out segment scored by it, under the configured prior.
    let held_out = fit_attack_score(
        &args,
        f64::from(cfg.attack.prior),
        &manifest_name,
        &segments_by_file,
        &held_out_signals(&args, &cfg, &segments_by_file),
        &cfg,
    );
    report.meta.insert(
        HELD_OUT_KEY.into(),
        match &held_out {
            Ok(fit) => serde_json::to_value(fit)?,
            Err(e) => json!(format!("n/a: {e}")),
        },
    );
    // And the synthetic-face rule's states on groups its fit did not see.
    let synthetic = synthetic_held_out(&args, &cfg, &segments_by_file);
    report.meta.insert(
        SYNTHETIC_HELD_OUT_KEY.into(),
        match &synthetic {
            Ok(fit) => serde_json::to_value(fit.held_out)?,
            Err(e) => json!(format!("n/a: {e}")),
        },
    );
    write_outputs(&args.out, &report, &files)?;
    if let Some(path) = &args.fit_out {
        fit_and_write(&args, path, &manifest_name, &segments_by_file, &cfg)?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        // The full config is in eval.json; the table keeps the short lines.
        let mut shown = report.clone();
        shown.meta.remove("analysis_config");
        shown.meta.remove(HELD_OUT_KEY);
        shown.meta.remove(SYNTHETIC_HELD_OUT_KEY);
        write!(out, "{}", shown.render_table())?;
        writeln!(out)?;
        match &held_out {
            Ok(fit) => write!(out, "{}", attack_header(fit, ""))?,
            Err(e) => writeln!(out, "Attack score, leave-one-group-out: n/a ({e})")?,
        }
        match &synthetic {
            Ok(fit) => write!(out, "{}", synthetic_held_out_line(fit, ""))?,
            Err(e) => writeln!(out, "Synthetic-face rule, leave-one-group-out: n/a ({e})")?,
        }
        writeln!(out, "\nwritten to {}", args.out.display())?;
    }
    out.flush()?;
    let failed = files
        .iter()
        .filter(|f| f.status == FileStatus::Failed)
        .count();
    if failed > 0 {
        eprintln!("candor: {failed} of {total} files failed to analyse (listed in the report)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where eval.json keeps the leave-one-group-out figures of the attack score.
const HELD_OUT_KEY: &str = "attack_score_leave_one_group_out";
/// Where eval.json keeps the synthetic-face rule's states on held-out groups.
const SYNTHETIC_HELD_OUT_KEY: &str = "synthetic_face_leave_one_group_out";

/// The face-forgery signals of the held-out figures: `--fit-signals`, else those the
/// configured attack score reads; none when the manifest holds no analysed fake (the
/// live score's term needs no fit).
fn held_out_signals(
    args: &EvalArgs,
    cfg: &candor_core::AnalysisConfig,
    files: &[(candor_eval::Label, String, Vec<Segment>)],
) -> Vec<String> {
    let fakes = files
        .iter()
        .any(|(label, _, segs)| *label == candor_eval::Label::Fake && !segs.is_empty());
    if !fakes {
        return Vec::new();
    }
    if !args.fit_signals.is_empty() {
        return args.fit_signals.clone();
    }
    cfg.attack
        .signals()
        .filter(|s| s.as_str() != candor_core::signal::names::LIVENESS)
        .cloned()
        .collect()
}

/// Where the segments come from: the models, or a recording of them.
enum Source {
    Models(std::sync::Arc<Engine>),
    Recorded(Recording),
}

impl Source {
    /// One manifest file's segments, unjudged.
    fn measure(
        &self,
        entry: &candor_eval::manifest::Entry,
        path: &Path,
        decode: &candor_media::DecodeOptions,
        cfg: &candor_core::AnalysisConfig,
    ) -> Result<RecordedFile> {
        let engine = match self {
            Self::Recorded(r) => return Ok(r.file(&entry.file)?.clone()),
            Self::Models(engine) => engine,
        };
        let mut segments = Vec::new();
        let outcome = analyse_file(engine, path, decode, cfg, |r| {
            segments.push(r.segment.clone())
        });
        Ok(match outcome {
            Ok(o) => RecordedFile {
                file: entry.file.clone(),
                error: None,
                warning: o.warning,
                segments,
            },
            Err(e) => RecordedFile {
                file: entry.file.clone(),
                error: Some(e.to_string()),
                warning: None,
                segments: Vec::new(),
            },
        })
    }
}

/// One file's segments judged in order, as a stream judges them.
fn judge(cfg: &candor_core::AnalysisConfig, segments: &[Segment]) -> Vec<SegmentReport> {
    let mut judge = Judge::new(cfg);
    segments
        .iter()
        .map(|s| SegmentReport {
            assessment: judge.judge(s),
            segment: s.clone(),
        })
        .collect()
}

/// Fits the synthetic-face rule and writes it, with its figures as comments.
fn fit_and_write(
    args: &EvalArgs,
    path: &Path,
    manifest_name: &str,
    files: &[(candor_eval::Label, String, Vec<candor_core::Segment>)],
    cfg: &candor_core::AnalysisConfig,
) -> Result<()> {
    let signals = if args.fit_signals.is_empty() {
        let mut seen: Vec<String> = files
            .iter()
            .flat_map(|(_, _, segs)| segs.iter().flat_map(|s| s.signals.iter()))
            .map(|s| s.name.clone())
            .filter(|n| n.ends_with("_fake"))
            .collect();
        seen.sort();
        seen.dedup();
        seen
    } else {
        args.fit_signals.clone()
    };
    let opts = synthetic_fit_options(args, cfg, signals);
    let mut fit = fit_synthetic(&fit_files(files).0, &opts).map_err(anyhow::Error::msg)?;
    let attack = fit_attack_score(
        args,
        args.fit_prior,
        manifest_name,
        files,
        &opts.signals,
        cfg,
    )?;
    fit.config.provenance = format!(
        "candor eval --fit-out on {manifest_name}: {} real / {} fake files, l2 {}, \
         standing at alert for <= {:.1} % and at suspicious for <= {:.1} % of real segments, \
         held {} segments in a row",
        fit.real_files,
        fit.fake_files,
        opts.l2,
        opts.alert_rate * 100.0,
        opts.suspicious_rate * 100.0,
        opts.hold,
    );
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let header = format!(
        "# Synthetic-face fusion fitted by `candor eval --fit-out` (see README).\n\
         # Manifest: {manifest_name}\n\
         # Segments: {} real ({} files), {} fake ({} files); signals: {} (segment {})\n\
         # A finding stands once it holds {} segments in a row; the lines are set on findings \
         that stand.\n\
         {}\
         # In sample: alert on {} of real and {} of fake segments; suspicious or worse \
         on {} of real and {} of fake.\n",
        fit.real_segments,
        fit.real_files,
        fit.fake_segments,
        fit.fake_files,
        opts.signals.join(", "),
        opts.statistic.as_str(),
        opts.hold,
        synthetic_held_out_line(&fit, "# "),
        pct(fit.real_alert_share),
        pct(fit.fake_alert_share),
        pct(fit.real_suspicious_share),
        pct(fit.fake_suspicious_share),
    );
    let header = format!("{header}{}", attack_header(&attack, "# "));
    #[derive(serde::Serialize)]
    struct FitFile<'a> {
        synthetic: &'a candor_core::config::SyntheticConfig,
        attack: &'a candor_core::config::AttackConfig,
    }
    let body = toml::to_string(&FitFile {
        synthetic: &fit.config,
        attack: &attack.config,
    })?;
    std::fs::write(path, format!("{header}{body}"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprint!("{header}");
    eprintln!(
        "fitted synthetic-face rule and attack-score calibration written to {}",
        path.display()
    );
    Ok(())
}

/// The attack score's calibration under `prior`, fitted on every file (groups kept
/// whole).
fn fit_attack_score(
    args: &EvalArgs,
    prior: f64,
    manifest_name: &str,
    files: &[(candor_eval::Label, String, Vec<candor_core::Segment>)],
    forgery_signals: &[String],
    cfg: &candor_core::AnalysisConfig,
) -> Result<AttackFit> {
    let (fit_files, groups) = fit_files(files);
    let opts = AttackFitOptions {
        forgery_signals: forgery_signals.to_vec(),
        statistic: args.statistic_for_fit(cfg),
        prior,
        min_frames: cfg.synthetic.min_frames,
        liveness: cfg.liveness.clone(),
        presence: cfg.presence.clone(),
    };
    let mut fit = fit_attack(&fit_files, &opts).map_err(anyhow::Error::msg)?;
    fit.config.provenance = format!(
        "candor eval --fit-out on {manifest_name}: {} files in {} groups, prior {}",
        files.len(),
        groups,
        prior
    );
    Ok(fit)
}

/// The files of a fit, each with its group's index, and how many groups there are.
fn fit_files(
    files: &[(candor_eval::Label, String, Vec<candor_core::Segment>)],
) -> (Vec<FitFile<'_>>, usize) {
    let mut group_ids: Vec<&str> = files.iter().map(|(_, g, _)| g.as_str()).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let fit_files = files
        .iter()
        .map(|(label, group, segments)| FitFile {
            label: *label,
            group: group_ids.binary_search(&group.as_str()).unwrap_or(0),
            segments,
        })
        .collect();
    (fit_files, group_ids.len())
}

/// What a synthetic-face fit reads and where its lines go, from the command line and
/// the config (the judge's `[confirm] segments` is how long a finding must hold).
fn synthetic_fit_options(
    args: &EvalArgs,
    cfg: &candor_core::AnalysisConfig,
    signals: Vec<String>,
) -> SyntheticFitOptions {
    SyntheticFitOptions {
        signals,
        statistic: args.statistic_for_fit(cfg),
        l2: args.fit_l2,
        alert_rate: args.fit_alert_rate,
        suspicious_rate: args.fit_suspicious_rate,
        min_frames: cfg.synthetic.min_frames,
        hold: cfg.confirm.segments,
    }
}

/// The synthetic-face rule refitted without each group (the configured rule's
/// signals, or `--fit-signals`), its states counted on the group held out.
fn synthetic_held_out(
    args: &EvalArgs,
    cfg: &candor_core::AnalysisConfig,
    files: &[(candor_eval::Label, String, Vec<candor_core::Segment>)],
) -> Result<SyntheticFit, String> {
    let signals = if args.fit_signals.is_empty() {
        cfg.synthetic
            .terms
            .iter()
            .map(|t| t.signal.clone())
            .collect()
    } else {
        args.fit_signals.clone()
    };
    fit_synthetic(
        &fit_files(files).0,
        &synthetic_fit_options(args, cfg, signals),
    )
}

/// The held-out line of a synthetic-face fit; `prefix` starts it (`# ` in a fit file).
fn synthetic_held_out_line(fit: &SyntheticFit, prefix: &str) -> String {
    let h = &fit.held_out;
    let of = |n: usize, total: usize| {
        format!(
            "{n} of {total} ({:.1} %)",
            100.0 * n as f64 / total.max(1) as f64
        )
    };
    format!(
        "{prefix}Synthetic-face rule, leave-one-group-out (weights and lines fitted without the \
         file's group): fake-vs-real file AUC {}; real segments suspicious or worse {}, alert \
         {}; fake files reaching suspicious {}, alert {}.\n",
        fit.out_of_fold_auc
            .map_or("n/a".to_string(), |a| format!("{a:.3}")),
        of(h.real_suspicious, h.real_segments),
        of(h.real_alert, h.real_segments),
        of(h.fake_files_suspicious, h.fake_files),
        of(h.fake_files_alert, h.fake_files),
    )
}

/// The calibration's figures, as comment lines of the fit file.
/// `prefix` starts every line (`# ` in a fit file).
fn attack_header(fit: &AttackFit, prefix: &str) -> String {
    let auc = |v: Option<f64>| v.map_or("n/a".to_string(), |a| format!("{a:.3}"));
    let mut h = format!(
        "{prefix}Attack score: the highest calibrated term at prior {}; leave-one-group-out, \
         file means:\n",
        fit.config.prior
    );
    for a in &fit.aucs {
        h.push_str(&format!(
            "{prefix}  {:<34} fake-vs-real {}  spoof-vs-real {}  any-vs-real {}\n",
            a.score,
            auc(a.fake_vs_real),
            auc(a.spoof_vs_real),
            auc(a.any_vs_real)
        ));
    }
    h.push_str(&format!(
        "{prefix}  real segments ({}): median {}, 95th percentile {}{}\n",
        fit.real_segments,
        auc(fit.real_median),
        auc(fit.real_p95),
        if fit.liveness_calibrated {
            ""
        } else {
            "; the live score keeps the model's own probability (too few spoof files)"
        }
    ));
    h
}

fn write_outputs(dir: &Path, report: &EvalReport, files: &[FileEval]) -> Result<()> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("eval.json", &(serde_json::to_string_pretty(report)? + "\n"))?;
    let mut lines = String::new();
    for f in files {
        lines.push_str(&serde_json::to_string(f)?);
        lines.push('\n');
    }
    write("per_file.jsonl", &lines)?;
    write("roc.svg", &report.roc_svg())?;
    Ok(())
}
