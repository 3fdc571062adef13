//! `candor fuzz`: throws mutated media at every parser reachable from the network or
//! a file and reports panics and hangs. Stable Rust, no special toolchain: a seeded
//! mutation loop over seeds made from real clips (see `seeds`), each input decoded
//! on its own thread under a deadline. A panic or a hang is a finding; panics are
//! minimised and every finding is saved with its message, for a regression test.

mod mutate;
mod seeds;
mod target;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use clap::Args;

pub use target::Parser;

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Inputs to try in all, shared evenly between the parsers.
    #[arg(long, default_value_t = 10_000)]
    inputs: u64,
    /// Seed of the mutations: the same seed tries the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only this parser (default: all of them).
    #[arg(long, value_enum)]
    parser: Option<Parser>,
    /// Where findings are saved (input, and its message beside it).
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// Where seed inputs are made and kept.
    #[arg(long, default_value = ".cache/fuzz-seeds")]
    cache: PathBuf,
    /// Interview clips the seeds are made from (default: the first two of
    /// $CANDOR_TEST_DATA/talking-heads, else ../shared/data/talking-heads).
    #[arg(long)]
    clip: Vec<PathBuf>,
    /// An input that makes no progress for this long is a hang.
    #[arg(long, default_value_t = 10)]
    hang_secs: u64,
}

/// What one input did.
enum Verdict {
    Fine(target::Outcome),
    Panic(String),
    Hang,
}

pub fn run(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let clips = if args.clip.is_empty() {
        default_clips()?
    } else {
        args.clip.clone()
    };
    let parsers: Vec<Parser> = match args.parser {
        Some(p) => vec![p],
        None => target::ALL.to_vec(),
    };
    let per_parser = args.inputs.div_ceil(parsers.len() as u64);
    let hang = Duration::from_secs(args.hang_secs.max(1));
    std::fs::create_dir_all(&args.cache)?;
    // Panics are findings, reported here: the default hook's backtrace lines would
    // bury the summary.
    std::panic::set_hook(Box::new(|_| {}));
    let mut total_findings = 0;
    println!("parser  inputs  errors  frames  findings  inputs/s");
    for (p, &parser) in parsers.iter().enumerate() {
        let seeds = seeds::load(parser, &clips, &args.cache.join(parser.name()))?;
        let mut rng = mutate::Rng::new(args.seed ^ ((p as u64 + 1) << 32));
        let scratch = args.cache.join(format!("scratch-{}", std::process::id()));
        // Unmutated seeds must decode, or the mutants test only the error paths.
        for seed in &seeds {
            let path = scratch.with_extension(format!("seed.{}", parser.extension()));
            let o = target::run(parser, seed, &path);
            ensure!(
                !o.error && o.frames > 0,
                "a {} seed does not decode: the seeds in {} need remaking",
                parser.name(),
                args.cache.display()
            );
        }
        let started = Instant::now();
        let (mut errors, mut findings, mut frames) = (0u64, 0u64, 0u64);
        for n in 0..per_parser {
            let a = rng.below(seeds.len());
            let b = rng.below(seeds.len());
            let mut input = mutate::mutate(&mut rng, &seeds[a], &seeds[b]);
            // Most PNG mutants get valid CRCs, so that they reach the chunk decoders;
            // the rest test the CRC checks themselves.
            if parser == Parser::Png && rng.below(4) != 0 {
                mutate::fix_png_crcs(&mut input);
            }
            let scratch = scratch.with_extension(format!("{n}.{}", parser.extension()));
            match try_input(parser, input.clone(), scratch.clone(), hang) {
                Verdict::Fine(o) => {
                    errors += u64::from(o.error);
                    frames += o.frames as u64;
                }
                verdict => {
                    findings += 1;
                    save(
                        &args.out, parser, args.seed, n, input, verdict, &scratch, hang,
                    )?;
                }
            }
        }
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        println!(
            "{:<6}  {per_parser:>6}  {errors:>6}  {frames:>6}  {findings:>8}  {:>8.0}",
            parser.name(),
            per_parser as f64 / secs
        );
        total_findings += findings;
    }
    let _ = std::panic::take_hook();
    println!(
        "inputs: {}, findings: {total_findings}",
        per_parser * parsers.len() as u64
    );
    Ok(if total_findings == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("findings saved under {}", args.out.display());
        ExitCode::from(1)
    })
}

fn default_clips() -> anyhow::Result<Vec<PathBuf>> {
    let data = std::env::var_os("CANDOR_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let dir = data.join("talking-heads");
    let mut clips: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {} (pass --clip)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
        .collect();
    clips.sort();
    clips.truncate(2);
    ensure!(!clips.is_empty(), "no .mp4 clip in {}", dir.display());
    Ok(clips)
}

/// Decodes one input on its own thread; a thread that does not finish within `hang`
/// is left behind (it cannot be stopped) and reported.
fn try_input(parser: Parser, input: Vec<u8>, scratch: PathBuf, hang: Duration) -> Verdict {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("candor-fuzz".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                target::run(parser, &input, &scratch)
            }));
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        return Verdict::Panic("cannot start a decoding thread".into());
    }
    match rx.recv_timeout(hang) {
        Ok(Ok(outcome)) => Verdict::Fine(outcome),
        Ok(Err(payload)) => Verdict::Panic(panic_message(payload.as_ref())),
        Err(_) => Verdict::Hang,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-text payload".into())
}

/// Shrinks a panicking input while it still panics: cuts the tail, then removes
/// ever smaller blocks. Hangs are kept whole (each try would cost the hang time).
fn minimise(parser: Parser, mut input: Vec<u8>, scratch: &Path, hang: Duration) -> Vec<u8> {
    let panics = |bytes: &Vec<u8>| {
        matches!(
            try_input(parser, bytes.clone(), scratch.to_path_buf(), hang),
            Verdict::Panic(_)
        )
    };
    let mut tries = 0;
    let mut block = input.len() / 2;
    while block > 0 && tries < 2000 {
        let mut at = 0;
        while at < input.len() && tries < 2000 {
            let mut smaller = input.clone();
            smaller.drain(at..(at + block).min(input.len()));
            tries += 1;
            if !smaller.is_empty() && panics(&smaller) {
                input = smaller;
            } else {
                at += block;
            }
        }
        block /= 2;
    }
    input
}

#[allow(clippy::too_many_arguments)]
fn save(
    out: &Path,
    parser: Parser,
    seed: u64,
    n: u64,
    input: Vec<u8>,
    verdict: Verdict,
    scratch: &Path,
    hang: Duration,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let (what, input) = match verdict {
        Verdict::Panic(m) => (
            format!("panic: {m}"),
            minimise(parser, input, scratch, hang),
        ),
        Verdict::Hang => (format!("hang: no result within {hang:?}"), input),
        Verdict::Fine(_) => return Ok(()),
    };
    let stem = out.join(format!("{}-seed{seed}-{n}", parser.name()));
    std::fs::write(stem.with_extension(parser.extension()), &input)?;
    std::fs::write(
        stem.with_extension("txt"),
        format!(
            "{what}\nparser: {}\nbytes: {}\n",
            parser.name(),
            input.len()
        ),
    )?;
    println!("finding ({}): {what}", parser.name());
    Ok(())
}
