//! `candor batch`: re-scores recorded interviews with the same pipeline as `analyze`,
//! several files at once. Each file's result is committed to the store the moment the
//! file is done, so a run that is interrupted (Ctrl-C, kill -9, a crash) resumes where
//! it stopped when the same command is run again; the output files are written from the
//! store at the end, so they hold exactly one result per input.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use candor_pipeline::{Engine, ForgerySelection};
use candor_server::scoring::{FileScorer, Scored, error_value, media_in, tag};
use candor_store::digest::sha256_hex;
use candor_store::{JobFileRecord, JobFileStatus, Store};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::settings::{AnalysisArgs, ModelArgs, StoreArgs};

/// Output file names inside `--out`.
pub const RESULTS_FILE: &str = "results.jsonl";
pub const SUMMARY_FILE: &str = "summary.csv";

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Inputs: video or image files; folders (every video and image file in them,
    /// recursively, in name order); or `@LIST`, a text file with one path per line
    /// (relative paths are relative to the list's folder; blank lines and lines
    /// starting with `#` are skipped).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// Folder for the results: results.jsonl (the objects of `analyze --json`) and
    /// summary.csv (one row per file). Created if missing.
    #[arg(long, env = "CANDOR_BATCH_OUT")]
    pub out: PathBuf,

    /// Files analysed at once. Default: the number of CPU cores.
    #[arg(long, env = "CANDOR_BATCH_JOBS")]
    pub jobs: Option<usize>,

    /// Re-score every file, even those already done with the same content, models and
    /// settings.
    #[arg(long, env = "CANDOR_BATCH_FORCE")]
    pub force: bool,

    /// Tenant the job is recorded under.
    #[arg(long, env = "CANDOR_TENANT", default_value = "default")]
    pub tenant: String,

    /// Job id. Default: derived from the output folder and the settings, so running
    /// the same command again resumes the same job.
    #[arg(long, env = "CANDOR_BATCH_JOB")]
    pub job: Option<String>,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub models: ModelArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// One batch run: the scorer and the job it records into.
struct Batch<'a> {
    scorer: FileScorer,
    tenant: &'a str,
    job_id: String,
    force: bool,
}

pub fn run(args: BatchArgs) -> Result<ExitCode> {
    let files = expand_inputs(&args.inputs)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len().max(1));
    // Each model gets at least one worker per file in flight, so files do not queue
    // behind one another's inferences.
    let cfg = args.analysis.analysis_config()?;
    let mut engine_cfg = args
        .models
        .engine_config(ForgerySelection::ForSignals(cfg.fused_signals()))?;
    engine_cfg.workers = engine_cfg.workers.max(jobs);
    let decode = args.analysis.decode_options();
    tracing::info!(?engine_cfg, ?cfg, ?decode, jobs, "effective configuration");
    let store: Arc<dyn Store> = args.store.open()?;
    let engine = Engine::load(&engine_cfg)?;
    let scorer = FileScorer::new(store.clone(), engine, decode, cfg);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output folder {}", args.out.display()))?;
    let job_id = match &args.job {
        Some(id) => id.clone(),
        None => default_job_id(&args.out, scorer.settings_hash())?,
    };
    store
        .create_job(
            &args.tenant,
            &job_id,
            &scorer.settings_json,
            candor_store::now_ms(),
        )
        .with_context(|| format!("recording batch job {job_id}"))?;

    let batch = Batch {
        scorer,
        tenant: &args.tenant,
        job_id,
        force: args.force,
    };
    let counts = batch.score_all(&files, jobs)?;
    batch.write_outputs(&files, &args.out)?;
    eprintln!(
        "candor batch: job {}: {} files: {} scored, {} already done, {} failed; results in {}",
        batch.job_id,
        files.len(),
        counts.done,
        counts.already_done,
        counts.failed,
        args.out.display()
    );
    Ok(if counts.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Default)]
struct Counts {
    done: usize,
    already_done: usize,
    failed: usize,
}

impl Batch<'_> {
    /// Scores every file with `jobs` worker threads. A file that fails is recorded as
    /// failed; only a store failure stops the batch.
    fn score_all(&self, files: &[PathBuf], jobs: usize) -> Result<Counts> {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = bars.add(ProgressBar::new(files.len() as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} files {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let next = AtomicUsize::new(0);
        let counts = Mutex::new(Counts::default());
        let stop: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        if lock(&stop).is_some() {
                            break;
                        }
                        let bar = bars.insert_before(&overall, file_bar(file));
                        let scored = self.score(file, &bar);
                        bar.finish_and_clear();
                        bars.remove(&bar);
                        let mut c = lock(&counts);
                        match scored {
                            Ok(Scored::AlreadyDone) => c.already_done += 1,
                            Ok(Scored::Done) => c.done += 1,
                            Ok(Scored::Failed(e)) => {
                                c.failed += 1;
                                // On stderr even when the bars are hidden (not a terminal).
                                bars.suspend(|| eprintln!("candor: {}: {e}", file.display()));
                            }
                            Err(e) => {
                                lock(&stop).get_or_insert(
                                    e.context(format!("batch stopped at {}", file.display())),
                                );
                                break;
                            }
                        }
                        overall.set_message(format!("({} failed)", c.failed));
                        overall.inc(1);
                    }
                });
            }
        });
        overall.finish_and_clear();
        if let Some(e) = lock(&stop).take() {
            return Err(e);
        }
        Ok(counts.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// Scores one file unless it is already done, committing its outcome. `Err` only
    /// for store failures.
    fn score(&self, file: &Path, bar: &ProgressBar) -> Result<Scored> {
        let prepared = self.scorer.prepare(file, file.display().to_string());
        let (tenant, job) = (self.tenant, self.job_id.as_str());
        self.scorer.register(tenant, job, &prepared)?;
        let scored = self
            .scorer
            .score(tenant, job, &prepared, self.force, |report| {
                bar.set_message(format!(
                    "segment {} at {:.0} s",
                    report.segment.index,
                    report.segment.end_us as f64 / 1e6
                ));
            })?;
        Ok(scored)
    }

    /// Writes results.jsonl and summary.csv from the store, in input order, each
    /// through a temporary file renamed into place.
    fn write_outputs(&self, files: &[PathBuf], out: &Path) -> Result<()> {
        let record = self.scorer.store.job(self.tenant, &self.job_id)?;
        let by_path: HashMap<&str, &JobFileRecord> =
            record.files.iter().map(|f| (f.path.as_str(), f)).collect();
        // A file may be done under another path with the same content (moved, copied).
        let done_by_key: HashMap<&str, &str> = record
            .files
            .iter()
            .filter(|f| f.status == JobFileStatus::Done)
            .filter_map(|f| Some((f.key.as_str(), f.result_json.as_deref()?)))
            .collect();
        let mut lines = Vec::new();
        let mut csv = vec![CSV_HEADER.to_owned()];
        for file in files {
            let name = file.display().to_string();
            let row = by_path
                .get(name.as_str())
                .with_context(|| format!("{name} is missing from batch job {}", self.job_id))?;
            if let Some(result) = done_by_key.get(row.key.as_str()) {
                let result: Value = serde_json::from_str(result)
                    .with_context(|| format!("stored result of {name}"))?;
                for mut seg in result["segments"].as_array().cloned().unwrap_or_default() {
                    tag(&mut seg, "segment", file);
                    lines.push(seg);
                }
                let mut summary = result["summary"].clone();
                tag(&mut summary, "summary", file);
                csv.push(csv_done(&name, &summary));
                lines.push(summary);
            } else {
                let error = row.error.as_deref().unwrap_or("not analysed");
                lines.push(error_value(file, error));
                csv.push(csv_row(&[
                    &name, "failed", "", "", "", "", "", "", "", "", error,
                ]));
            }
        }
        write_atomically(&out.join(RESULTS_FILE), |w| {
            lines.iter().try_for_each(|v| writeln!(w, "{v}"))
        })?;
        write_atomically(&out.join(SUMMARY_FILE), |w| {
            csv.iter().try_for_each(|l| writeln!(w, "{l}"))
        })
    }
}

const CSV_HEADER: &str = "file,status,worst_state,segments,duration_s,mean_liveness,clear_share,suspicious_share,alert_share,inconclusive_share,error";

fn csv_done(name: &str, summary: &Value) -> String {
    let num = |v: &Value| v.as_f64().map_or(String::new(), |x| format!("{x:.4}"));
    let share = |state: &str| num(&summary["time_share"][state]);
    let duration = summary["duration_us"]
        .as_f64()
        .map_or(String::new(), |us| format!("{:.2}", us / 1e6));
    csv_row(&[
        name,
        "done",
        summary["worst_state"].as_str().unwrap_or(""),
        &summary["segments"].to_string(),
        &duration,
        &num(&summary["mean_liveness"]),
        &share("clear"),
        &share("suspicious"),
        &share("alert"),
        &share("inconclusive"),
        summary["warning"].as_str().unwrap_or(""),
    ])
}

/// One CSV line; fields with commas, quotes or line breaks are quoted (RFC 4180).
fn csv_row(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                (*f).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Files, folders and `@LIST`s, expanded in order; each path once.
pub fn expand_inputs(inputs: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if let Some(list) = input.strip_prefix('@') {
            files.extend(read_list(Path::new(list))?);
        } else {
            let path = PathBuf::from(input);
            if path.is_dir() {
                files.extend(
                    media_in(&path).with_context(|| format!("listing {}", path.display()))?,
                );
            } else {
                // Missing files are reported as failed, with the others still scored.
                files.push(path);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    if files.is_empty() {
        bail!("no video or image files found in {}", inputs.join(" "));
    }
    Ok(files)
}

fn read_list(list: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(list)
        .with_context(|| format!("reading the list {}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new(""));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect())
}

/// The job id a plain re-run of the same command finds again: from the output folder
/// and the settings.
fn default_job_id(out: &Path, settings_hash: &str) -> Result<String> {
    let out = out
        .canonicalize()
        .with_context(|| format!("resolving {}", out.display()))?;
    let hash = sha256_hex(format!("{}\n{settings_hash}", out.display()).as_bytes());
    Ok(format!("batch-{}", &hash[..16]))
}

fn file_bar(file: &Path) -> ProgressBar {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let bar = ProgressBar::new_spinner().with_prefix(name);
    bar.set_style(
        ProgressStyle::with_template("  {spinner} {prefix}: {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut w =
        BufWriter::new(File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
    write(&mut w)
        .and_then(|()| w.flush())
        .and_then(|()| w.get_ref().sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(
            csv_row(&["a", "b c", "x,y", "say \"hi\""]),
            "a,b c,\"x,y\",\"say \"\"hi\"\"\""
        );
    }

    #[test]
    fn lists_and_folders_expand_in_order_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        for f in ["b.mp4", "a.JPG", "notes.txt", "sub/c.webm"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let list = dir.path().join("list.txt");
        std::fs::write(&list, "# inputs\nb.mp4\n\nmissing.mp4\n").unwrap();
        let d = dir.path().display().to_string();
        let files = expand_inputs(&[d.clone(), format!("@{}", list.display())]).unwrap();
        let want: Vec<PathBuf> = ["a.JPG", "b.mp4", "sub/c.webm", "missing.mp4"]
            .iter()
            .map(|f| dir.path().join(f))
            .collect();
        assert_eq!(files, want);
        assert!(expand_inputs(&[format!("@{d}/nope.txt")]).is_err());
    }
}
