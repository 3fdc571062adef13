//! The `candor` command: analyse recorded interviews, serve live sessions, and the
//! reference streaming client.

mod admin;
mod analyze;
mod annexb;
mod batch;
mod bench_models;
mod eval;
mod eval_recording;
mod fuzz;
mod health_check;
mod html_report;
mod load;
mod load_figures;
mod output;
mod proc_stats;
mod serve;
mod settings;
mod stream;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[derive(Debug, Parser)]
#[command(
    name = "candor",
    version,
    about = "Checks that the face in a video interview is a live, real, consistent person"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log lines on stderr: `text` for people, `json` for log collectors (one object a
    /// line, with the fields of every enclosing span, so each line about a session
    /// carries its tenant and session id).
    #[arg(
        long,
        env = "CANDOR_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,

    /// Send traces to this OpenTelemetry collector over OTLP/gRPC (e.g.
    /// `http://otel-collector:4317`): a span per session and per segment (state, frame
    /// counts, analysis time per model), per batch job and per file. Off when unset.
    #[arg(long, env = "CANDOR_OTLP_ENDPOINT", global = true)]
    otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse recorded videos or still images and print per-segment results.
    Analyze(analyze::AnalyzeArgs),
    /// Re-score recorded interviews in parallel, resumable: results go to the store and
    /// to an output folder (JSON Lines and a summary CSV).
    Batch(Box<batch::BatchArgs>),
    /// Purge sessions or candidates, run the retention sweep, set tenant settings.
    Admin(admin::AdminArgs),
    /// Evaluate detection quality on a labelled manifest (AUC, APCER/BPCER, ROC chart).
    Eval(eval::EvalArgs),
    /// Write an HTML report of a stored session or batch job.
    Report(html_report::ReportArgs),
    /// Run the live gRPC service.
    Serve(Box<serve::ServeArgs>),
    /// Send a recorded file to a server as a platform plugin would, printing results.
    Stream(stream::StreamArgs),
    /// Ask a server's gRPC health service whether it serves (exit 0) or not (exit 1),
    /// for container health checks.
    Health(health_check::HealthArgs),
    /// Capacity benchmark: N concurrent real-time sessions against a server (used by
    /// scripts/bench).
    #[command(hide = true)]
    Load(load::LoadArgs),
    /// Capacity benchmark: decode and each model alone, timed (used by scripts/bench).
    #[command(hide = true)]
    BenchModels(Box<bench_models::BenchModelsArgs>),
    /// Decode mutated media with every parser and report panics and hangs (a
    /// development tool, run by scripts/fuzz).
    #[command(hide = true)]
    Fuzz(fuzz::FuzzArgs),
    /// Print the SHA-256 of an API key, as `candor serve --api-key tenant:<hash>` takes it.
    HashKey {
        /// The key (read from stdin when omitted, so it stays out of shell history).
        key: Option<String>,
    },
}

fn main() -> ExitCode {
    bound_malloc_arenas();
    let cli = Cli::parse();
    // The service logs its lifecycle; one-shot commands only warnings. ONNX Runtime
    // logs every session it builds at INFO (over a thousand lines for a model pool):
    // only its warnings are the service's business.
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info,ort=warn"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CANDOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match cli.log_format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().with_span_list(true).boxed(),
    };
    let (otlp, traces) = match cli.otlp_endpoint.as_deref().map(|endpoint| {
        let node = match &cli.command {
            Command::Serve(args) => args.node_name.clone(),
            _ => None,
        };
        telemetry::otlp_layer(endpoint, &node.unwrap_or_else(serve::host_name))
    }) {
        Some(Ok((layer, traces))) => (Some(layer), Some(traces)),
        Some(Err(e)) => {
            eprintln!("candor: traces: {e:#}");
            return ExitCode::from(2);
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otlp)
        .init();
    let result = run_command(cli.command);
    // After the command's runtime is gone: the exporter flushes on its own.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("candor: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Analyze(args) => analyze::run(args),
        Command::Batch(args) => batch::run(*args),
        Command::Admin(args) => admin::run(args).map(|()| ExitCode::SUCCESS),
        Command::Eval(args) => eval::run(args),
        Command::Report(args) => html_report::run(args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::run(*args).map(|()| ExitCode::SUCCESS),
        Command::Stream(args) => stream::run(args),
        Command::Health(args) => health_check::run(args),
        Command::Load(args) => load::run(args),
        Command::BenchModels(args) => bench_models::run(*args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::HashKey { key } => hash_key(key).map(|()| ExitCode::SUCCESS),
    }
}

fn hash_key(key: Option<String>) -> anyhow::Result<()> {
    let key = match key {
        Some(k) => k,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    anyhow::ensure!(!key.is_empty(), "the key is empty");
    println!("{}", candor_server::hash_key(&key));
    Ok(())
}

/// glibc gives threads that allocate at once arenas of their own (up to 8 per core)
/// and keeps what each arena once held. Sessions come and go on threads of their own
/// and hand frames between threads, so a node's memory crept up by tens of MiB an
/// hour (scripts/soak); with two arenas it stays flat. `MALLOC_ARENA_MAX` in the
/// environment still decides when set.
fn bound_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: the first thing main does, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
