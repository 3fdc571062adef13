//! `candor analyze`: every file is analysed in turn; one unreadable file is reported
//! and the others are still analysed, and the exit code says whether any failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use candor_pipeline::{Engine, ForgerySelection, analyse_file};
use clap::Args;

use crate::output::{Format, Printer};
use crate::settings::{AnalysisArgs, ModelArgs};

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Video files (MP4, WebM, MKV, H.264 Annex-B) or still images (JPEG, PNG).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Print JSON Lines (one object per segment, then a summary per file) instead of a table.
    #[arg(long, env = "CANDOR_JSON")]
    pub json: bool,

    #[command(flatten)]
    pub models: ModelArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let cfg = args.analysis.analysis_config()?;
    let engine_cfg = args
        .models
        .engine_config(ForgerySelection::ForSignals(cfg.fused_signals()))?;
    let decode = args.analysis.decode_options();
    tracing::info!(?engine_cfg, ?cfg, ?decode, "effective configuration");
    let engine = Engine::load(&engine_cfg)?;
    let format = if args.json {
        Format::JsonLines
    } else {
        Format::Table
    };
    let stdout = std::io::stdout();
    let mut printer = Printer::new(stdout.lock(), format, engine.sources());
    let mut failed = 0usize;
    for file in &args.files {
        printer.begin_file(file)?;
        let mut write_error = None;
        let outcome = analyse_file(&engine, file, &decode, &cfg, |report| {
            if write_error.is_none()
                && let Err(e) = printer.segment(file, report)
            {
                write_error = Some(e);
            }
        });
        if let Some(e) = write_error {
            return Err(e.into());
        }
        match outcome {
            Ok(outcome) => printer.summary(file, &outcome)?,
            Err(e) => {
                failed += 1;
                printer.error(file, &e)?;
            }
        }
    }
    printer.flush()?;
    std::io::stderr().flush()?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
