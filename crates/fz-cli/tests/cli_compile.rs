//! `fzc` / `fz compile` driven through the real binary: case directories,
//! file contents, modes, hash files, renames, path safety.

mod common;
use common::Sandbox;
use predicates::prelude::*;
use std::os::unix::fs::PermissionsExt;

fn md5(bytes: &[u8]) -> String {
    // Computed by the system tool, independently of our implementation.
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    let out = std::process::Command::new("md5sum")
        .arg(tmp.path())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

#[test]
fn grid_makes_one_directory_per_case_last_key_fastest() {
    let sb = Sandbox::new();
    sb.write("in.txt", "a=$a b=${b}\n");
    sb.cmd("fzc")
        .args(["in.txt", "-v", r#"{"a":[1,2],"b":["x y",0.1]}"#, "-o", "o2"])
        .assert()
        .success()
        .stdout("Compiled input saved to o2\n")
        .stderr("");
    assert_eq!(
        sb.ls("o2"),
        ["a=1,b=0.1", "a=1,b=x y", "a=2,b=0.1", "a=2,b=x y"]
    );
    assert_eq!(sb.read("o2/a=2,b=x y/in.txt"), "a=2 b=x y\n");
    assert_eq!(sb.ls("o2/a=1,b=0.1"), [".fz_hash", "in.txt"]);
    let hash = sb.read("o2/a=1,b=0.1/.fz_hash");
    assert_eq!(hash, format!("{}  in.txt\n", md5(b"a=1 b=0.1\n")));
}

#[test]
fn python_str_rendering_in_names_and_values() {
    let sb = Sandbox::new();
    sb.write("in.txt", "v=$a,$b\n");
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"a":[0.1,1e-7,1e16,1.5e300,2.0],"b":[true]}"#,
            "-o",
            "o",
        ])
        .assert()
        .success();
    assert_eq!(
        sb.ls("o"),
        [
            "a=0.1,b=True",
            "a=1.5e+300,b=True",
            "a=1e+16,b=True",
            "a=1e-07,b=True",
            "a=2.0,b=True"
        ]
    );
    assert_eq!(sb.read("o/a=1e-07,b=True/in.txt"), "v=1e-07,True\n");
}

#[test]
fn no_variables_writes_into_the_output_dir() {
    let sb = Sandbox::new();
    sb.write("in.txt", "plain text\n");
    sb.cmd("fzc")
        .args(["in.txt", "-v", "{}", "-o", "o3"])
        .assert()
        .success();
    assert_eq!(sb.ls("o3"), [".fz_hash", "in.txt"]);
    // Without --input_variables at all, allowed when nothing is declared.
    sb.cmd("fzc")
        .args(["in.txt", "-o", "o4"])
        .assert()
        .success();
    assert_eq!(sb.read("o4/in.txt"), "plain text\n");
}

#[test]
fn variables_required_when_the_input_declares_some() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x y=$y\n");
    sb.cmd("fzc")
        .args(["in.txt", "-o", "o"])
        .assert()
        .code(2)
        .stderr(
            "fzc: error: --input_variables is required: input files declare variable(s) x, y\n",
        );
    assert!(!sb.path().join("o").exists());
}

#[test]
fn formulas_context_and_defaults() {
    let sb = Sandbox::new();
    sb.write(
        "in.txt",
        "#@ import math\n#@ R = 8.314\n#@ def f(t):\n#@     return t + 273.15\n#@: PI = 3.14159\nT=@{f($T)}\nP=@{$n * R * f($T) / 2}\nstr=@{\"a\" + \"b\"}\nbad=@{undefined_fn(1)}\npi=@{PI}\nmathpi=@{math.pi}\npy=@{[i for i in range(3)]}\nfmt=@{20/3 | 0.000}\nsq=@{sqrt($n)}\nd=${d~3.5;unit;[0,10]}\n",
    );
    let out = sb
        .cmd("fzc")
        .args(["in.txt", "-v", r#"{"T":20,"n":2}"#, "-o", "o", "--verbose"])
        .output()
        .unwrap();
    // `bad` fails: the case is compiled, fzc exits 1 naming it.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let text = sb.read("o/T=20,n=2/in.txt");
    let body: Vec<&str> = text.lines().skip(5).collect();
    assert_eq!(
        body,
        [
            "T=293.15",
            "P=2437.2491",
            "str=ab",
            "bad=@{undefined_fn(1)}",
            "pi=3.14159",
            "mathpi=3.141592653589793",
            "py=[0, 1, 2]",
            "fmt=6.667",
            "sq=1.4142135623730951",
            "d=3.5",
        ]
    );
    assert!(
        text.starts_with("#@ import math\n"),
        "context lines are kept"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in.txt:9: formula 'undefined_fn(1)' failed"),
        "{err}"
    );
    assert!(err.contains("NameError"), "{err}");
    assert!(
        err.contains("Variable 'd' not found in input_variables, using default value: '3.5'"),
        "{err}"
    );
}

#[test]
fn formula_interpreter_in_r() {
    let sb = Sandbox::new();
    if std::process::Command::new("Rscript")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED formula_interpreter_in_r: Rscript is not installed (.ci/install installs it)"
        );
        return;
    }
    sb.write("in.txt", "#@ k <- 2\nv=@{$x * k}\ns=@{sum(1:$x)}\n");
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"x":3}"#,
            "-o",
            "o",
            "--interpreter",
            "R",
        ])
        .assert()
        .success();
    assert_eq!(sb.read("o/x=3/in.txt"), "#@ k <- 2\nv=6.0\ns=6\n");
}

#[test]
fn directory_input_keeps_tree_modes_and_binary_bytes() {
    let sb = Sandbox::new();
    sb.write("indir/main.txt", "a=$a\n");
    sb.write("indir/sub/deep.txt", "b=$b\n");
    sb.write("indir/.hidden", "h=$a\n");
    let run = sb.write("indir/run.sh", "#!/bin/sh\necho $a\n");
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary: Vec<u8> = vec![0xff, 0xfe, b'$', b'a', 0, 1, 2];
    std::fs::write(sb.path().join("indir/bin.dat"), &binary).unwrap();
    std::fs::create_dir_all(sb.path().join("indir/empty")).unwrap();
    sb.cmd("fzc")
        .args(["indir", "-v", r#"{"a":1,"b":3}"#, "-o", "o5"])
        .assert()
        .success();
    let case = "o5/a=1,b=3";
    assert_eq!(
        sb.ls(case),
        [".fz_hash", ".hidden", "bin.dat", "main.txt", "run.sh", "sub"]
    );
    assert_eq!(sb.read(&format!("{case}/sub/deep.txt")), "b=3\n");
    assert_eq!(sb.read(&format!("{case}/.hidden")), "h=1\n");
    assert_eq!(
        std::fs::read(sb.path().join(case).join("bin.dat")).unwrap(),
        binary
    );
    let mode = std::fs::metadata(sb.path().join(case).join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "the executable bit survives");
    let hash = sb.read(&format!("{case}/.fz_hash"));
    let want = format!(
        "{}  .hidden\n{}  bin.dat\n{}  main.txt\n{}  run.sh\n{}  sub/deep.txt\n",
        md5(b"h=1\n"),
        md5(&binary),
        md5(b"a=1\n"),
        md5(b"#!/bin/sh\necho 1\n"),
        md5(b"b=3\n")
    );
    assert_eq!(hash, want);
}

#[test]
fn existing_output_is_moved_aside_never_clobbered() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\n");
    for i in 0..3 {
        sb.cmd("fzc")
            .args(["in.txt", "-v", &format!(r#"{{"x":{i}}}"#), "-o", "out"])
            .assert()
            .success();
    }
    let entries = sb.ls(".");
    let moved: Vec<&String> = entries.iter().filter(|e| e.starts_with("out_")).collect();
    assert_eq!(moved.len(), 2, "two earlier outputs kept: {entries:?}");
    assert_eq!(sb.ls("out"), ["x=2"]);
    let mut kept: Vec<Vec<String>> = moved.iter().map(|m| sb.ls(m)).collect();
    kept.sort();
    assert_eq!(kept, [vec!["x=0".to_string()], vec!["x=1".to_string()]]);
}

#[test]
fn hostile_values_stay_inside_the_output_dir() {
    let sb = Sandbox::new();
    sb.write("in.txt", "v=$v\n");
    let long = "y".repeat(400);
    let vars = serde_json::json!({"v": ["../../escape", "/abs/path", "a,b=c", "tab\there", long]});
    sb.cmd("fzc")
        .args(["in.txt", "-v", &vars.to_string(), "-o", "o"])
        .assert()
        .success();
    let names = sb.ls("o");
    assert_eq!(names.len(), 6, "5 cases + cases.csv: {names:?}");
    assert!(
        names.contains(&"v=..%2F..%2Fescape".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"v=%2Fabs%2Fpath".to_string()), "{names:?}");
    assert!(
        names.contains(&"v=a,b=c".to_string()),
        "commas are kept as upstream: {names:?}"
    );
    assert!(names.contains(&"v=tab%09here".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.len() <= 255));
    assert!(!sb.path().join("escape").exists());
    assert_eq!(
        sb.read("o/v=..%2F..%2Fescape/in.txt"),
        "v=../../escape\n",
        "the value itself is intact"
    );
    assert!(
        sb.read("o/cases.csv").contains(&long),
        "shortened names are listed in cases.csv"
    );
}

#[test]
fn table_designs_from_json_list_and_csv() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x y=$y\n");
    sb.write("design.csv", "x,y\n1,0.5\n2,1.5\n");
    sb.cmd("fzc")
        .args(["in.txt", "-v", "design.csv", "-o", "c"])
        .assert()
        .success();
    assert_eq!(
        sb.ls("c"),
        ["x=1,y=0.5", "x=2,y=1.5"],
        "integer columns stay integers"
    );
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"[{"x":1,"y":"a"},{"x":3,"y":"b"}]"#,
            "-o",
            "j",
        ])
        .assert()
        .success();
    assert_eq!(sb.ls("j"), ["x=1,y=a", "x=3,y=b"]);
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"[{"x":1,"y":"a"},{"x":1,"y":"a"}]"#,
            "-o",
            "d",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("duplicate rows (indices [0, 1])"));
    sb.cmd("fzc")
        .args(["in.txt", "-v", "x=[1,2],y=3", "-o", "k"])
        .assert()
        .success();
    assert_eq!(sb.ls("k"), ["x=1,y=3", "x=2,y=3"]);
}

#[test]
fn case_naming_hash_and_index_write_a_manifest() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x y=$y\n");
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"x":1,"y":3.5}"#,
            "-o",
            "h",
            "--case_naming",
            "hash",
        ])
        .assert()
        .success();
    assert_eq!(sb.ls("h"), ["case_3a29537f88ae", "cases.csv"]);
    assert_eq!(
        sb.read("h/cases.csv"),
        "case,x,y\ncase_3a29537f88ae,1,3.5\n"
    );
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"x":[1,2,3,4,5,6,7,8,9,10,11],"y":0}"#,
            "-o",
            "i",
        ])
        .env("FZ_CASE_NAMING", "index")
        .assert()
        .success();
    let names = sb.ls("i");
    assert_eq!(names.first().map(String::as_str), Some("case_00"));
    assert!(names.contains(&"case_10".to_string()));
}

#[test]
fn input_static_is_linked_hashed_and_not_scanned() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\n");
    sb.write("data/weather.csv", "t,$notavar\n1,2\n");
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"x":1}"#,
            "-o",
            "o",
            "--input_static",
            "data/weather.csv",
        ])
        .assert()
        .success();
    let link = sb.path().join("o/x=1/weather.csv");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let hash = sb.read("o/x=1/.fz_hash");
    assert!(
        hash.starts_with(&format!("{}  weather.csv\n", md5(b"t,$notavar\n1,2\n"))),
        "{hash}"
    );
    sb.cmd("fzi")
        .args(["data", "--input_static", "data/weather.csv", "-f", "json"])
        .assert()
        .success()
        .stdout("{}\n");
}

#[test]
fn mixed_line_endings_and_single_binary_file() {
    let sb = Sandbox::new();
    sb.write("in.txt", "a=$x\r\nb=$x\nc\r\n");
    sb.cmd("fzc")
        .args(["in.txt", "-v", r#"{"x":1}"#, "-o", "o"])
        .assert()
        .success();
    assert_eq!(sb.read("o/x=1/in.txt"), "a=1\r\nb=1\nc\r\n");
    std::fs::write(sb.path().join("b.bin"), [0xffu8, 0x00, 0x24]).unwrap();
    sb.cmd("fzc").args(["b.bin", "-o", "ob"]).assert().success();
    assert_eq!(
        std::fs::read(sb.path().join("ob/b.bin")).unwrap(),
        [0xffu8, 0x00, 0x24]
    );
}

#[test]
fn bad_variables_are_clear_errors() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\n");
    let cases: Vec<(&str, &str)> = vec![
        (
            "hello",
            "input_variables must be a dictionary or DataFrame, got str",
        ),
        ("{\"x\": [1,", "input_variables: invalid JSON"),
        ("nope.json", "input_variables file"),
        ("{\"x\": [1, 1]}", "axis 'x' lists the value 1 twice"),
    ];
    for (vars, msg) in cases {
        let out = sb
            .cmd("fzc")
            .args(["in.txt", "-v", vars, "-o", "o"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{vars}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(msg), "{vars}: {err}");
        assert_eq!(err.lines().count(), 1, "{vars}: {err}");
        assert!(!sb.path().join("o").exists(), "{vars}: nothing created");
    }
}

#[test]
fn unknown_variables_warn_on_stderr_at_warning_level() {
    let sb = Sandbox::new();
    sb.write("in.txt", "x=$x\n");
    sb.cmd("fzc")
        .args(["in.txt", "-v", r#"{"x":1,"zz":2,"aa":3}"#, "-o", "o"])
        .env("FZ_LOG_LEVEL", "WARNING")
        .assert()
        .success()
        .stdout("Compiled input saved to o\n")
        .stderr(predicate::str::contains(
            "input variable 'aa' is not used by any input file and is ignored\n",
        ))
        .stderr(predicate::str::contains(
            "input variable 'zz' is not used by any input file and is ignored\n",
        ));
}

#[test]
fn many_cases_with_formulas_cross_batch_boundaries() {
    // More cases than one interpreter batch, so the threaded path and the
    // batch boundaries are exercised; every case gets its own values.
    let sb = Sandbox::new();
    sb.write("in.txt", "#@ k = 3\nx=$x y=@{$x * k} s=@{str($x) + '!'}\n");
    let xs: Vec<i64> = (0..300).collect();
    let vars = serde_json::json!({ "x": xs });
    sb.cmd("fzc")
        .args(["in.txt", "-v", &vars.to_string(), "-o", "o"])
        .assert()
        .success();
    let names = sb.ls("o");
    assert_eq!(names.len(), 300);
    assert!(
        names.iter().all(|n| !n.starts_with(".fz-staging")),
        "no staging dir left"
    );
    for x in [0, 127, 128, 129, 255, 256, 299] {
        assert_eq!(
            sb.read(&format!("o/x={x}/in.txt")),
            format!("#@ k = 3\nx={x} y={} s={x}!\n", x * 3)
        );
    }
}

#[test]
fn unsupported_interpreter_leaves_formulas_and_says_so() {
    let sb = Sandbox::new();
    sb.write("js.txt", "a=@{1+1} x=$x\n");
    sb.cmd("fzc")
        .args([
            "js.txt",
            "-v",
            r#"{"x":2}"#,
            "-o",
            "o",
            "--interpreter",
            "javascript",
        ])
        .assert()
        .success()
        .stdout("Compiled input saved to o\n")
        .stderr(predicate::str::contains(
            "Interpreter 'javascript' not yet implemented",
        ));
    assert_eq!(sb.read("o/x=2/js.txt"), "a=@{1+1} x=2\n");
    // FZ_INTERPRETER selects R when the model says nothing.
    if std::process::Command::new("Rscript")
        .arg("--version")
        .output()
        .is_ok()
    {
        sb.write("r.txt", "v=@{sum(c(1, $x))}\n");
        sb.cmd("fzc")
            .args(["r.txt", "-v", r#"{"x":2}"#, "-o", "r"])
            .env("FZ_INTERPRETER", "R")
            .assert()
            .success();
        assert_eq!(sb.read("r/x=2/r.txt"), "v=3.0\n");
    }
}

#[test]
fn whole_file_example_of_the_spec() {
    // templates.md §2.7: `${x*2}` is not a formula when the formula prefix
    // is `@`; context lines stay; formulas see the context's functions.
    let sb = Sandbox::new();
    sb.write(
        "in.txt",
        "a=${x}\nb=${x*2}\nc=@{$x + 1}\n#@ def twice(v):\n#@     return 2*v\nd=@{twice($x)}\n",
    );
    sb.cmd("fzc")
        .args(["in.txt", "-v", r#"{"x":3}"#, "-o", "o"])
        .assert()
        .success()
        .stderr("");
    assert_eq!(
        sb.read("o/x=3/in.txt"),
        "a=3\nb=${x*2}\nc=4\n#@ def twice(v):\n#@     return 2*v\nd=6\n"
    );
}

#[test]
fn a_raising_formula_is_reported_once_and_fails_the_compile() {
    let sb = Sandbox::new();
    sb.write("in.txt", "ok=@{$x + 1}\nbad=@{1 / ($x - $x)}\n");
    let out = sb
        .cmd("fzc")
        .args(["in.txt", "-v", r#"{"x":[1,2,3]}"#, "-o", "o"])
        .output()
        .unwrap();
    // Every case is compiled (formulas left as written); exit 1 names them.
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(sb.read("o/x=2/in.txt"), "ok=3\nbad=@{1 / (2 - 2)}\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("in.txt:2: formula '1 / (1 - 1)' failed: ZeroDivisionError"),
        "{err}"
    );
    assert!(
        err.contains("in.txt:2: the formula failed in 3 cases"),
        "{err}"
    );
    assert_eq!(
        err.matches("ZeroDivisionError").count(),
        1,
        "shown once: {err}"
    );
    assert!(
        err.contains("fzc: error: formulas failed in 3 of 3 case(s): x=1, x=2, x=3"),
        "{err}"
    );
}

#[test]
fn non_finite_values_reach_formulas_as_numbers() {
    // `-v x=1e400` is infinity; its text in a formula (`inf`) must mean it
    // in Python and in R, as must `-inf` and `nan`.
    let sb = Sandbox::new();
    sb.write("in.txt", "z=@{$x * 2}\nw=@{-$x}\n");
    let mut interpreters = vec!["python"];
    if std::process::Command::new("Rscript")
        .arg("--version")
        .output()
        .is_ok()
    {
        interpreters.push("R");
    }
    for interp in interpreters {
        for (value, z, w) in [
            ("1e400", "inf", "-inf"),
            ("-1e400", "-inf", "inf"),
            ("nan", "nan", "nan"),
        ] {
            let out = sb
                .cmd("fzc")
                .args(["in.txt", "-v", &format!("x={value}"), "-o", "o"])
                .args(["--interpreter", interp])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{interp} {value}: {err}");
            let dir = std::fs::read_dir(sb.path().join("o"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            let text = std::fs::read_to_string(dir.join("in.txt")).unwrap();
            assert_eq!(text, format!("z={z}\nw={w}\n"), "{interp} {value}");
            std::fs::remove_dir_all(sb.path().join("o")).unwrap();
        }
    }
}
