//! `candor batch` end to end: the real binary, the real models, real media, and a real
//! `kill -9` in the middle of a run.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use candor_store::{JobFileStatus, JobRecord, SqliteStore, Store};
use serde_json::Value;
use support::{data, data_dir, repo_root, screen_replay};

const TENANT: &str = "default";

fn batch_command(data: &Path, out: &Path, inputs: &[String], extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_candor"));
    cmd.arg("batch")
        .arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(inputs)
        .current_dir(repo_root())
        .env_remove("CANDOR_LOG")
        .env_remove("CANDOR_DATA_DIR");
    cmd
}

fn batch(data: &Path, out: &Path, inputs: &[String], extra: &[&str]) -> Output {
    batch_command(data, out, inputs, extra)
        .output()
        .expect("run candor batch")
}

/// The one job recorded in `data`, if the run got that far.
fn the_job(data: &Path) -> Option<JobRecord> {
    if !data.join(candor_store::DB_FILE).is_file() {
        return None;
    }
    let store = SqliteStore::open(data).ok()?;
    let jobs = store.list_jobs(TENANT).ok()?;
    assert!(jobs.len() <= 1, "one command, one job: {jobs:?}");
    store.job(TENANT, &jobs.first()?.job_id).ok()
}

fn results(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("results.jsonl")).expect("results.jsonl");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Twelve inputs (a folder of four clips, a list with three stills, a replay video made
/// here, three longer clips and a corrupt file): the run is killed with SIGKILL once a
/// file is committed, then run again. Every file ends with exactly one result, equal to
/// that of an uninterrupted run with three files at once; the corrupt file is reported
/// as failed while the others complete; nothing done before the kill is scored again.
#[test]
fn killed_batch_resumes_to_one_result_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let corrupt = tmp.path().join("corrupt.mp4");
    std::fs::write(&corrupt, b"\0\0\0\x18ftypmp42 this is not a video at all").unwrap();
    screen_replay(tmp.path(), 3, 15);
    let list = tmp.path().join("inputs.txt");
    let stills: Vec<String> = ["image_F1.jpg", "image_F2.jpg", "image_T1.jpg"]
        .iter()
        .map(|f| data(&format!("spoof-samples/{f}")).display().to_string())
        .collect();
    std::fs::write(
        &list,
        format!("# spoof stills\n{}\nreplay.mp4\n", stills.join("\n")),
    )
    .unwrap();
    let mut inputs = vec![
        data_dir().join("talking-heads").display().to_string(),
        format!("@{}", list.display()),
    ];
    for clip in ["lp_d0_real", "retalking_1_real", "dfdcstyle_gl_real"] {
        inputs.push(
            data(&format!("deepfake-samples/{clip}.mp4"))
                .display()
                .to_string(),
        );
    }
    inputs.push(corrupt.display().to_string());
    let total = 4 + 3 + 1 + 3 + 1;

    // Reference: one uninterrupted run, three files at once.
    let (ref_data, ref_out) = (tmp.path().join("ref-data"), tmp.path().join("ref-out"));
    let reference = batch(&ref_data, &ref_out, &inputs, &["--jobs", "3"]);
    assert_eq!(reference.status.code(), Some(1), "{}", stderr(&reference));
    assert!(
        stderr(&reference).contains("corrupt.mp4: input is"),
        "{}",
        stderr(&reference)
    );
    let want = results(&ref_out);

    // The same batch, one file at a time, killed once a file is committed.
    let (data_d, out) = (tmp.path().join("data"), tmp.path().join("out"));
    let args = ["--jobs", "1"];
    let mut child = batch_command(&data_d, &out, &inputs, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn candor batch");
    let before_kill = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("batch ended ({status}) before a file was committed");
        }
        if let Some(job) = the_job(&data_d)
            && job.info.progress.done + job.info.progress.failed > 0
        {
            break job;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    child.wait().unwrap();
    let after_kill = the_job(&data_d).expect("job recorded");
    let finished: HashMap<String, Option<i64>> = after_kill
        .files
        .iter()
        .filter(|f| f.status != JobFileStatus::Pending)
        .map(|f| (f.path.clone(), f.completed_at))
        .collect();
    eprintln!("killed with {} of {total} files finished", finished.len());
    assert!(
        !finished.is_empty() && finished.len() < total,
        "the kill must land mid-batch: {} of {total} finished (first poll saw {:?})",
        finished.len(),
        before_kill.info.progress
    );

    // Run the same command again: it finishes the rest.
    let resumed = batch(&data_d, &out, &inputs, &args);
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    let done_before = after_kill
        .files
        .iter()
        .filter(|f| f.status == JobFileStatus::Done)
        .count();
    assert!(
        stderr(&resumed).contains(&format!("{done_before} already done, 1 failed")),
        "{}",
        stderr(&resumed)
    );
    let job = the_job(&data_d).unwrap();
    assert_eq!(job.files.len(), total, "one row per file: {:?}", job.files);
    for f in &job.files {
        let want_status = if f.path.ends_with("corrupt.mp4") {
            JobFileStatus::Failed
        } else {
            JobFileStatus::Done
        };
        assert_eq!(f.status, want_status, "{f:?}");
        if f.status == JobFileStatus::Done
            && let Some(at) = finished.get(&f.path)
        {
            assert_eq!(&f.completed_at, at, "{} was scored twice", f.path);
        }
    }
    assert_eq!(
        results(&out),
        want,
        "resumed results differ from an uninterrupted run"
    );

    // One summary per good file, one error for the corrupt one, in input order.
    let files: Vec<PathBuf> = want
        .iter()
        .filter(|v| v["type"] != "segment")
        .map(|v| PathBuf::from(v["file"].as_str().unwrap()))
        .collect();
    assert_eq!(files.len(), total, "{files:?}");
    assert_eq!(
        files.iter().collect::<std::collections::HashSet<_>>().len(),
        total
    );
    let errors: Vec<&Value> = want.iter().filter(|v| v["type"] == "error").collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], corrupt.display().to_string());
    let state_of = |name: &str| {
        want.iter()
            .find(|v| v["type"] == "summary" && v["file"].as_str().unwrap().ends_with(name))
            .map(|v| v["worst_state"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no summary for {name}"))
    };
    assert_eq!(state_of("image_F2.jpg"), "alert");
    assert_eq!(state_of("replay.mp4"), "alert");
    assert_eq!(state_of("image_T1.jpg"), "clear");
    assert_eq!(state_of("grid_bbaf2n.mp4"), "clear");

    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), total + 1, "{csv}");
    assert!(
        csv.lines().any(|l| l.contains("corrupt.mp4,failed,")),
        "{csv}"
    );

    // --force scores every file again, with the same results.
    let forced = batch(&data_d, &out, &inputs, &["--jobs", "2", "--force"]);
    assert!(
        stderr(&forced).contains(&format!("{} scored, 0 already done, 1 failed", total - 1)),
        "{}",
        stderr(&forced)
    );
    assert_eq!(results(&out), want);
}

/// Kills the batch being run by `cmd` with SIGKILL once at least `done` files are
/// committed; returns false if it finished first.
fn kill_after(mut cmd: Command, data: &Path, done: usize) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn candor batch");
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if let Some(job) = the_job(data)
            && (job.info.progress.done + job.info.progress.failed) as usize >= done
        {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Two files at a time, killed twice, with files in flight each time, then run to the
/// end: every file is scored exactly once (a file committed before a kill keeps its
/// commit time), and results.jsonl and summary.csv hold one result per file.
#[test]
fn a_batch_killed_twice_with_files_in_flight_scores_each_file_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = vec![data_dir().join("talking-heads").display().to_string()];
    for clip in ["lp_d0_real", "retalking_1_real", "dfdcstyle_gl_real"] {
        inputs.push(
            data(&format!("deepfake-samples/{clip}.mp4"))
                .display()
                .to_string(),
        );
    }
    let total = 4 + 3;
    let (data_d, out) = (tmp.path().join("data"), tmp.path().join("out"));
    let args = ["--jobs", "2"];
    let mut committed: HashMap<String, Option<i64>> = HashMap::new();
    for done in [1, 3] {
        let killed = kill_after(batch_command(&data_d, &out, &inputs, &args), &data_d, done);
        let job = the_job(&data_d).expect("job recorded");
        for f in job.files.iter().filter(|f| f.status == JobFileStatus::Done) {
            if let Some(at) = committed.get(&f.path) {
                assert_eq!(&f.completed_at, at, "{} was scored twice", f.path);
            }
            committed.insert(f.path.clone(), f.completed_at);
        }
        eprintln!(
            "run {done}: killed {killed}, {} of {total} done",
            committed.len()
        );
    }
    let last = batch(&data_d, &out, &inputs, &args);
    assert!(last.status.success(), "{}", stderr(&last));
    assert!(
        stderr(&last).contains(&format!(
            "{} scored, {} already done, 0 failed",
            total - committed.len(),
            committed.len()
        )),
        "{}",
        stderr(&last)
    );
    let job = the_job(&data_d).unwrap();
    assert_eq!(job.files.len(), total, "one row per file: {:?}", job.files);
    for f in &job.files {
        assert_eq!(f.status, JobFileStatus::Done, "{f:?}");
        if let Some(at) = committed.get(&f.path) {
            assert_eq!(&f.completed_at, at, "{} was scored twice", f.path);
        }
    }
    let lines = results(&out);
    let summaries: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "summary")
        .map(|v| v["file"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), total, "{summaries:?}");
    assert_eq!(
        summaries
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        total,
        "a file has two summaries: {summaries:?}"
    );
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), total + 1, "{csv}");
}
