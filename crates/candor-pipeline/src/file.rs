//! Analysis of one recorded file (or still image): decoding runs on its own thread and
//! feeds the analysis through a bounded channel, so decoding the next frames overlaps
//! with inference on the current one while memory stays bounded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use candor_core::{AnalysisConfig, FrameInfo, SegmentReport, Summary};
use candor_media::{DecodeEvent, DecodeOptions, GlanceRate, MediaError, StreamInfo};

use crate::engine::Engine;
use crate::error::PipelineError;
use crate::runner::{StreamInput, StreamOutput, StreamRunner};
use crate::stream::StreamAnalyser;

/// Decoded frames waiting for analysis. Small: frames are big and decoding is not the
/// bottleneck.
const DECODE_QUEUE: usize = 4;

#[derive(Debug)]
pub struct FileOutcome {
    pub stream: StreamInfo,
    pub summary: Summary,
    /// Set when the input broke off part-way (e.g. truncated): the results cover what
    /// could be decoded up to that point.
    pub warning: Option<String>,
}

enum FromDecoder {
    Opened(StreamInfo),
    Event(DecodeEvent),
    /// Damaged packets the decoder skipped just before the next event's frame.
    Undecodable(FrameInfo, u32),
    Failed(MediaError),
}

/// Analyses `path`, calling `on_segment` for each segment as soon as it is judged.
pub fn analyse_file(
    engine: &Arc<Engine>,
    path: &Path,
    decode: &DecodeOptions,
    cfg: &AnalysisConfig,
    mut on_segment: impl FnMut(&SegmentReport),
) -> Result<FileOutcome, PipelineError> {
    let _span = tracing::info_span!("file", path = %path.display()).entered();
    // The file's own glance rate, which its runner moves (files of a batch run at once).
    let mut decode = decode.clone();
    decode.glance = GlanceRate::new(decode.glance_plan.idle_fps);
    let rx = spawn_decoder(path.to_owned(), decode.clone());
    let stream = match rx.recv() {
        Ok(FromDecoder::Opened(info)) => info,
        Ok(FromDecoder::Failed(e)) => return Err(e.into()),
        Ok(FromDecoder::Event(_) | FromDecoder::Undecodable(..)) | Err(_) => {
            return Err(PipelineError::DecoderGone);
        }
    };
    let mut runner = StreamRunner::new(StreamAnalyser::new(engine.clone(), cfg));
    runner.adapt_glances(decode.glance.clone(), decode.glance_plan);
    let mut warning = None;
    for msg in rx {
        match msg {
            FromDecoder::Event(event) => {
                runner.push(event.into());
            }
            FromDecoder::Undecodable(info, n) => {
                runner.push(StreamInput::Undecodable(info, n));
            }
            FromDecoder::Failed(e) if runner.frames() > 0 => {
                warning = Some(format!(
                    "input ended early, results cover what was decoded: {e}"
                ));
                break;
            }
            FromDecoder::Failed(e) => return Err(e.into()),
            FromDecoder::Opened(_) => {}
        }
        report_segments(&mut runner, &mut on_segment);
    }
    let summary = runner.finish();
    report_segments(&mut runner, &mut on_segment);
    if summary.counts.analysed == 0
        && let Some(e) = runner.take_error()
    {
        return Err(e);
    }
    if runner.frames() == 0 {
        return Err(MediaError::Empty.into());
    }
    Ok(FileOutcome {
        stream,
        summary,
        warning,
    })
}

/// Hands judged segments on; a file has no challenges, evidence or live state badge.
fn report_segments(runner: &mut StreamRunner, on_segment: &mut impl FnMut(&SegmentReport)) {
    for output in runner.take_outputs() {
        if let StreamOutput::Segment(s) = output {
            on_segment(&s.report);
        }
    }
}

fn spawn_decoder(path: PathBuf, opts: DecodeOptions) -> Receiver<FromDecoder> {
    let (tx, rx) = sync_channel(DECODE_QUEUE);
    let spawned = std::thread::Builder::new()
        .name("candor-decode".into())
        .spawn(move || {
            let mut decoder = match candor_media::open_path(&path, &opts) {
                Ok(d) => d,
                Err(e) => {
                    let _ = tx.send(FromDecoder::Failed(e));
                    return;
                }
            };
            if tx
                .send(FromDecoder::Opened(decoder.info().clone()))
                .is_err()
            {
                return;
            }
            let mut undecodable = 0;
            while let Some(event) = decoder.next() {
                // Damage the decoder got past is counted in the next frame's segment.
                let now_undecodable = decoder.undecodable();
                if now_undecodable > undecodable
                    && let Ok(next) = &event
                {
                    let n = u32::try_from(now_undecodable - undecodable).unwrap_or(u32::MAX);
                    undecodable = now_undecodable;
                    if tx
                        .send(FromDecoder::Undecodable(next.info().clone(), n))
                        .is_err()
                    {
                        return;
                    }
                }
                let msg = match event {
                    Ok(ev) => FromDecoder::Event(ev),
                    Err(e) => FromDecoder::Failed(e),
                };
                // The receiver is gone when the caller stopped early: stop decoding.
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start decoder thread");
    }
    rx
}
