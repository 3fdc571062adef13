//! `candor eval` end to end: the real binary and models on labelled stills and short
//! clips, plus checks of the manifests in tests/manifests against the data folders.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use candor_eval::{Label, Manifest};
use serde_json::Value;
use support::{candor, data, data_dir, repo_root};

fn manifest(name: &str) -> PathBuf {
    repo_root().join("tests/manifests").join(name)
}

/// Runs `candor eval` with a small bootstrap (fast, still deterministic).
fn eval(manifest: &Path, media_dir: &Path, out: &Path) -> Output {
    candor(&[
        "eval",
        manifest.to_str().unwrap(),
        "--media-dir",
        media_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--bootstrap",
        "200",
    ])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read_json(path: &Path) -> Value {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn score<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no score {name} in {}", report["scores"]))
}

/// The Silent-Face stills: the printed photo (live 0.21) and the tablet screen (0.00)
/// both score below the live face (1.00), so liveness separates spoof from real
/// perfectly; both are alerts and the live face is clear.
#[test]
fn spoof_stills_are_separated_by_liveness() {
    let out = tempfile::tempdir().unwrap();
    let media = data_dir().join("spoof-samples");
    let run = eval(&manifest("spoof-samples.tsv"), &media, out.path());
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(
        run.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    eprintln!("{stdout}");

    let r = read_json(&out.path().join("eval.json"));
    assert_eq!(r["files_total"], 3);
    assert_eq!(r["files_failed"], 0);
    let live = score(&r, "liveness.mean");
    assert_eq!(live["orientation"], "lower_is_attack");
    let spoof = &live["auc"]["spoof_vs_real"];
    assert_eq!(spoof["auc"], 1.0, "{live}");
    assert_eq!(
        (spoof["n_attack"].as_u64(), spoof["n_real"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(spoof["ci"]["low"], 1.0);
    assert_eq!(live["auc"]["any_attack_vs_real"]["auc"], 1.0);
    // No fake in this manifest: no AUC, said so.
    assert!(live["auc"]["fake_vs_real"]["auc"].is_null());
    assert_eq!(live["auc"]["fake_vs_real"]["n_attack"], 0);
    assert_eq!(score(&r, "worst_state")["auc"]["spoof_vs_real"]["auc"], 1.0);

    // Both attacks alert, the live face clear: no APCER, no BPCER, no false alert.
    assert_eq!(r["pad"][0]["attack_from"], "alert");
    assert_eq!(r["pad"][0]["bpcer"]["rate"], 0.0);
    assert_eq!(r["pad"][0]["apcer_by_label"]["spoof"]["rate"], 0.0);
    assert_eq!(r["pad"][0]["apcer_by_kind"]["spoof/print"]["total"], 1);
    assert_eq!(r["confusion_files"]["spoof"]["alert"], 2);
    assert_eq!(r["confusion_files"]["real"]["clear"], 1);
    assert_eq!(r["false_alerts"]["alert"]["total"], 1);
    assert_eq!(r["false_alerts"]["alert"]["errors"], 0);

    let per_file = std::fs::read_to_string(out.path().join("per_file.jsonl")).unwrap();
    let rows: Vec<Value> = per_file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row}");
        assert_eq!(row["segments"].as_array().unwrap().len(), 1, "{row}");
    }
    assert_eq!(rows[0]["file"], "image_F1.jpg");
    assert_eq!(rows[0]["kind"], "print");
    assert_eq!(rows[0]["aggregate"]["worst_state"], "alert");

    let svg = std::fs::read_to_string(out.path().join("roc.svg")).unwrap();
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline"));
    assert!(svg.contains("liveness.mean (1.000)"), "{svg}");

    assert!(stdout.contains("spoof vs real"), "{stdout}");
    assert!(stdout.contains("1.000 [1.000, 1.000] n=2/1"), "{stdout}");
    assert!(stdout.contains("n/a n=0/1"), "{stdout}");

    // Every run also gives the attack score leave-one-group-out, first the fused one.
    let held_out = &r["meta"]["attack_score_leave_one_group_out"]["aucs"][0];
    assert_eq!(held_out["score"], "attack_score (fused, calibrated)");
    assert_eq!(held_out["spoof_vs_real"], 1.0, "{held_out}");
    assert!(held_out["fake_vs_real"].is_null(), "{held_out}");
    assert!(
        stdout.contains("leave-one-group-out, file means:")
            && stdout.contains("attack_score (fused, calibrated)"),
        "{stdout}"
    );
    // And the synthetic-face rule's held-out states, which need fakes to fit on.
    let synthetic = r["meta"]["synthetic_face_leave_one_group_out"]
        .as_str()
        .unwrap_or_default();
    assert!(synthetic.starts_with("n/a: cannot fit"), "{synthetic}");
    assert!(
        stdout.contains("Synthetic-face rule, leave-one-group-out: n/a (cannot fit"),
        "{stdout}"
    );
}

/// Real studio clips next to a file that cannot be decoded: the bad file is reported as
/// failed (exit code 1, listed with its line) and every other file is still evaluated.
#[test]
fn undecodable_file_is_reported_and_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("garbage.mp4"), garbage).unwrap();
    std::fs::copy(
        data("talking-heads/grid_bbaf2n.mp4"),
        dir.path().join("grid_bbaf2n.mp4"),
    )
    .unwrap();
    std::fs::copy(
        data("spoof-samples/image_F2.jpg"),
        dir.path().join("image_F2.jpg"),
    )
    .unwrap();
    let list = dir.path().join("m.tsv");
    std::fs::write(
        &list,
        "# file\tlabel\tkind\n\
         grid_bbaf2n.mp4\treal\tgrid\n\
         garbage.mp4\tfake\tface_swap\n\
         image_F2.jpg\tspoof\tscreen\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let recording = dir.path().join("segments.jsonl");
    // No --media-dir: paths are relative to the manifest's folder.
    let run_eval = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "eval",
            list.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--bootstrap",
            "0",
        ];
        args.extend_from_slice(extra);
        candor(&args)
    };
    let run = run_eval(&out, &["--save-segments", recording.to_str().unwrap()]);
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(
        run.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let r = read_json(&out.join("eval.json"));
    assert_eq!(
        (r["files_total"].as_u64(), r["files_failed"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(r["labels"]["fake"]["failed"], 1);
    let bad = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "garbage.mp4")
        .unwrap();
    assert_eq!(bad["status"], "failed");
    assert!(
        bad["error"].as_str().unwrap().contains("not a recognised"),
        "{bad}"
    );
    // The failed fake takes no part in the metrics.
    let live = score(&r, "liveness.mean");
    assert_eq!(live["auc"]["fake_vs_real"]["n_attack"], 0);
    assert_eq!(live["auc"]["spoof_vs_real"]["auc"], 1.0);
    assert!(
        live["auc"]["spoof_vs_real"].get("ci").is_none(),
        "--bootstrap 0"
    );
    // 3 s clip at 2 s segments: two real segments.
    assert_eq!(r["false_alerts"]["alert"]["total"], 2);
    assert!(stdout.contains("line 3: garbage.mp4:"), "{stdout}");
    assert!(stderr.contains("1 of 3 files failed"), "{stderr}");

    // Judged again from the recorded segments, without the models: the same report,
    // the failed file still failed.
    let rejudge = |out: &Path, extra: &[&str]| {
        let mut args = vec!["--segments", recording.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = run_eval(out, &args);
        assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
        read_json(&out.join("eval.json"))
    };
    let again = rejudge(&dir.path().join("again"), &[]);
    for key in ["files", "scores", "false_alerts", "confusion_files"] {
        assert_eq!(again[key], r[key], "{key}");
    }
    // Under other thresholds the same segments are judged anew: with no live score low
    // enough to alert, the screen still is no longer an alert.
    let cfg = dir.path().join("lenient.toml");
    std::fs::write(
        &cfg,
        "[liveness]\nalert_below = 0.0\nsuspicious_below = 0.0\nalert_alone_below = 0.0\n",
    )
    .unwrap();
    let lenient = rejudge(
        &dir.path().join("lenient"),
        &["--config", cfg.to_str().unwrap()],
    );
    let screen = |r: &Value| {
        r["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == "image_F2.jpg")
            .unwrap()["aggregate"]["worst_state"]
            .clone()
    };
    assert_eq!(screen(&r), "alert");
    assert_eq!(screen(&lenient), "clear");
    // A manifest file the recording does not hold is named.
    std::fs::copy(
        dir.path().join("image_F2.jpg"),
        dir.path().join("other.jpg"),
    )
    .unwrap();
    let other = dir.path().join("other.tsv");
    std::fs::write(&other, "file\tlabel\nother.jpg\tspoof\n").unwrap();
    let run = candor(&[
        "eval",
        other.to_str().unwrap(),
        "--out",
        dir.path().join("other").to_str().unwrap(),
        "--segments",
        recording.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    let err = text(&run.stderr);
    assert!(
        err.contains("other.jpg is not in the segment recording"),
        "{err}"
    );
}

/// Manifest problems stop the run before any model is loaded, naming the line.
#[test]
fn bad_manifests_fail_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let media = data_dir().join("spoof-samples");
    let out = dir.path().join("out");
    for (name, body, want) in [
        (
            "label.tsv",
            "file\tlabel\nimage_F1.jpg\tspoof\n# comment\nimage_T1.jpg\tmaybe\n",
            vec!["line 4", "unknown label \"maybe\""],
        ),
        (
            "missing.tsv",
            "file\tlabel\tkind\nimage_F1.jpg\tspoof\tprint\n\nimage_F9.jpg\tspoof\tprint\n",
            vec!["line 4", "file not found", "image_F9.jpg"],
        ),
        (
            "column.tsv",
            "file\tkind\nimage_F1.jpg\tprint\n",
            vec!["line 1", "no column \"label\""],
        ),
    ] {
        let list = dir.path().join(name);
        std::fs::write(&list, body).unwrap();
        let run = eval(&list, &media, &out);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{name}: {stderr}");
        for w in want {
            assert!(
                stderr.contains(w),
                "{name}: {stderr:?} should mention {w:?}"
            );
        }
        assert!(
            stderr.contains(name),
            "{name}: names the manifest: {stderr}"
        );
        assert!(!out.join("eval.json").exists(), "{name}: nothing evaluated");
    }
}

/// Every media file of each data folder is listed exactly once in its manifest, and
/// all.tsv is their union (same labels and kinds) with paths under the data root.
#[test]
fn manifests_list_every_data_file_once() {
    let mut union = BTreeSet::new();
    for folder in ["spoof-samples", "talking-heads", "deepfake-samples"] {
        let m = Manifest::load(&manifest(&format!("{folder}.tsv"))).unwrap();
        let dir = data_dir().join(folder);
        m.check_files(&dir).unwrap();
        let listed: BTreeSet<String> = m.entries.iter().map(|e| e.file.clone()).collect();
        assert_eq!(listed.len(), m.entries.len(), "{folder}: listed twice");
        let present: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "README.md")
            .collect();
        assert_eq!(listed, present, "{folder}: manifest and folder differ");
        for e in &m.entries {
            assert!(e.kind.is_some(), "{folder} line {}: no kind", e.line);
            union.insert((format!("{folder}/{}", e.file), e.label, e.kind.clone()));
        }
    }
    let all = Manifest::load(&manifest("all.tsv")).unwrap();
    all.check_files(&data_dir()).unwrap();
    let got: BTreeSet<_> = all
        .entries
        .iter()
        .map(|e| (e.file.clone(), e.label, e.kind.clone()))
        .collect();
    assert_eq!(got.len(), all.entries.len());
    assert_eq!(got, union);
    assert_eq!(all.count(Label::Spoof), 2);
}
