//! The seed's caching scenarios through the library (`fz_core::ops::run::fzr`),
//! with real `sh://` calculators: how many times a calculator really ran
//! is counted by the script itself (a line per run in `runs.log`).

use fz_core::calculators::Cancel;
use fz_core::format::Table;
use fz_core::model::{model_from_json, Lookup, Model};
use fz_core::ops::run::{fzr, RunOptions, RunReport};
use fz_core::Value;
use std::path::Path;
use std::time::Duration;

struct Study {
    dir: tempfile::TempDir,
    model: Model,
}

impl Study {
    fn new() -> Study {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("input.txt"), "x=$x\n").unwrap();
        let model = model_from_json(
            serde_json::json!({"output": {"r": "grep result output.txt | cut -d= -f2"}}),
            "test",
        )
        .unwrap();
        Study { dir, model }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A calculator script logging `<name> <x>` per run, writing
    /// `result = x*10` after sleeping `sleep` seconds (and logging its start
    /// and end in `timeline.log`); it fails without output for `fail_for`.
    fn script(&self, name: &str, fail_for: &[i64], sleep: &str) {
        let fails: String = fail_for
            .iter()
            .map(|f| format!("[ \"$x\" = {f} ] && exit 2\n"))
            .collect();
        std::fs::write(
            self.path().join(name),
            format!(
                "#!/bin/bash\nstart=$(date +%s%N)\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"{name} $x\" >> {log}\n{fails}sleep {sleep}\necho \"result = $((x * 10))\" > output.txt\necho \"$start $(date +%s%N)\" >> {timeline}\n",
                log = self.path().join("runs.log").display(),
                timeline = self.path().join("timeline.log").display(),
            ),
        )
        .unwrap();
    }

    /// Runs of `name` so far.
    fn runs(&self, name: &str) -> usize {
        std::fs::read_to_string(self.path().join("runs.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split(' ').next() == Some(name))
            .count()
    }

    fn fzr(
        &self,
        input: &str,
        vars: serde_json::Value,
        calculators: &[&str],
        results: &str,
        cancel: Option<Cancel>,
    ) -> RunReport {
        let lookup = Lookup {
            cwd: self.path().to_path_buf(),
            home: None,
        };
        let design = fz_core::design::from_text(&vars.to_string(), self.path()).unwrap();
        let options = RunOptions {
            results_dir: self.path().join(results),
            calculators: calculators.iter().map(|c| c.to_string()).collect(),
            cancel,
            ..Default::default()
        };
        fzr(
            &self.path().join(input),
            Some(&design),
            &self.model,
            &options,
            &lookup,
        )
        .unwrap()
    }
}

fn grid(n: i64) -> serde_json::Value {
    serde_json::json!({ "x": (0..n).collect::<Vec<_>>() })
}

/// The values of a column.
fn column<'a>(table: &'a Table, name: &str) -> Vec<&'a Value> {
    let i = table
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", table.columns));
    table.rows.iter().map(|r| &r[i]).collect()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i as i64,
        other => panic!("not an int: {other:?}"),
    }
}

fn text(v: &Value) -> &str {
    match v {
        Value::Str(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// Rows whose calculator is `calc`.
fn from(table: &Table, calc: &str) -> usize {
    column(table, "calculator")
        .into_iter()
        .filter(|v| text(v) == calc)
        .count()
}

/// Every row has r = 10 x and status done.
fn all_right(table: &Table) {
    for ((x, r), s) in column(table, "x")
        .into_iter()
        .zip(column(table, "r"))
        .zip(column(table, "status"))
    {
        assert_eq!(text(s), "done");
        assert_eq!(int(r), int(x) * 10);
    }
}

fn wait_for_runs(study: &Study, name: &str, n: usize) {
    for _ in 0..1000 {
        if study.runs(name) >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{name} never ran {n} times");
}

#[test]
fn resume_an_interrupted_run_50_of_100() {
    let s = Study::new();
    // The 50th case holds until the run has been told to stop.
    std::fs::write(
        s.path().join("slow_calc.sh"),
        format!(
            "#!/bin/bash\nx=$(grep -o 'x=[0-9]*' \"$1\" | cut -d= -f2)\necho \"slow_calc.sh $x\" >> {}\nif [ \"$x\" = 49 ]; then while [ ! -f {} ]; do sleep 0.02; done; fi\necho \"result = $((x * 10))\" > output.txt\n",
            s.path().join("runs.log").display(),
            s.path().join("release").display()
        ),
    )
    .unwrap();
    let cancel = Cancel::new();
    let report = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            s.fzr(
                "input.txt",
                grid(100),
                &["sh://bash slow_calc.sh"],
                "run1",
                Some(cancel.clone()),
            )
        });
        wait_for_runs(&s, "slow_calc.sh", 50);
        cancel.stop_new();
        std::fs::write(s.path().join("release"), "").unwrap();
        run.join().unwrap()
    });
    assert!(report.interrupted);
    assert_eq!(report.count_status("done"), 50);
    assert_eq!(report.count_status("interrupted"), 50);
    assert_eq!(s.runs("slow_calc.sh"), 50);

    let resumed = s.fzr(
        "input.txt",
        grid(100),
        &["cache://run1", "sh://bash slow_calc.sh"],
        "run1_resumed",
        None,
    );
    assert_eq!(
        s.runs("slow_calc.sh"),
        100,
        "exactly the 50 missing cases ran"
    );
    assert_eq!(resumed.table.rows.len(), 100);
    all_right(&resumed.table);
    assert_eq!(from(&resumed.table, "cache://run1"), 50);
}

#[test]
fn expand_3x3_to_5x5_runs_16_and_no_cache_recomputes_all() {
    let s = Study::new();
    std::fs::write(s.path().join("input.txt"), "t=$t p=$p\n").unwrap();
    // The script reads x=…; here the result is keyed on t.
    std::fs::write(
        s.path().join("calc.sh"),
        format!(
            "#!/bin/bash\necho \"calc.sh $(cat \"$1\")\" >> {}\nt=$(grep -o 't=[0-9]*' \"$1\" | cut -d= -f2)\necho \"result = $t\" > output.txt\n",
            s.path().join("runs.log").display()
        ),
    )
    .unwrap();
    let small = serde_json::json!({"t": [100, 200, 300], "p": [1, 10, 100]});
    let big = serde_json::json!({"t": [100, 200, 300, 400, 500], "p": [1, 10, 100, 1000, 10000]});
    s.fzr(
        "input.txt",
        small.clone(),
        &["sh://bash calc.sh"],
        "study1",
        None,
    );
    assert_eq!(s.runs("calc.sh"), 9);
    let expanded = s.fzr(
        "input.txt",
        big,
        &["cache://study1", "sh://bash calc.sh"],
        "study2",
        None,
    );
    assert_eq!(s.runs("calc.sh"), 9 + 16);
    assert_eq!(expanded.table.rows.len(), 25);
    assert_eq!(from(&expanded.table, "cache://study1"), 9);
    assert_eq!(expanded.count_status("done"), 25);
    for (t, r) in column(&expanded.table, "t")
        .into_iter()
        .zip(column(&expanded.table, "r"))
    {
        assert_eq!(int(t), int(r));
    }
    // Selective recalculation: without cache:// everything runs again.
    let again = s.fzr("input.txt", small, &["sh://bash calc.sh"], "study3", None);
    assert_eq!(s.runs("calc.sh"), 25 + 9);
    assert_eq!(from(&again.table, "sh://bash calc.sh"), 9);
}

#[test]
fn multi_tier_globs_in_order_failed_entries_skipped() {
    let s = Study::new();
    s.script("calc.sh", &[1], "0");
    s.fzr(
        "input.txt",
        serde_json::json!({"x": [1]}),
        &["sh://bash calc.sh"],
        "latest_run",
        None,
    );
    s.script("calc.sh", &[], "0");
    s.fzr(
        "input.txt",
        serde_json::json!({"x": [1, 2]}),
        &["sh://bash calc.sh"],
        "archive/2024-05",
        None,
    );
    s.fzr(
        "input.txt",
        serde_json::json!({"x": [4]}),
        &["sh://bash calc.sh"],
        "archive/2022/q4",
        None,
    );
    s.fzr(
        "input.txt",
        serde_json::json!({"x": [3]}),
        &["sh://bash calc.sh"],
        "archive/2023-01",
        None,
    );
    // x=3's cached output is gone: not a hit.
    std::fs::remove_file(s.path().join("archive/2023-01/x=3/output.txt")).unwrap();
    // (The failing x=1 was retried: FZ_MAX_RETRIES.)
    let before = s.runs("calc.sh");
    let out = s.fzr(
        "input.txt",
        serde_json::json!({"x": [1, 2, 3, 4]}),
        &[
            "cache://latest_run",
            "cache://archive/2024-*",
            "cache://archive/*/*",
            "cache://missing_dir",
            "sh://bash calc.sh",
        ],
        "now",
        None,
    );
    assert_eq!(s.runs("calc.sh"), before + 1, "only x=3 ran");
    all_right(&out.table);
    let calcs: Vec<&str> = column(&out.table, "calculator")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(
        calcs,
        [
            "cache://archive/2024-*",
            "cache://archive/2024-*",
            "sh://bash calc.sh",
            "cache://archive/*/*"
        ]
    );
}

#[test]
fn parallel_with_cache_fallback_four_workers() {
    let s = Study::new();
    s.script("calc.sh", &[], "0");
    s.fzr(
        "input.txt",
        grid(4),
        &["sh://bash calc.sh"],
        "previous_run",
        None,
    );
    std::fs::remove_file(s.path().join("timeline.log")).unwrap();
    s.script("calc.sh", &[], "0.4");
    let calc = "sh://bash calc.sh";
    let out = s.fzr(
        "input.txt",
        grid(12),
        &["cache://previous_run", calc, calc, calc, calc],
        "now",
        None,
    );
    assert_eq!(s.runs("calc.sh"), 4 + 8);
    all_right(&out.table);
    assert_eq!(from(&out.table, "cache://previous_run"), 4);
    let timeline = std::fs::read_to_string(s.path().join("timeline.log")).unwrap();
    let mut events: Vec<(u128, i32)> = timeline
        .lines()
        .flat_map(|l| {
            let (a, b) = l.split_once(' ').unwrap();
            [(a.parse().unwrap(), 1), (b.parse().unwrap(), -1)]
        })
        .collect();
    events.sort();
    let (mut cur, mut peak) = (0, 0);
    for (_, d) in events {
        cur += d;
        peak = peak.max(cur);
    }
    assert_eq!(peak, 4, "the 8 misses ran four at a time");
}

#[test]
fn staged_execution() {
    let s = Study::new();
    std::fs::write(s.path().join("input_detailed.txt"), "x=$x\nmesh=fine\n").unwrap();
    s.script("quick.sh", &[], "0");
    s.script("detailed.sh", &[], "0");
    let quick = s.fzr(
        "input.txt",
        grid(20),
        &["sh://bash quick.sh", "sh://bash quick.sh"],
        "stage1_quick",
        None,
    );
    assert_eq!(s.runs("quick.sh"), 20);
    let interesting = |threshold: i64| -> serde_json::Value {
        let xs: Vec<i64> = column(&quick.table, "x")
            .into_iter()
            .zip(column(&quick.table, "r"))
            .filter(|(_, r)| int(r) > threshold)
            .map(|(x, _)| int(x))
            .collect();
        serde_json::json!({ "x": xs })
    };
    let tiers = [
        "cache://stage2_previous",
        "cache://stage1_quick",
        "sh://bash detailed.sh",
        "sh://bash detailed.sh",
    ];
    let first = s.fzr(
        "input_detailed.txt",
        interesting(150),
        &tiers,
        "stage2_previous",
        None,
    );
    assert_eq!(first.table.rows.len(), 4);
    assert_eq!(
        s.runs("detailed.sh"),
        4,
        "quick results are not detailed ones"
    );
    let second = s.fzr(
        "input_detailed.txt",
        interesting(100),
        &tiers,
        "stage2_detailed",
        None,
    );
    assert_eq!(s.runs("detailed.sh"), 4 + 5);
    assert_eq!(s.runs("quick.sh"), 20);
    all_right(&second.table);
    assert_eq!(from(&second.table, "cache://stage2_previous"), 4);
}
