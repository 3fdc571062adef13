//! `candor report`: a self-contained HTML page about one stored session or batch job,
//! for reviewers: the verdict, a chart of the live score over time with each segment's
//! state, the timeline with reasons, state changes, and the models and settings used.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use candor_core::signal::names;
use candor_core::{AnalysisConfig, RiskState, SegmentReport, Summary};
use candor_eval::svg::escape;
use candor_server::persist::storage_id;
use candor_store::{JobFileStatus, SessionRecord, StateChangeRecord, Store, StoreError};
use clap::Args;
use serde_json::Value;

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A session id (as the client chose it) or a batch job id.
    pub id: String,

    /// The tenant that owns the session or job.
    #[arg(long, env = "CANDOR_TENANT", default_value = "default")]
    pub tenant: String,

    /// Where to write the HTML; standard output when omitted.
    #[arg(long, env = "CANDOR_REPORT_OUT")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let store = args.store.open()?;
    let store: &dyn Store = &*store;
    let html = match store.get_session(&args.tenant, &storage_id(&args.id)) {
        Ok(record) => {
            audit(
                store,
                &args.tenant,
                "report_session",
                Some(&record.session_id),
                None,
            )?;
            session_page(store, &args.id, &record)?
        }
        Err(StoreError::NotFound(_)) => match store.job(&args.tenant, &args.id) {
            Ok(_) => {
                audit(store, &args.tenant, "report_job", None, Some(&args.id))?;
                job_page(store, &args.tenant, &args.id)?
            }
            Err(StoreError::NotFound(_)) => bail!(
                "no session or batch job {:?} for tenant {:?}",
                args.id,
                args.tenant
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    match &args.out {
        Some(path) => std::fs::write(path, html)
            .with_context(|| format!("writing the report {}", path.display()))?,
        None => print!("{html}"),
    }
    Ok(())
}

/// A report reads stored results: it goes into the tenant's audit log like a read over
/// gRPC, naming the local user who ran it. No line, no report.
fn audit(
    store: &dyn Store,
    tenant: &str,
    kind: &str,
    session_id: Option<&str>,
    job_id: Option<&str>,
) -> Result<()> {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let caller = format!("candor report, local user {user}");
    let entry = candor_store::NewAuditEntry::read(kind, session_id, job_id, caller);
    store
        .append_audit(tenant, &entry)
        .context("writing the report's read to the audit log")
}

fn session_page(store: &dyn Store, id: &str, r: &SessionRecord) -> Result<String> {
    let sid = &r.session_id;
    let reports: Vec<SegmentReport> = store
        .segments(&r.tenant, sid)?
        .iter()
        .map(|s| s.report())
        .collect::<Result<_, _>>()
        .context("a stored segment does not parse")?;
    let changes = store.state_changes(&r.tenant, sid)?;
    let summary_doc: Option<Value> = r
        .summary_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let summary = r.summary().ok().flatten();
    let ended_by = summary_doc
        .as_ref()
        .and_then(|d| d["ended_by"].as_str())
        .unwrap_or(if r.ended_at.is_some() {
            ""
        } else {
            "interrupted"
        });
    let settings: Value = serde_json::from_str(&r.settings_json).unwrap_or(Value::Null);
    // Live sessions keep their settings under "settings"; other sources at the top.
    let analysis = settings
        .get("settings")
        .unwrap_or(&settings)
        .get("analysis")
        .cloned();

    let mut o = String::new();
    page_start(&mut o, &format!("Session {id}"));
    let meta = [
        ("tenant", r.tenant.clone()),
        ("participant", r.participant_id.clone()),
        ("interview", r.interview_ref.clone().unwrap_or_default()),
        ("candidate", r.candidate_ref.clone().unwrap_or_default()),
        ("source", r.source.clone()),
        ("started", utc(r.started_at)),
        ("ended", r.ended_at.map(utc).unwrap_or_default()),
        ("ended by", ended_by.to_owned()),
    ];
    table_kv(&mut o, &meta);
    section(&mut o, &reports, summary, analysis);
    state_changes(&mut o, &changes);
    models(&mut o, &r.models_json);
    settings_block(&mut o, &r.settings_json);
    page_end(&mut o);
    Ok(o)
}

fn job_page(store: &dyn Store, tenant: &str, job_id: &str) -> Result<String> {
    let job = store.job(tenant, job_id)?;
    let settings: Value = serde_json::from_str(&job.info.settings_json).unwrap_or(Value::Null);
    let p = job.info.progress;
    let mut o = String::new();
    page_start(&mut o, &format!("Batch job {job_id}"));
    table_kv(
        &mut o,
        &[
            ("tenant", tenant.to_owned()),
            ("created", utc(job.info.created_at)),
            (
                "files",
                format!(
                    "{} ({} done, {} failed, {} pending)",
                    p.total, p.done, p.failed, p.pending
                ),
            ),
        ],
    );
    let _ = writeln!(
        o,
        "<h2>Files</h2>\n<table><tr><th>file</th><th>status</th><th>state</th><th>segments</th><th>mean live score</th><th>error</th></tr>"
    );
    let mut done = Vec::new();
    for f in &job.files {
        let result: Option<Value> = f
            .result_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        let summary = result.as_ref().map(|r| &r["summary"]);
        let state = summary
            .and_then(|s| s["worst_state"].as_str())
            .unwrap_or("");
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#file-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            done.len(),
            escape(&f.path),
            f.status.as_str(),
            badge_str(state),
            summary.map_or(String::new(), |s| s["segments"].to_string()),
            summary
                .and_then(|s| s["mean_liveness"].as_f64())
                .map_or(String::new(), |v| format!("{v:.3}")),
            escape(f.error.as_deref().unwrap_or("")),
        );
        if f.status == JobFileStatus::Done
            && let Some(r) = result
        {
            done.push((f.path.clone(), r));
        }
    }
    let _ = writeln!(o, "</table>");
    for (i, (path, result)) in done.iter().enumerate() {
        let reports: Vec<SegmentReport> = result["segments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| serde_json::from_value(v.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let summary: Option<Summary> = serde_json::from_value(result["summary"].clone()).ok();
        let _ = writeln!(o, "<h2 id=\"file-{i}\">{}</h2>", escape(path));
        section(&mut o, &reports, summary, settings.get("analysis").cloned());
    }
    models(&mut o, &settings["models"].to_string());
    settings_block(&mut o, &job.info.settings_json);
    page_end(&mut o);
    Ok(o)
}

/// Verdict, chart and timeline of one recording or session.
fn section(
    o: &mut String,
    reports: &[SegmentReport],
    summary: Option<Summary>,
    analysis: Option<Value>,
) {
    let summary = summary.unwrap_or_else(|| Summary::from_reports(reports));
    let cfg: AnalysisConfig = analysis
        .and_then(|a| serde_json::from_value(a).ok())
        .unwrap_or_default();
    let shares: Vec<String> = RiskState::ALL
        .iter()
        .filter(|st| summary.time_share.get(st).is_some_and(|s| *s > 0.0))
        .map(|st| format!("{} {:.0}%", st.as_str(), 100.0 * summary.time_share[st]))
        .collect();
    let _ = writeln!(
        o,
        "<p class=\"verdict\">{} &nbsp; {} segments, {:.1} s; {}{}{}{}</p>",
        badge(summary.worst_state),
        summary.segments,
        summary.duration_us as f64 / 1e6,
        shares.join(", "),
        summary
            .mean_liveness
            .map_or(String::new(), |l| format!("; mean live score {l:.3}")),
        summary
            .candidate_similarity
            .map_or(String::new(), |c| format!(
                "; similarity to the enrolled candidate {c:.2}"
            )),
        summary
            .blinks
            .map_or(String::new(), |b| format!("; {b} blinks counted"))
    );
    // How long each problem lasted, most severe first.
    let lasting: Vec<String> = summary
        .reasons
        .iter()
        .filter(|t| t.state > RiskState::Clear)
        .map(|t| {
            // Summaries stored before time shares were kept read 0: say nothing then.
            let share = if t.time_share > 0.0 {
                format!("{:.0}% of the time ", 100.0 * t.time_share)
            } else {
                String::new()
            };
            format!(
                "<li>{} <b>{}</b>: {share}({} segments)</li>",
                badge(t.state),
                escape(&t.code),
                t.segments
            )
        })
        .collect();
    if !lasting.is_empty() {
        let _ = writeln!(o, "<ul class=\"reasons\">{}</ul>", lasting.join(""));
    }
    let _ = writeln!(
        o,
        "<div class=\"chart\">{}</div>",
        timeline_svg(reports, &cfg)
    );
    let _ = writeln!(
        o,
        "<table class=\"timeline\"><tr><th>#</th><th>time (s)</th><th>state</th><th>live (min)</th><th>usable / analysed</th><th>reasons</th></tr>"
    );
    for r in reports {
        let s = &r.segment;
        let live = s
            .signal(names::LIVENESS)
            .map_or("-".to_owned(), |l| format!("{:.3} ({:.3})", l.mean, l.min));
        let reasons: Vec<String> = r
            .assessment
            .reasons
            .iter()
            .map(|x| format!("<b>{}</b>: {}", escape(&x.code), escape(&x.message)))
            .collect();
        let _ = writeln!(
            o,
            "<tr class=\"segment\" data-state=\"{}\"><td>{}</td><td>{:.2}&ndash;{:.2}</td><td>{}</td><td>{live}</td><td>{} / {}</td><td>{}</td></tr>",
            r.assessment.state.as_str(),
            s.index,
            s.start_us as f64 / 1e6,
            s.end_us as f64 / 1e6,
            badge(r.assessment.state),
            s.counts.usable,
            s.counts.analysed,
            reasons.join("<br>")
        );
    }
    let _ = writeln!(o, "</table>");
}

const CHART_W: f64 = 900.0;
const CHART_H: f64 = 280.0;
const LEFT: f64 = 50.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const PLOT_H: f64 = 180.0;
const BAND_Y: f64 = TOP + PLOT_H + 12.0;
const BAND_H: f64 = 16.0;

fn state_colour(s: RiskState) -> &'static str {
    match s {
        RiskState::Clear => "#2e7d32",
        RiskState::Inconclusive => "#9e9e9e",
        RiskState::Suspicious => "#ef8f00",
        RiskState::Alert => "#c62828",
    }
}

/// Reads one score of a segment, if it was measured.
type ScoreOf = fn(&SegmentReport) -> Option<f32>;

/// The live score (mean and minimum per segment), the synthetic-face confidence and
/// the identity similarity over time, the liveness thresholds, and a band coloured by
/// each segment's state. Segments without duration (stills) are
/// drawn one unit wide each.
pub fn timeline_svg(reports: &[SegmentReport], cfg: &AnalysisConfig) -> String {
    let spans: Vec<(f64, f64)> = {
        let timed = reports
            .iter()
            .any(|r| r.segment.end_us > r.segment.start_us);
        reports
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if timed {
                    (
                        r.segment.start_us as f64 / 1e6,
                        r.segment.end_us as f64 / 1e6,
                    )
                } else {
                    (i as f64, i as f64 + 1.0)
                }
            })
            .collect()
    };
    let t0 = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let t1 = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let (t0, t1) = if t0.is_finite() && t1 > t0 {
        (t0, t1)
    } else {
        (0.0, 1.0)
    };
    let plot_w = CHART_W - LEFT - RIGHT;
    let x = |t: f64| LEFT + (t - t0) / (t1 - t0) * plot_w;
    let y = |v: f64| TOP + (1.0 - v.clamp(0.0, 1.0)) * PLOT_H;

    let mut o = String::new();
    let _ = writeln!(
        o,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart" width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" font-family="sans-serif" font-size="11">
<title>Live score and state over time</title>
<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{PLOT_H}" fill="white" stroke="#333333"/>"##
    );
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#eeeeee"/><text x="{2:.1}" y="{3:.1}" text-anchor="end">{v:.2}</text>"##,
            y(v),
            LEFT + plot_w,
            LEFT - 6.0,
            y(v) + 4.0
        );
    }
    for (label, v, colour) in [
        ("suspicious below", cfg.liveness.suspicious_below, "#ef8f00"),
        ("alert below", cfg.liveness.alert_below, "#c62828"),
    ] {
        let _ = writeln!(
            o,
            r#"<line class="threshold" x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="{colour}" stroke-dasharray="5 4"><title>{label} {v:.2}</title></line>"#,
            y(f64::from(v)),
            LEFT + plot_w
        );
    }
    for (name, pick, dash) in [("mean", 0, ""), ("min", 1, r#" stroke-dasharray="2 3""#)] {
        let points: Vec<String> = reports
            .iter()
            .zip(&spans)
            .filter_map(|(r, (a, b))| {
                let l = r.segment.signal(names::LIVENESS)?;
                let v = if pick == 0 { l.mean } else { l.min };
                Some(format!("{:.1},{:.1}", x((a + b) / 2.0), y(f64::from(v))))
            })
            .collect();
        if pick == 0 {
            // Markers too: a single segment (a still) makes no line.
            for p in &points {
                let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(o, r##"<circle cx="{cx}" cy="{cy}" r="3" fill="#0072B2"/>"##);
            }
        }
        if !points.is_empty() {
            let _ = writeln!(
                o,
                r##"<polyline class="liveness-{name}" fill="none" stroke="#0072B2" stroke-width="2"{dash} points="{}"><title>live score ({name})</title></polyline>"##,
                points.join(" ")
            );
        }
    }
    // The other scores a state can come from, on the same 0-1 axis.
    let others: [(&str, &str, &str, ScoreOf); 2] = [
        ("synthetic", "#D55E00", "synthetic-face confidence", |r| {
            r.assessment.synthetic_face_confidence
        }),
        ("identity", "#009E73", "identity similarity (median)", |r| {
            r.segment
                .signal(names::IDENTITY_SIMILARITY)
                .map(|s| s.median)
        }),
    ];
    for (class, colour, label, value) in others {
        let points: Vec<String> = reports
            .iter()
            .zip(&spans)
            .filter_map(|(r, (a, b))| {
                let v = value(r)?;
                Some(format!("{:.1},{:.1}", x((a + b) / 2.0), y(f64::from(v))))
            })
            .collect();
        if !points.is_empty() {
            let _ = writeln!(
                o,
                r##"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{label}</title></polyline>"##,
                points.join(" ")
            );
        }
    }
    for (r, (a, b)) in reports.iter().zip(&spans) {
        let state = r.assessment.state;
        let reason = r
            .assessment
            .reasons
            .first()
            .map_or("", |x| x.message.as_str());
        let _ = writeln!(
            o,
            r#"<rect class="state-{0}" x="{1:.1}" y="{BAND_Y}" width="{2:.1}" height="{BAND_H}" fill="{3}"><title>segment {4}: {0}. {5}</title></rect>"#,
            state.as_str(),
            x(*a),
            (x(*b) - x(*a)).max(1.0),
            state_colour(state),
            r.segment.index,
            escape(reason)
        );
    }
    let unit = if reports
        .iter()
        .any(|r| r.segment.end_us > r.segment.start_us)
    {
        "time (s)"
    } else {
        "segment"
    };
    for i in 0..=5 {
        let t = t0 + (t1 - t0) * f64::from(i) / 5.0;
        let _ = writeln!(
            o,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{t:.1}</text>"#,
            x(t),
            BAND_Y + BAND_H + 14.0
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{unit}; band: state of each segment; blue: live score (dotted: lowest), red: synthetic-face confidence, green: identity similarity</text>
<text x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {:.1})">score</text>
</svg>"#,
        LEFT + plot_w / 2.0,
        CHART_H - 8.0,
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0
    );
    o
}

fn state_changes(o: &mut String, changes: &[StateChangeRecord]) {
    let _ = writeln!(o, "<h2>State changes</h2>");
    if changes.is_empty() {
        let _ = writeln!(o, "<p>None: the state stayed clear throughout.</p>");
        return;
    }
    let _ = writeln!(
        o,
        "<table><tr><th>at (s)</th><th>from</th><th>to</th><th>reason</th></tr>"
    );
    for c in changes {
        let _ = writeln!(
            o,
            "<tr><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.at_us as f64 / 1e6,
            c.from.map_or(String::from("&ndash;"), badge),
            badge(c.to),
            escape(&c.reason)
        );
    }
    let _ = writeln!(o, "</table>");
}

fn models(o: &mut String, models_json: &str) {
    let models: Vec<Value> = serde_json::from_str(models_json).unwrap_or_default();
    let _ = writeln!(
        o,
        "<h2>Models</h2>\n<table><tr><th>model</th><th>version</th></tr>"
    );
    for m in &models {
        let _ = writeln!(
            o,
            "<tr class=\"model\"><td>{}</td><td>{}</td></tr>",
            escape(m["name"].as_str().unwrap_or("?")),
            escape(m["version"].as_str().unwrap_or("?"))
        );
    }
    let _ = writeln!(o, "</table>");
}

fn settings_block(o: &mut String, settings_json: &str) {
    let pretty = serde_json::from_str::<Value>(settings_json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| settings_json.to_owned());
    let _ = writeln!(
        o,
        "<details><summary>Settings</summary><pre>{}</pre></details>",
        escape(&pretty)
    );
}

fn badge(s: RiskState) -> String {
    badge_str(s.as_str())
}

fn badge_str(state: &str) -> String {
    if state.is_empty() {
        return String::new();
    }
    format!("<span class=\"state {0}\">{0}</span>", escape(state))
}

fn table_kv(o: &mut String, rows: &[(&str, String)]) {
    let _ = writeln!(o, "<table class=\"meta\">");
    for (k, v) in rows.iter().filter(|(_, v)| !v.is_empty()) {
        let _ = writeln!(o, "<tr><th>{k}</th><td>{}</td></tr>", escape(v));
    }
    let _ = writeln!(o, "</table>");
}

fn page_start(o: &mut String, title: &str) {
    let _ = writeln!(
        o,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Candor report: {0}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1000px; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }}
table.meta th {{ color: #666; font-weight: normal; }}
.state {{ padding: 1px 8px; border-radius: 8px; color: white; font-size: 0.9em; }}
.clear {{ background: #2e7d32; }} .inconclusive {{ background: #9e9e9e; }}
.suspicious {{ background: #ef8f00; }} .alert {{ background: #c62828; }}
.verdict {{ font-size: 1.1em; }}
</style></head><body>
<h1>Candor report: {0}</h1>"#,
        escape(title)
    );
}

fn page_end(o: &mut String) {
    let _ = writeln!(o, "</body></html>");
}

/// Unix ms as an ISO-8601 UTC time, without a date library.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(
            utc(1_764_547_200_000 + 3_723_000),
            "2025-12-01 01:02:03 UTC"
        );
    }

    #[test]
    fn an_empty_chart_is_still_a_chart() {
        let svg = timeline_svg(&[], &AnalysisConfig::default());
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"threshold\"").count(), 2);
    }
}
