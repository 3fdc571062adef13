//! The analysis thread of one session: owns the stream's analyser (tracker, segmenter,
//! fusion) and turns work items into segment results, in order. Model calls block this
//! thread, never the async runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candor_core::{AnalysisConfig, SegmentReport, Summary};
use candor_pipeline::{Engine, StreamAnalyser};
use crossbeam_channel::Receiver;
use tokio::sync::mpsc;

use crate::error::ServiceError;
use crate::ingest::{InFlight, Work};
use crate::metrics::METRICS;

/// What the analysis thread hands back to the session task.
pub enum Output {
    Segment {
        report: Box<SegmentReport>,
        /// Mean analysis time per analysed frame of the segment.
        analysis: Duration,
        /// From receiving the frame that closed the segment to the result.
        latency: Duration,
    },
    /// The stream is over; `error` is set when it ended because the input broke.
    Finished {
        summary: Box<Summary>,
        error: Option<ServiceError>,
    },
}

pub struct AnalysisThread {
    pub work: Receiver<Work>,
    pub out: mpsc::Sender<Output>,
    pub in_flight: InFlight,
    pub cancelled: Arc<AtomicBool>,
}

/// Accumulates analysis time between segment results.
#[derive(Default)]
struct Timer {
    total: Duration,
    frames: u32,
}

impl Timer {
    fn take_mean(&mut self) -> Duration {
        let mean = if self.frames == 0 {
            Duration::ZERO
        } else {
            self.total / self.frames
        };
        *self = Self::default();
        mean
    }
}

impl AnalysisThread {
    pub fn run(self, engine: Arc<Engine>, cfg: AnalysisConfig) {
        let mut analyser = StreamAnalyser::new(engine, &cfg);
        let mut timer = Timer::default();
        let mut error = None;
        loop {
            if self.cancelled.load(Ordering::Acquire) {
                return; // the client is gone: nobody to send results to
            }
            let Ok(work) = self.work.recv() else {
                break; // ingest thread gone without End: treat as end of input
            };
            let (report, at) = match work {
                Work::Skipped(info, at) => {
                    METRICS.frames("decoded", 1);
                    (analyser.skipped(info), at)
                }
                Work::Dropped(info, at) => {
                    METRICS.frames("decoded", 1);
                    METRICS.frames("dropped", 1);
                    (analyser.dropped(info), at)
                }
                Work::Analyse(frame, at) => {
                    METRICS.frames("decoded", 1);
                    let info = frame.info;
                    let result = analyser.analyse(frame);
                    self.in_flight.release();
                    match result {
                        Ok(r) => {
                            METRICS.frames("analysed", 1);
                            let t = analyser.last_timings();
                            timer.total += t.total;
                            timer.frames += 1;
                            for (model, d) in &t.stages {
                                METRICS.inference(model, *d);
                            }
                            (r, at)
                        }
                        Err(e) => {
                            // One failed inference must not end the session.
                            tracing::warn!(pts_us = info.pts_us, error = %e, "frame analysis failed");
                            METRICS.frames("dropped", 1);
                            (analyser.dropped(info), at)
                        }
                    }
                }
                Work::End => break,
                Work::Failed(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let Some(report) = report
                && !self.send_segment(report, &mut timer, at)
            {
                return;
            }
        }
        let (last, summary) = analyser.finish();
        if let Some(report) = last
            && !self.send_segment(report, &mut timer, Instant::now())
        {
            return;
        }
        let _ = self.out.blocking_send(Output::Finished {
            summary: Box::new(summary),
            error,
        });
    }

    fn send_segment(&self, report: SegmentReport, timer: &mut Timer, at: Instant) -> bool {
        let latency = at.elapsed();
        METRICS
            .segment_latency
            .with_label_values::<&str>(&[])
            .observe(latency.as_secs_f64());
        METRICS
            .segments
            .with_label_values(&[report.assessment.state.as_str()])
            .inc();
        self.out
            .blocking_send(Output::Segment {
                report: Box::new(report),
                analysis: timer.take_mean(),
                latency,
            })
            .is_ok()
    }
}
