//! `candor analyze` end to end: the real binary, the real models, real media.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{analyze_json, data, ffmpeg, frozen_video, has_reason, of_kind, still_frame};

fn state(v: &Value) -> &str {
    v["state"]
        .as_str()
        .or(v["worst_state"].as_str())
        .unwrap_or("?")
}

fn liveness_mean(seg: &Value) -> f64 {
    seg["signals"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "liveness"))
        .and_then(|s| s["mean"].as_f64())
        .unwrap_or_else(|| panic!("segment has no liveness: {seg}"))
}

/// The three Silent-Face stills: printed photo and tablet screen are presentation
/// attacks, T1 is live. One face each, and the state follows.
#[test]
fn spoof_stills_are_judged_by_liveness() {
    let f1 = data("spoof-samples/image_F1.jpg");
    let f2 = data("spoof-samples/image_F2.jpg");
    let t1 = data("spoof-samples/image_T1.jpg");
    let (code, lines, stderr) = analyze_json(&[&f1, &f2, &t1], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    for (file, want, live_ok) in [
        (&f1, "alert", (0.0, 0.5)),
        (&f2, "alert", (0.0, 0.5)),
        (&t1, "clear", (0.6, 1.0)),
    ] {
        let segs = of_kind(&lines, "segment", file);
        assert_eq!(segs.len(), 1, "{}: {segs:?}", file.display());
        let seg = segs[0];
        assert_eq!(seg["counts"]["one_face"], 1, "{seg}");
        assert_eq!(seg["counts"]["analysed"], 1, "{seg}");
        let live = liveness_mean(seg);
        eprintln!("{}: live {live:.3}, state {}", file.display(), state(seg));
        assert!(
            live >= live_ok.0 && live <= live_ok.1,
            "{}: live {live}",
            file.display()
        );
        assert_eq!(state(seg), want, "{seg}");
        assert_eq!(
            seg["reasons"][0]["code"],
            if want == "alert" {
                "liveness_low"
            } else {
                "live_face"
            }
        );
        let summary = of_kind(&lines, "summary", file);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0]["worst_state"], want);
    }
}

/// Real talking-head clips (GRID corpus): one face on every analysed frame, every
/// segment judged, and each state explained by a reason.
#[test]
fn real_face_videos_have_one_face_per_analysed_frame() {
    let clips = [
        "grid_bbaf2n.mp4",
        "grid_brbk7n.mp4",
        "grid_lbax4n.mp4",
        "grid_swiz3n.mp4",
    ]
    .map(|c| data(&format!("talking-heads/{c}")));
    let refs: Vec<&Path> = clips.iter().map(|p| p.as_path()).collect();
    let (code, lines, stderr) = analyze_json(&refs, &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    for clip in &clips {
        let segs = of_kind(&lines, "segment", clip);
        // 3.00 s at 2 s segments: [0, 2) and [2, 3)
        assert_eq!(segs.len(), 2, "{}", clip.display());
        let decoded: u64 = segs
            .iter()
            .map(|s| s["counts"]["decoded"].as_u64().unwrap())
            .sum();
        let analysed: u64 = segs
            .iter()
            .map(|s| s["counts"]["analysed"].as_u64().unwrap())
            .sum();
        assert_eq!(decoded, 75, "{}", clip.display());
        // 2 fps over 3 s: frames at 0, 0.5, ..., 2.5 s
        assert_eq!(analysed, 6, "{}", clip.display());
        for s in &segs {
            assert_eq!(s["counts"]["one_face"], s["counts"]["analysed"], "{s}");
            assert!(!s["reasons"].as_array().unwrap().is_empty(), "{s}");
            let live = liveness_mean(s);
            eprintln!(
                "{} seg {}: live {live:.3} -> {} ({})",
                clip.display(),
                s["index"],
                state(s),
                s["reasons"][0]["message"]
            );
        }
        let summary = &of_kind(&lines, "summary", clip)[0];
        assert_eq!(summary["counts"]["no_face"], 0);
        assert_eq!(summary["stream"]["codec"], "h264");
        assert_eq!(summary["stream"]["width"], 360);
    }
}

/// A replay of the tablet-screen still as a video (a slow zoom, as a phone held to the
/// camera would give) is a presentation attack. The picture moves, so nothing but the
/// live score backs it: the first segment is suspicious, waiting for the alert to hold,
/// and the second an alert.
#[test]
fn video_of_a_screen_replay_is_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("f2_replay.mp4");
    let f2 = data("spoof-samples/image_F2.jpg");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        f2.to_str().unwrap(),
        "-t",
        "4",
        "-r",
        "25",
        "-vf",
        "scale=720:-2,zoompan=z='1+0.0008*on':d=1:s=720x960:fps=25,format=yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        clip.to_str().unwrap(),
    ]);
    let (code, lines, stderr) = analyze_json(&[&clip], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let segs = of_kind(&lines, "segment", &clip);
    assert_eq!(segs.len(), 2);
    for (s, expected) in segs.iter().zip(["suspicious", "alert"]) {
        eprintln!(
            "replay seg {}: live {:.3} -> {}",
            s["index"],
            liveness_mean(s),
            state(s)
        );
        assert_eq!(state(s), expected, "{s}");
        assert_eq!(s["reasons"][0]["signal"], "liveness");
    }
    let waiting = segs[0]["reasons"][0]["message"].as_str().unwrap();
    assert!(
        waiting.contains("alert once it holds 2 segments"),
        "{waiting}"
    );
    assert_eq!(of_kind(&lines, "summary", &clip)[0]["worst_state"], "alert");
}

/// Bad inputs each give a clear error naming the problem, exit code 1, and do not stop
/// the good file after them from being analysed.
#[test]
fn bad_inputs_fail_clearly_and_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.path().join("garbage.mp4");
    let bytes: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, bytes).unwrap();
    let full = dir.path().join("full.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-t",
        "2",
        "-c:v",
        "libx264",
        full.to_str().unwrap(),
    ]);
    let truncated = dir.path().join("truncated.mp4");
    let all = std::fs::read(&full).unwrap();
    std::fs::write(&truncated, &all[..all.len() / 3]).unwrap();
    let audio = dir.path().join("audio_only.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        "1",
        audio.to_str().unwrap(),
    ]);
    let missing = dir.path().join("does_not_exist.mp4");
    let good = data("spoof-samples/image_T1.jpg");

    let (code, lines, stderr) = analyze_json(
        &[&empty, &garbage, &truncated, &audio, &missing, &good],
        &[],
    );
    assert_eq!(code, 1, "stderr: {stderr}");
    let expect = [
        (&empty, "empty"),
        (&garbage, "not a recognised video or image"),
        (&truncated, "truncated"),
        (&audio, "no video"),
        (&missing, "no such file"),
    ];
    for (file, words) in expect {
        let errs = of_kind(&lines, "error", file);
        assert_eq!(errs.len(), 1, "{}: {lines:?}", file.display());
        let msg = errs[0]["error"].as_str().unwrap().to_lowercase();
        assert!(
            msg.contains(words),
            "{}: {msg:?} should mention {words:?}",
            file.display()
        );
        assert!(
            stderr.contains(&file.display().to_string()),
            "stderr names the file"
        );
    }
    assert_eq!(
        of_kind(&lines, "summary", &good).len(),
        1,
        "the good file still ran"
    );
}

/// Every supported container goes through the whole pipeline.
#[test]
fn containers_analyse_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("talking-heads/grid_swiz3n.mp4");
    let s = src.to_str().unwrap();
    let out = |n: &str| dir.path().join(n);
    let webm = out("clip.webm");
    ffmpeg(&[
        "-i",
        s,
        "-an",
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "1M",
        webm.to_str().unwrap(),
    ]);
    let frag = out("clip_frag.mp4");
    ffmpeg(&[
        "-i",
        s,
        "-an",
        "-c:v",
        "copy",
        "-movflags",
        "frag_keyframe+empty_moov",
        frag.to_str().unwrap(),
    ]);
    let annexb = out("clip.h264");
    ffmpeg(&[
        "-i",
        s,
        "-an",
        "-c:v",
        "copy",
        "-bsf:v",
        "h264_mp4toannexb",
        "-f",
        "h264",
        annexb.to_str().unwrap(),
    ]);
    let png = out("frame.png");
    ffmpeg(&["-i", s, "-frames:v", "1", png.to_str().unwrap()]);
    let (code, lines, stderr) = analyze_json(&[&webm, &frag, &annexb, &png], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    for (file, frames) in [(&webm, 75), (&frag, 75), (&annexb, 75), (&png, 1)] {
        let summary = of_kind(&lines, "summary", file);
        assert_eq!(summary.len(), 1, "{}: {lines:?}", file.display());
        assert_eq!(
            summary[0]["counts"]["decoded"],
            frames,
            "{}",
            file.display()
        );
        assert_eq!(summary[0]["counts"]["no_face"], 0, "{}", file.display());
    }
}

/// A camera showing nothing (black frames) cannot be judged: inconclusive, with the
/// reason "no face", never clear and never an error.
#[test]
fn black_frames_read_as_camera_off_not_clear() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("black.webm");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:size=640x480:rate=15",
        "-t",
        "3",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        clip.to_str().unwrap(),
    ]);
    let (code, lines, stderr) = analyze_json(&[&clip], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let segs = of_kind(&lines, "segment", &clip);
    assert_eq!(segs.len(), 2);
    for s in &segs {
        assert_eq!(state(s), "inconclusive", "{s}");
        assert_eq!(s["abstain"], "camera_off");
        assert_eq!(s["reasons"][0]["code"], "camera_off");
        assert!(
            s["reasons"][0]["message"]
                .as_str()
                .unwrap()
                .contains("camera off"),
            "{s}"
        );
        assert_eq!(s["counts"]["no_face"], s["counts"]["analysed"]);
    }
    assert_eq!(
        of_kind(&lines, "summary", &clip)[0]["worst_state"],
        "inconclusive"
    );
}

/// The default output is a readable table with one row per segment and a summary.
#[test]
fn table_output_has_a_row_per_segment() {
    let clip = data("talking-heads/grid_lbax4n.mp4");
    let out = support::candor(&["analyze", clip.to_str().unwrap(), "--segment-ms", "1000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows.iter()
            .all(|r| r.contains("clear") || r.contains("suspicious")),
        "{text}"
    );
    assert!(text.contains("summary:"), "{text}");
    assert!(text.contains("models: yunet_s"), "{text}");
}

fn signal<'a>(seg: &'a Value, name: &str) -> Option<&'a Value> {
    seg["signals"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
}

/// The face-forgery analysers come from the manifest: with `all`, both Meso4 variants
/// report P(fake) in every segment under their own model name, and the synthetic-face
/// rule turns them into a confidence. On the FF++-style pair (one face, re-enacted in
/// the fake) the F2F variant separates the two clips as the model manifest records
/// (0.71 vs 0.08 there). By default only the classifiers the fusion reads run.
#[test]
fn forgery_models_report_per_segment_and_feed_the_synthetic_rule() {
    let fake = data("deepfake-samples/ffpp_style_fake_cyshih704.mp4");
    let real = data("deepfake-samples/ffpp_style_real_cyshih704.mp4");
    let (code, lines, stderr) = analyze_json(&[&fake, &real], &["--forgery-models", "all"]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let mut f2f_means = Vec::new();
    for file in [&fake, &real] {
        let segs = of_kind(&lines, "segment", file);
        assert_eq!(segs.len(), 5, "{}", file.display());
        let mut sum = 0.0;
        for seg in &segs {
            for (name, model) in [
                ("meso4_df_fake", "meso4_df"),
                ("meso4_f2f_fake", "meso4_f2f"),
                ("sbi_fake", "sbi_lite0"),
            ] {
                let s = signal(seg, name).unwrap_or_else(|| panic!("{name} missing: {seg}"));
                assert_eq!(s["source"]["name"], model, "{s}");
                let v = s["mean"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&v), "{s}");
            }
            sum += signal(seg, "meso4_f2f_fake").unwrap()["mean"]
                .as_f64()
                .unwrap();
            let conf = seg["synthetic_face_confidence"]
                .as_f64()
                .expect("synthetic-face confidence");
            assert!((0.0..=1.0).contains(&conf), "{seg}");
        }
        f2f_means.push(sum / segs.len() as f64);
        let summary = of_kind(&lines, "summary", file)[0];
        let models: Vec<&str> = summary["models"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["name"].as_str())
            .collect();
        assert!(
            models.contains(&"meso4_df") && models.contains(&"meso4_f2f"),
            "{models:?}"
        );
    }
    eprintln!(
        "meso4_f2f_fake mean: fake {:.3}, real {:.3}",
        f2f_means[0], f2f_means[1]
    );
    assert!(f2f_means[0] > 0.4 && f2f_means[1] < 0.15, "{f2f_means:?}");

    // By default only the fused detectors run (the shipped fit reads `sbi_fake` and
    // `meso4_df_fake`).
    let (code, lines, _) = analyze_json(&[&real], &[]);
    assert_eq!(code, 0);
    let seg = of_kind(&lines, "segment", &real)[0];
    assert!(signal(seg, "sbi_fake").is_some(), "{seg}");
    assert!(signal(seg, "meso4_df_fake").is_some(), "{seg}");
    assert!(signal(seg, "meso4_f2f_fake").is_none(), "{seg}");

    // --forgery-models none turns them off.
    let (code, lines, _) = analyze_json(&[&real], &["--forgery-models", "none"]);
    assert_eq!(code, 0);
    let seg = of_kind(&lines, "segment", &real)[0];
    assert!(
        signal(seg, "meso4_df_fake").is_none()
            && signal(seg, "sbi_fake").is_none()
            && seg.get("synthetic_face_confidence").is_none()
    );
}

/// Two 3 s clips joined end to end, as the test makes them.
fn joined(first: &Path, second: &Path, out: &Path) {
    ffmpeg(&[
        "-i",
        first.to_str().unwrap(),
        "-i",
        second.to_str().unwrap(),
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1:a=0[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        out.to_str().unwrap(),
    ]);
}

/// One person, then (at 3.0 s) another in the same seat: the segment holding the cut
/// (2-4 s) raises `identity_changed` on its one check after the cut, and the next check
/// (next segment) makes it an alert; the same person joined to herself never does.
#[test]
fn a_different_person_after_a_cut_is_an_identity_alert_once_a_second_check_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let man = data("talking-heads/grid_bbaf2n.mp4");
    let woman = data("talking-heads/grid_brbk7n.mp4");
    let cut = dir.path().join("cut.mp4");
    let same = dir.path().join("same.mp4");
    joined(&man, &woman, &cut);
    joined(&woman, &woman, &same);
    let (code, lines, stderr) = analyze_json(&[&cut, &same], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");

    let segs = of_kind(&lines, "segment", &cut);
    assert_eq!(segs.len(), 3);
    let first_change = segs
        .iter()
        .position(|s| s["reasons"][0]["code"] == "identity_changed")
        .expect("an identity alert");
    assert_eq!(first_change, 1, "the cut at 3.0 s lies in segment 1");
    assert_eq!(state(segs[1]), "suspicious", "{}", segs[1]);
    assert_eq!(state(segs[2]), "alert", "{}", segs[2]);
    assert_eq!(segs[2]["reasons"][0]["code"], "identity_changed");
    for seg in &segs[1..] {
        let sim = signal(seg, "identity_similarity").unwrap();
        assert!(sim["median"].as_f64().unwrap() < 0.363, "{sim}");
        assert_eq!(sim["source"]["name"], "sface");
    }

    for seg in of_kind(&lines, "segment", &same) {
        let codes: Vec<&str> = seg["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert!(!codes.iter().any(|c| c.starts_with("identity")), "{seg}");
        if let Some(sim) = signal(seg, "identity_similarity") {
            assert!(sim["min"].as_f64().unwrap() > 0.8, "{sim}");
        }
    }
}

/// One real frame repeated for 6 s (a frozen feed, or a still sent as video) reads
/// `frozen_video` in every segment, although the face on it is live; the moving clip it
/// was taken from never does.
#[test]
fn a_frozen_picture_is_flagged_and_a_moving_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let clip = data("talking-heads/grid_bbaf2n.mp4");
    let still = dir.path().join("frame.png");
    let frozen = dir.path().join("frozen.mp4");
    still_frame(&clip, 0.4, &still);
    frozen_video(&still, 6, 25, &frozen);
    let (code, lines, stderr) = analyze_json(&[&frozen, &clip], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let has_frozen = |seg: &Value| has_reason(seg, "frozen_video");
    let segs = of_kind(&lines, "segment", &frozen);
    assert_eq!(segs.len(), 3);
    for seg in &segs {
        assert!(has_frozen(seg), "{seg}");
        assert_eq!(state(seg), "suspicious", "{seg}");
    }
    for seg in of_kind(&lines, "segment", &clip) {
        assert!(!has_frozen(seg), "{seg}");
        let change = signal(seg, "frame_change").unwrap();
        assert!(change["min"].as_f64().unwrap() > 0.5, "{change}");
    }
}

/// A 2.4 s stretch of a real clip played three times (re-encoded, as a virtual camera
/// would send it) reads `looped_video` once the replays begin; the clip it was cut
/// from never does.
#[test]
fn a_looped_clip_is_flagged_and_its_source_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let clip = data("deepfake-samples/lp_d6_real.mp4");
    let cut = dir.path().join("cut.mp4");
    let looped = dir.path().join("looped.mp4");
    let clip_arg = clip.to_str().unwrap();
    ffmpeg(&[
        "-ss",
        "1",
        "-t",
        "2.4",
        "-i",
        clip_arg,
        "-an",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        cut.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-stream_loop",
        "2",
        "-i",
        cut.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        looped.to_str().unwrap(),
    ]);
    let (code, lines, stderr) = analyze_json(&[&looped, &clip], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let has_loop = |seg: &Value| has_reason(seg, "looped_video");
    let segs = of_kind(&lines, "segment", &looped);
    assert_eq!(segs.len(), 4);
    // The first play (0-2.4 s) is new material; from 4 s on every frame is a replay.
    assert!(!has_loop(segs[0]), "{}", segs[0]);
    for seg in &segs[2..] {
        assert!(has_loop(seg), "{seg}");
        // Suspicious, and alert once the loop has held for 3 segments in a row.
        assert!(["suspicious", "alert"].contains(&state(seg)), "{seg}");
        let share = signal(seg, "looped").unwrap();
        assert!(share["mean"].as_f64().unwrap() > 0.5, "{share}");
    }
    for seg in of_kind(&lines, "segment", &clip) {
        assert!(!has_loop(seg), "{seg}");
        assert_eq!(
            signal(seg, "looped").unwrap()["max"].as_f64(),
            Some(0.0),
            "{seg}"
        );
    }
}

/// A still of a real face panned across the picture for 8 s (a photo moved in front of
/// the camera, or a still sent as video with motion added) reads `rigid_motion` in most
/// segments; the clips the stills come from never do. Two people, so the check is not
/// fitted to one face.
#[test]
fn a_panned_still_moves_rigidly_and_its_source_clip_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let has_rigid = |seg: &Value| has_reason(seg, "rigid_motion");
    for name in ["lp_d6_real", "retalking_2_real"] {
        let clip = data(&format!("deepfake-samples/{name}.mp4"));
        let still = dir.path().join(format!("{name}.png"));
        let panned = dir.path().join(format!("{name}_panned.mp4"));
        still_frame(&clip, 2.0, &still);
        ffmpeg(&[
            "-loop",
            "1",
            "-i",
            still.to_str().unwrap(),
            "-t",
            "8",
            "-r",
            "25",
            "-vf",
            "scale=720:576,crop=640:480:x='40*(1+sin(t))':y='30*(1+cos(0.7*t))'",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            panned.to_str().unwrap(),
        ]);
        let (code, lines, stderr) = analyze_json(&[&panned, &clip], &[]);
        assert_eq!(code, 0, "stderr: {stderr}");
        let segs = of_kind(&lines, "segment", &panned);
        assert_eq!(segs.len(), 4, "{name}");
        let rigid = segs.iter().filter(|s| has_rigid(s)).count();
        assert!(rigid >= 2, "{name}: {rigid} of 4 segments rigid: {segs:?}");
        for seg in of_kind(&lines, "segment", &clip) {
            assert!(!has_rigid(seg), "{name}: {seg}");
        }
    }
}

/// Glancing at the eyes 15 times a second, segments count blinks: a real clip whose
/// subject blinks four times (seen at 30 frames a second: 1.0, 5.1, 7.5, 8.3 s) reads
/// at least three, the same face frozen none, though its eyes were read as often. By
/// default a clear stream does not glance, so its segments count no blinks.
#[test]
fn blinks_are_counted_on_a_live_face_and_not_on_a_frozen_one() {
    let dir = tempfile::tempdir().unwrap();
    let clip = data("deepfake-samples/ffpp_style_real_cyshih704.mp4");
    let still = dir.path().join("still.png");
    let frozen = dir.path().join("frozen.mp4");
    still_frame(&clip, 3.0, &still);
    frozen_video(&still, 10, 25, &frozen);
    let (code, lines, stderr) = analyze_json(&[&clip, &frozen], &["--idle-glance-fps", "15"]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let blinks = |file: &Path| -> f64 {
        of_kind(&lines, "segment", file)
            .iter()
            .map(|seg| {
                let b = signal(seg, "blinks").unwrap_or_else(|| panic!("no blinks: {seg}"));
                b["mean"].as_f64().unwrap() * b["frames"].as_f64().unwrap()
            })
            .sum()
    };
    let live = blinks(&clip);
    assert!((3.0..=5.0).contains(&live.round()), "{live}");
    assert_eq!(blinks(&frozen), 0.0);

    let clear_clip = data("deepfake-samples/retalking_1_real.mp4");
    let (code, lines, stderr) = analyze_json(&[&clear_clip], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let segs = of_kind(&lines, "segment", &clear_clip);
    let mut checked = 0;
    for (i, seg) in segs.iter().enumerate() {
        // A segment glances at the rate its predecessors' states set.
        if segs[i.saturating_sub(2)..i]
            .iter()
            .all(|s| state(s) == "clear")
        {
            assert!(
                signal(seg, "blinks").is_none(),
                "glanced while clear: {seg}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "{segs:?}");
}

/// Head pose from the face mesh matches the model manifest's reference on the stills
/// (solvePnP there: T1 -25 degrees, F1 +28), and the eye and mouth ratios lie in the
/// ranges it measured (open eyes 0.22-0.45, closed mouths 0.01-0.06).
#[test]
fn mesh_signals_match_the_reference_head_pose() {
    let t1 = data("spoof-samples/image_T1.jpg");
    let f1 = data("spoof-samples/image_F1.jpg");
    let (code, lines, stderr) = analyze_json(&[&t1, &f1], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    for (file, yaw_ref) in [(&t1, -25.0), (&f1, 28.0)] {
        let seg = of_kind(&lines, "segment", file)[0];
        let yaw = signal(seg, "head_yaw").unwrap();
        assert_eq!(yaw["source"]["name"], "face_mesh");
        let y = yaw["mean"].as_f64().unwrap();
        assert!((y - yaw_ref).abs() < 4.0, "{}: yaw {y}", file.display());
        let ear = signal(seg, "eye_openness").unwrap()["mean"]
            .as_f64()
            .unwrap();
        assert!((0.2..=0.46).contains(&ear), "{ear}");
        let mouth = signal(seg, "mouth_open").unwrap()["mean"].as_f64().unwrap();
        assert!((0.0..=0.08).contains(&mouth), "{mouth}");
        assert!(!seg["reasons"].to_string().contains("looking_away"));
    }
}
