//! `fzo` / `fz output` driven through the real binary: the verified
//! example of compile-and-output.md §5.9, formats, results directories,
//! errors.

mod common;
use common::Sandbox;
use predicates::prelude::*;
use serde_json::{json, Value as J};

/// The §5.9 model: eight outputs, two of them `python://`.
const MODEL: &str = r#"{"output": {
    "v": "grep val out.txt | awk '{print $3}'",
    "missing": "cat nofile.txt",
    "empty": "echo",
    "js": "echo '{\"a\": 1, \"b\": {\"c\": 2}}'",
    "lst": "echo '[1,2,3]'",
    "one": "echo '[5]'",
    "py": "python://grep(r'val = (\\S+)', 'out.txt')",
    "pyl": "python://[1]"
}}"#;

/// `res/x=1,y=a`, `res/x=2.5,y=b`, `res/x=10,y=c` with `out.txt`, and
/// `res/x=3,y=d` without.
fn example() -> Sandbox {
    let sb = Sandbox::new();
    for (dir, letter) in [("x=1,y=a", "a"), ("x=2.5,y=b", "b"), ("x=10,y=c", "c")] {
        sb.write(&format!("res/{dir}/out.txt"), &format!("val = {letter}\n"));
    }
    std::fs::create_dir_all(sb.path().join("res/x=3,y=d")).unwrap();
    sb.write("model.json", MODEL);
    sb
}

fn json_of(out: &[u8]) -> J {
    serde_json::from_slice(out).expect("valid JSON on stdout")
}

/// `fzo 'res/*' -m <model> -f json` in `sb`, with an empty `PATH` when
/// `no_path` (no external tool can be found then): the rows.
fn fzo_rows(sb: &Sandbox, model: &str, no_path: bool) -> J {
    let mut cmd = sb.cmd("fzo");
    cmd.args(["res/*", "-m", model, "-f", "json"]);
    if no_path {
        cmd.env("PATH", "");
    }
    json_of(&cmd.assert().success().get_output().stdout)
}

const MISSING: &str =
    "Output 'missing': command failed (exit code 1) — cat: nofile.txt: No such file or directory";
const EMPTY: &str = "Output 'empty': command returned empty output (no result produced)";

fn row(path: &str, v: J, x: J, y: &str, errors: &str) -> J {
    json!({
        "path": path, "v": v.clone(), "missing": null, "empty": null,
        "lst": [1, 2, 3], "one": 5, "py": v, "pyl": [1],
        "_output_error": errors, "x": x, "y": y, "js_a": 1, "js_b_c": 2
    })
}

#[test]
fn verified_example_as_json() {
    let sb = example();
    let out = sb
        .cmd("fzo")
        .args(["res/*", "-m", "model.json", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out.clone()).unwrap();
    // Column order is the spec's.
    let first = &text[..text.find("}").unwrap()];
    let order: Vec<&str> = first
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(
        order,
        [
            "path",
            "v",
            "missing",
            "empty",
            "lst",
            "one",
            "py",
            "pyl",
            "_output_error",
            "x",
            "y",
            "js_a",
            "js_b_c"
        ]
    );
    let ok_errors = format!("{MISSING}; {EMPTY}");
    // python:// names the file as Python's OSError does: absolute.
    let py_missing = format!(
        "Output 'py': [Errno 2] No such file or directory: '{}'",
        sb.path().join("res/x=3,y=d/out.txt").display()
    );
    let missing_v =
        "Output 'v': command returned empty output — grep: out.txt: No such file or directory";
    assert_eq!(
        json_of(&out),
        json!([
            row("res/x=1,y=a", json!("a"), json!(1), "a", &ok_errors),
            // Sorted by value (upstream: by name, x=10 before x=2.5).
            row("res/x=2.5,y=b", json!("b"), json!(2.5), "b", &ok_errors),
            row(
                "res/x=3,y=d",
                J::Null,
                json!(3),
                "d",
                &format!("{missing_v}; {ok_errors}; {py_missing}")
            ),
            row("res/x=10,y=c", json!("c"), json!(10), "c", &ok_errors),
        ])
    );
    // Integers stay integers next to a float in the same column.
    assert!(text.contains("\"x\": 1,") && text.contains("\"x\": 2.5,"));
}

#[test]
fn one_directory_gives_one_row_without_variables() {
    let sb = example();
    let out = sb
        .cmd("fz")
        .args(["output", "--output_path", "res/x=1,y=a", "-f", "json"])
        .args(["--output-cmd", "v=grep val out.txt | awk '{print $3}'"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json_of(&out),
        json!([{"path": "res/x=1,y=a", "v": "a", "x": 1, "y": "a"}])
    );
    // `res` itself (no case directories with .fz_hash): one row, no x/y.
    let out = sb
        .cmd("fzo")
        .args(["res", "--output-cmd", "n=ls | wc -l", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out), json!([{"path": "res", "n": 4}]));
}

#[test]
fn csv_and_default_markdown() {
    let sb = example();
    sb.cmd("fzo")
        .args(["res/x=1.*", "-f", "csv"])
        .args(["--output-cmd", "v=grep val out.txt | awk '{print $3}'"])
        .args(["--output-cmd", "l=echo '[1, 2]'"])
        .assert()
        .success()
        .stdout("path,v,l,x,y\n\"res/x=1,y=a\",a,\"[1, 2]\",1,a\n\"res/x=10,y=c\",c,\"[1, 2]\",10,c\n\n")
        .stderr("");
    sb.cmd("fzo")
        .args([
            "res/x=2*",
            "--output-cmd",
            "v=grep val out.txt | awk '{print $3}'",
        ])
        .assert()
        .success()
        .stdout(
            "| path          | v   |   x | y   |\n\
             |:--------------|:----|----:|:----|\n\
             | res/x=2.5,y=b | b   | 2.5 | b   |\n",
        );
}

#[test]
fn results_directory_stands_for_its_cases() {
    let sb = Sandbox::new();
    sb.write("in.txt", "T=$T\n");
    sb.cmd("fzc")
        .args([
            "in.txt",
            "-v",
            r#"{"T":[1,2.5],"s":"a/b"}"#,
            "-o",
            "results",
        ])
        .assert()
        .success();
    sb.write("results/notes/readme.txt", "not a case\n");
    let out = sb
        .cmd("fzo")
        .args(["results", "-f", "json"])
        .args(["--output-cmd", "t=cut -d= -f2 in.txt"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json_of(&out),
        json!([
            {"path": "results/T=1,s=a%2Fb", "t": 1, "T": 1, "s": "a/b"},
            {"path": "results/T=2.5,s=a%2Fb", "t": 2.5, "T": 2.5, "s": "a/b"}
        ])
    );
    // Hash naming: variables come from cases.csv.
    sb.cmd("fzc")
        .args(["in.txt", "-v", r#"{"T":[1e-07,3]}"#, "-o", "hashed"])
        .args(["--case_naming", "index"])
        .assert()
        .success();
    let out = sb
        .cmd("fzo")
        .args(["hashed/", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json_of(&out),
        json!([
            {"path": "hashed/case_0", "T": "1e-07"},
            {"path": "hashed/case_1", "T": 3}
        ])
    );
}

#[test]
fn errors_and_exit_codes() {
    let sb = example();
    sb.cmd("fzo")
        .arg("nowhere/*")
        .assert()
        .code(1)
        .stdout("")
        .stderr("fzo: error: Output path 'nowhere/*' not found\n");
    sb.cmd("fzo")
        .args(["res", "--output-cmd", "novalue"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("fzo: error: --output-cmd expects NAME=COMMAND, got 'novalue'\n");
    sb.cmd("fzo")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "output_path is required (positional or --output_path)",
        ));
    sb.cmd("fzo")
        .args(["res", "-o", "other"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "output_path given twice: positional 'res' and --output_path 'other'",
        ));
    sb.cmd("fzo").args(["res", "-f", "xml"]).assert().code(2);
    sb.cmd("fzo")
        .args(["res", "-m", "{not json"])
        .assert()
        .code(1)
        .stdout("");
    sb.cmd("fzo")
        .arg("--version")
        .assert()
        .success()
        .stdout(format!(
            "fzo {} (funz-fz 1.2 compatible)\n",
            env!("CARGO_PKG_VERSION")
        ));
}

#[test]
fn commands_run_in_parallel_and_time_out() {
    let sb = Sandbox::new();
    for i in 0..8 {
        std::fs::create_dir_all(sb.path().join(format!("r/i={i}"))).unwrap();
    }
    let start = std::time::Instant::now();
    let out = sb
        .cmd("fzo")
        .env("FZ_OUTPUT_TIMEOUT", "30")
        .args(["r/*", "-f", "json", "--output-cmd", "w=sleep 0.5; echo ok"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    assert_eq!(rows.as_array().unwrap().len(), 8);
    assert_eq!(rows[7], json!({"path": "r/i=7", "w": "ok", "i": 7}));
    assert!(start.elapsed() < std::time::Duration::from_secs(4));

    let out = sb
        .cmd("fzo")
        .env("FZ_OUTPUT_TIMEOUT", "0.3")
        .args(["r/i=0", "-f", "json", "--output-cmd", "w=sleep 20"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json_of(&out),
        json!([{"path": "r/i=0", "w": null,
                "_output_error": "Output 'w': command timed out after 0.3 s (FZ_OUTPUT_TIMEOUT)",
                "i": 0}])
    );
}

#[test]
fn jq_outputs_are_evaluated_without_a_jq_executable() {
    let sb = Sandbox::new();
    sb.write(
        "res/x=1/r.json",
        r#"{"energy": 1.5, "arr": [1, 2, 3], "one": [7], "obj": {"k": "v"}}"#,
    );
    sb.write(
        "res/x=2/r.json",
        r#"{"energy": 2.5, "arr": [], "one": [8], "obj": {}}"#,
    );
    sb.write(
        "jqmodel.json",
        r#"{"output": {
            "e": "jq://.energy r.json",
            "n": "jq://'.arr | length' r.json",
            "one": "JQ://.one r.json",
            "k": "jq://.obj.k r.json",
            "each": "jq://.arr[] r.json",
            "bad": "jq://.energy"
        }}"#,
    );
    // No jq (nor anything else) can be found on the PATH.
    let rows = fzo_rows(&sb, "jqmodel.json", true);
    let r1 = &rows[0];
    assert_eq!(
        (&r1["x"], &r1["e"], &r1["n"], &r1["one"], &r1["k"]),
        (&json!(1), &json!(1.5), &json!(3), &json!([7]), &json!("v"))
    );
    assert_eq!(r1["each"], J::Null);
    let errors = r1["_output_error"].as_str().unwrap();
    assert!(
        errors.contains("Output 'each': jq filter '.arr[]' gave 3 values for r.json"),
        "{errors}"
    );
    assert!(
        errors.contains(
            "Output 'bad': Invalid 'jq://' output spec: expected a filter followed by a file, \
             got 'jq://.energy'"
        ),
        "{errors}"
    );
    let r2 = &rows[1];
    assert_eq!(
        (&r2["e"], &r2["n"], &r2["k"]),
        (&json!(2.5), &json!(0), &J::Null)
    );
}

#[test]
fn xpath_outputs_run_xmllint() {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but xmllint is missing (.ci/install installs libxml2-utils)"
        );
        eprintln!("skipped: xmllint is not installed");
        return;
    }
    let sb = Sandbox::new();
    sb.write(
        "res/x=1/out.xml",
        "<run><pressure unit=\"Pa\">101325.5</pressure><t>1</t><t>2</t><code>ok</code></run>\n",
    );
    sb.write(
        "xmodel.json",
        r#"{"output": {
            "p": "xpath://'//pressure/text()' out.xml",
            "unit": "xpath://'string(//pressure/@unit)' out.xml",
            "ts": "XPATH://'//t/text()' out.xml",
            "code": "xpath://'//code/text()' out.xml",
            "none": "xpath://'//nothing' out.xml"
        }}"#,
    );
    let rows = fzo_rows(&sb, "xmodel.json", false);
    let r = &rows[0];
    assert_eq!(
        (&r["p"], &r["unit"], &r["ts"], &r["code"], &r["none"]),
        (
            &json!(101325.5),
            &json!("Pa"),
            &json!([1, 2]),
            &json!("ok"),
            &J::Null
        )
    );
    let errors = r["_output_error"].as_str().unwrap();
    assert!(
        errors.starts_with("Output 'none': xmllint --xpath '//nothing' out.xml failed"),
        "{errors}"
    );
}

#[test]
fn yq_outputs_read_yaml_without_a_yq_executable() {
    let sb = Sandbox::new();
    sb.write(
        "res/x=1/out.yaml",
        "result:\n  pressure: 101325.5\n  history: [3, 2, 1]\n",
    );
    sb.write(
        "ymodel.json",
        r#"{"output": {
            "p": "yq://.result.pressure out.yaml",
            "h": "yq://.result.history out.yaml",
            "last": "yq://'.result.history | last' out.yaml"
        }}"#,
    );
    let rows = fzo_rows(&sb, "ymodel.json", true);
    assert_eq!(
        (&rows[0]["p"], &rows[0]["h"], &rows[0]["last"]),
        (&json!(101325.5), &json!([3, 2, 1]), &json!(1))
    );
    assert!(rows[0].get("_output_error").is_none(), "{rows}");
}
