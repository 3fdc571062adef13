//! The `candor` command: analyse recorded interviews and evaluate detection quality.

mod analyze;
mod eval;
mod output;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "candor",
    version,
    about = "Checks that the face in a video interview is a live, real, consistent person"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse recorded videos or still images and print per-segment results.
    Analyze(analyze::AnalyzeArgs),
    /// Evaluate detection quality on a labelled manifest (AUC, APCER/BPCER, ROC chart).
    Eval(eval::EvalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = "warn";
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CANDOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .init();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Eval(args) => eval::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("candor: {e:#}");
            ExitCode::from(1)
        }
    }
}
