//! A short run of the fuzz harness over every parser: a fixed seed, about a thousand
//! mutated inputs made from real clips. It fails if any parser panics or hangs.

mod support;

use support::{candor, data};

#[test]
fn a_thousand_mutated_inputs_neither_panic_nor_hang() {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-seeds");
    let findings = scratch.path().join("findings");
    let clips = [
        data("talking-heads/grid_bbaf2n.mp4"),
        data("talking-heads/grid_brbk7n.mp4"),
    ];
    let out = candor(&[
        "fuzz",
        "--inputs",
        "1040",
        "--seed",
        "13",
        "--cache",
        cache.to_str().unwrap(),
        "--out",
        findings.to_str().unwrap(),
        "--clip",
        clips[0].to_str().unwrap(),
        "--clip",
        clips[1].to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fuzz findings:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("inputs: 1040, findings: 0"), "{stdout}");
}
