//! Bounded resources (issue 13 item 8), driven through the real binary: a
//! design larger than `FZ_MAX_CASES` is refused at once, before anything
//! is built or written.

mod common;
use common::{success_rows, Sandbox};
use std::time::{Duration, Instant};

/// A grid of `axes` axes of two values each, as `-v` JSON.
fn grid(axes: usize) -> String {
    let items: Vec<String> = (0..axes).map(|i| format!("\"x{i}\":[0,1]")).collect();
    format!("{{{}}}", items.join(","))
}

#[test]
fn a_grid_of_64_axes_is_refused_with_its_count_before_anything_is_written() {
    let sb = Sandbox::new();
    let vars: String = (0..64).map(|i| format!("$x{i} ")).collect();
    sb.write("input.txt", &vars);
    let v = grid(64);
    let runs: [(&str, &[&str]); 2] = [
        ("fzr", &["-r", "out", "-c", "sh://true", "--no-progress"]),
        ("fzc", &["-o", "out"]),
    ];
    for (program, rest) in runs {
        let started = Instant::now();
        let out = sb
            .cmd(program)
            .args(["input.txt", "-v", &v])
            .args(rest)
            .output()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{program} took {:?}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{program}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err,
            format!(
                "{program}: error: input_variables: the design has 18446744073709551616 \
                 cases, more than FZ_MAX_CASES=1000000; use fewer values, or raise \
                 FZ_MAX_CASES if this is intended\n"
            )
        );
        assert!(!sb.path().join("out").exists(), "{program} wrote out/");
        assert!(!sb.path().join(".out.fz-work").exists());
    }
}

#[test]
fn fz_max_cases_sets_the_limit() {
    let sb = Sandbox::new();
    sb.write("input.txt", "$x0 $x1\n");
    sb.write("calc.sh", "echo ok > output.txt\n");
    let run = |max: &str| {
        sb.cmd("fzr")
            .args(["input.txt", "-v", &grid(2), "-r", "results", "-f", "json"])
            .args(["-c", "sh://bash calc.sh", "--no-progress"])
            .env("FZ_MAX_CASES", max)
            .output()
            .unwrap()
    };
    let refused = run("3");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the design has 4 cases"));
    assert!(!sb.path().join("results").exists());
    let accepted = run("4");
    assert_eq!(success_rows(&accepted).len(), 4);
}

#[test]
fn cases_are_compiled_a_chunk_ahead_of_the_calculators() {
    // 3 chunks and a bit: each case counts the case directories waiting
    // beside it in the work area.
    let (chunk, n): (u64, usize) = (40, 3 * 40 + 7);
    let sb = Sandbox::new();
    sb.write("input.txt", "x=$x\n");
    sb.write(
        "count.sh",
        "echo \"waiting = $(ls .. | wc -l)\" > output.txt\necho \"x = $(cut -d= -f2 input.txt)\" >> output.txt\n",
    );
    let model = r#"{"output":{"waiting":"grep waiting output.txt | cut -d= -f2","echo":"grep 'x =' output.txt | cut -d= -f2"}}"#;
    let out = sb
        .cmd("fzr")
        .args(["input.txt", "-v", &format!("x=0:{}", n - 1), "-m", model])
        .args(["-c", "sh://bash count.sh", "-c", "sh://bash count.sh"])
        .args(["-r", "results", "-f", "json", "--no-progress"])
        .env("FZ_COMPILE_AHEAD", chunk.to_string())
        .output()
        .unwrap();
    let rows = success_rows(&out);
    assert_eq!(rows.len(), n);
    let mut most = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["x"], i, "row {i}");
        assert_eq!(row["echo"], i, "row {i}: ran on its own input");
        assert_eq!(row["status"], "done");
        most = most.max(row["waiting"].as_u64().expect("waiting"));
    }
    // Compiled up front, the first case would see all n directories.
    assert!(most <= chunk + 2, "{most} case directories waited at once");
    assert!(most >= chunk - 2, "the first case sees its chunk: {most}");
    assert!(!sb.path().join(".results.fz-work").exists());
}
