//! What a calculator finds in its working directory, and what a case
//! directory holds once it lands in the results, through the real binary:
//! the compiled input files alone while the calculator runs (no
//! `.fz_hash`, as with funz-fz), and `.fz_hash` in every case of the
//! results afterwards, byte-identical to what `fzc` writes for the same
//! case, whatever way the case ended (done, failed, cache hit, resumed,
//! `fzd` iteration). Remote calculators: cli_ssh.rs and cli_slurm.rs.

mod common;
use common::{json_rows, success_rows, wait_for_lines, Sandbox};
use std::process::{Command, Stdio};

/// `.fz_hash` of a case whose single input `input.txt` compiles to
/// `x=1\n` (md5 of those four bytes), as funz-fz writes it.
const HASH_X1: &str = "f968f33f844c98de1d3b4fe70f2e1a0f  input.txt\n";

/// A model reading `result = <r>` from output.txt.
const MODEL_R: &str = r#"{"output":{"r":"grep result output.txt | cut -d= -f2"}}"#;

/// `list.sh`: lists its working directory (hidden files included) into
/// listing.txt, then writes `result = <x>`, or fails for the x values in
/// `fail`.
fn listing_calc(sb: &Sandbox, fail: &[i64]) {
    let fail: String = fail
        .iter()
        .map(|x| format!("grep -qx 'x={x}' input.txt && exit 3\n"))
        .collect();
    sb.write(
        "list.sh",
        &format!(
            "#!/bin/bash\nls -A > listing.txt\n{fail}\
             echo \"result = $(cut -d= -f2 input.txt)\" > output.txt\n"
        ),
    );
}

/// The entries listing.txt of case directory `case` records.
fn listed(sb: &Sandbox, case: &str) -> Vec<String> {
    sb.read(&format!("{case}/listing.txt"))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts the calculator of `case` ran among its input files without
/// `.fz_hash`, and that the landed case has it, equal to `fzc`'s `want`.
fn assert_ran_without_hash(sb: &Sandbox, case: &str, want: &str) {
    let seen = listed(sb, case);
    assert!(seen.contains(&"input.txt".to_string()), "{case}: {seen:?}");
    assert!(!seen.contains(&".fz_hash".to_string()), "{case}: {seen:?}");
    assert_eq!(sb.read(&format!("{case}/.fz_hash")), want, "{case}");
}

fn fzr(sb: &Sandbox, vars: &str, calcs: &[&str], results: &str) -> std::process::Output {
    let mut cmd = sb.cmd("fzr");
    cmd.args(["input.txt", "-m", MODEL_R, "-v", vars, "-f", "json"])
        .args(["-r", results])
        .env("FZ_MAX_RETRIES", "1");
    for c in calcs {
        cmd.args(["-c", c]);
    }
    cmd.output().unwrap()
}

/// `fzc` of the same cases into `compiled/`.
fn fzc(sb: &Sandbox, vars: &str) {
    sb.cmd("fzc")
        .args(["input.txt", "-m", MODEL_R, "-v", vars, "-o", "compiled"])
        .assert()
        .success();
}

#[test]
fn the_calculator_never_sees_fz_hash_and_every_landed_case_has_fzc_s() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    listing_calc(&sb, &[2]);
    let vars = r#"{"x":[1,2,3]}"#;
    let out = fzr(&sb, vars, &["sh://bash list.sh"], "results");
    let rows = json_rows(&out.stdout);
    let status: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["done", "failed", "done"], "{rows:?}");
    fzc(&sb, vars);
    assert_eq!(sb.read("compiled/x=1/.fz_hash"), HASH_X1);
    // The failed case lands with its hash too, as every case does.
    for x in 1..=3 {
        let want = sb.read(&format!("compiled/x={x}/.fz_hash"));
        assert_ran_without_hash(&sb, &format!("results/x={x}"), &want);
    }
    assert_eq!(
        listed(&sb, "results/x=1"),
        ["err.txt", "input.txt", "listing.txt", "out.txt"],
        "the compiled input and the calculator's own files only"
    );
    // fzo finds the cases by their .fz_hash.
    let out = sb
        .cmd("fzo")
        .args(["results", "-m", MODEL_R, "-f", "json"])
        .output()
        .unwrap();
    let r: Vec<i64> = success_rows(&out)
        .iter()
        .filter_map(|r| r["r"].as_i64())
        .collect();
    assert_eq!(r, [1, 3]);
}

#[test]
fn the_single_case_of_a_design_without_variables_gets_its_hash_in_the_results() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=1\n");
    listing_calc(&sb, &[]);
    let out = fzr(&sb, "{}", &["sh://bash list.sh"], "results");
    assert_eq!(success_rows(&out)[0]["r"], 1);
    assert_ran_without_hash(&sb, "results", HASH_X1);
}

#[test]
fn cache_hits_and_resumed_cases_keep_the_compiled_hash() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    listing_calc(&sb, &[2]);
    let vars = r#"{"x":[1,2]}"#;
    let first = json_rows(&fzr(&sb, vars, &["sh://bash list.sh"], "results").stdout);
    assert_eq!(first[1]["status"], "failed");
    fzc(&sb, vars);

    // A cache hit is found from the hash kept in memory, and lands with it.
    let out = fzr(&sb, vars, &["cache://results", "sh://false"], "again");
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[0]["calculator"], "cache://results", "{rows:?}");
    assert_eq!(sb.read("again/x=1/.fz_hash"), HASH_X1);
    assert_eq!(rows[1]["status"], "failed", "{rows:?}");
    assert_eq!(
        sb.read("again/x=2/.fz_hash"),
        sb.read("compiled/x=2/.fz_hash")
    );

    // --resume compares the earlier case's hash with the compiled one.
    listing_calc(&sb, &[]);
    let mut cmd = sb.cmd("fzr");
    cmd.args(["input.txt", "-m", MODEL_R, "-v", vars, "-f", "json"])
        .args(["-r", "results", "-c", "sh://bash list.sh", "--resume"]);
    let rows = success_rows(&cmd.output().unwrap());
    assert_eq!(rows[0]["command"], "kept from the resumed run", "{rows:?}");
    assert_eq!(rows[1]["status"], "done", "{rows:?}");
    for x in 1..=2 {
        let want = sb.read(&format!("compiled/x={x}/.fz_hash"));
        assert_ran_without_hash(&sb, &format!("results/x={x}"), &want);
    }
}

#[test]
fn a_run_killed_mid_case_leaves_no_case_in_the_results_and_resume_completes_it() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    let started = sb.path().join("started.log");
    sb.write(
        "slow.sh",
        &format!(
            "#!/bin/bash\nls -A > listing.txt\necho started >> {}\nsleep 5\n\
             echo \"result = 1\" > output.txt\n",
            started.display()
        ),
    );
    let mut child = Command::new(sb.bin.join("fzr"))
        .current_dir(sb.path())
        .env("HOME", sb.path().join("home"))
        .args(["input.txt", "-m", MODEL_R, "-v", r#"{"x":[1]}"#])
        .args(["-c", "sh://bash slow.sh"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&started, 1);
    // While the calculator runs: its directory holds no hash, and the
    // results directory no case.
    let work = sb.path().join(".results.fz-work/x=1");
    assert!(work.join("input.txt").exists());
    assert!(!work.join(".fz_hash").exists());
    assert!(!sb.path().join("results/x=1").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!sb.path().join("results/x=1").exists());

    listing_calc(&sb, &[]);
    let mut cmd = sb.cmd("fzr");
    cmd.args([
        "input.txt",
        "-m",
        MODEL_R,
        "-v",
        r#"{"x":[1]}"#,
        "-f",
        "json",
    ])
    .args(["-c", "sh://bash list.sh", "--resume"]);
    let rows = success_rows(&cmd.output().unwrap());
    assert_eq!(rows[0]["r"], 1, "{rows:?}");
    assert_ran_without_hash(&sb, "results/x=1", HASH_X1);
    assert!(!sb.path().join(".results.fz-work").exists());
}

#[test]
fn fzd_iterations_run_without_fz_hash_and_land_with_it() {
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "list.sh",
        "#!/bin/bash\nls -A > listing.txt\n\
         awk -F= '{printf \"result = %.17g\\n\", ($2 - 0.3) ^ 2}' input.txt > output.txt\n",
    );
    let out = sb
        .cmd("fzd")
        .args(["-i", "input.txt", "-m", MODEL_R, "-e", "r"])
        .args(["-v", r#"{"x": "[0;1]"}"#, "-a", "brent", "-r", "ana"])
        .args(["-c", "sh://bash list.sh"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cases = 0;
    for iter in sb.ls("ana").iter().filter(|n| n.starts_with("iter")) {
        for case in sb.ls(&format!("ana/{iter}")) {
            let dir = format!("ana/{iter}/{case}");
            if !sb.path().join(&dir).is_dir() {
                continue;
            }
            let seen = listed(&sb, &dir);
            assert!(!seen.contains(&".fz_hash".to_string()), "{dir}: {seen:?}");
            let hash = sb.read(&format!("{dir}/.fz_hash"));
            assert!(
                hash.len() == 32 + 2 + "input.txt\n".len() && hash.ends_with("  input.txt\n"),
                "{dir}: {hash:?}"
            );
            cases += 1;
        }
    }
    assert!(cases >= 3, "{cases} cases");
}
