//! Decodes a file (or stdin with `-`) and prints what the crate sees:
//! `cargo run -p candor-media --example decode -- video.mp4 [sample_fps]`.

use std::process::ExitCode;

use candor_media::{DecodeEvent, DecodeOptions, open_path, open_reader};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(input) = args.next() else {
        eprintln!("usage: decode <file|-> [sample_fps]");
        return ExitCode::FAILURE;
    };
    let mut options = DecodeOptions::default();
    if let Some(fps) = args.next().and_then(|a| a.parse().ok()) {
        options.sample_fps = fps;
    }
    let opened = if input == "-" {
        open_reader(std::io::stdin(), &options)
    } else {
        open_path(&input, &options)
    };
    let decoder = match opened {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{:?}", decoder.info());
    let (mut decoded, mut sampled) = (0, 0);
    for event in decoder {
        match event {
            Ok(DecodeEvent::Sampled(frame)) => {
                sampled += 1;
                decoded += 1;
                println!(
                    "sampled #{} at {} µs: {:?}",
                    frame.info.decoded_index, frame.info.pts_us, frame.image
                );
            }
            Ok(DecodeEvent::Skipped(_) | DecodeEvent::Glance(_)) => decoded += 1,
            Err(e) => {
                eprintln!("error after {decoded} frames: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{decoded} frames decoded, {sampled} sampled");
    ExitCode::SUCCESS
}
