//! `fzi` / `fz input` driven through the real binary.

mod common;
use common::Sandbox;
use predicates::prelude::*;

const TEMPLATE: &str = "# header\n#@ import math\n#@: PI = 3.14159\n#@: def area(r):\n#@:     return PI * r * r\n#@? area(1) > 0\nx=$x\ny=${y~2.5}\nz=$(z~\"hello\")\nw=${w~[1,2]}\nh=${h~0x1F}\nf1=@{$x * 2}\nf2=@{area(${y}) | 0.00}\nf3=@{math.sqrt($y)}\nf4=@{$unknown + 1 | 0.0}\n";

#[test]
fn verified_example_as_json() {
    let sb = Sandbox::new();
    sb.write("input.txt", TEMPLATE);
    let out = sb
        .cmd("fzi")
        .args(["input.txt", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "PI",
            "area",
            "h",
            "unknown",
            "w",
            "x",
            "y",
            "x * 2",
            "area(y)",
            "math.sqrt(y)",
            "unknown + 1"
        ]
    );
    assert_eq!(json["PI"], "3.14159");
    assert_eq!(json["area"], "def area(r):\n    return PI * r * r");
    assert_eq!(json["h"], 31);
    assert_eq!(json["w"], serde_json::json!([1, 2]));
    assert_eq!(json["x"], serde_json::Value::Null);
    assert_eq!(json["y"], 2.5);
    assert_eq!(json["x * 2"], serde_json::Value::Null);
    // We keep `${y}` whole inside the formula (upstream cuts at its `}`).
    assert_eq!(json["area(y)"], 19.63);
    assert_eq!(
        json["math.sqrt(y)"],
        serde_json::Value::Null,
        "#@ lines are not run by fzi"
    );
    assert_eq!(json["unknown + 1"], "0.0");
}

#[test]
fn model_without_delim_uses_parentheses() {
    let sb = Sandbox::new();
    sb.write("input.txt", TEMPLATE);
    let out = sb
        .cmd("fzi")
        .args([
            "input.txt",
            "-f",
            "json",
            "-m",
            r##"{"varprefix":"$","formulaprefix":"@","commentline":"#"}"##,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["z"], "hello");
    assert_eq!(json["y"], serde_json::Value::Null);
    // `${y}` is not a variable with `()` delimiters, so it is plain text in
    // the formula; its braces nest (upstream cut the formula at `}`).
    assert_eq!(json["area(${y})"], "0.00", "{json}");
}

#[test]
fn key_aliases_are_honoured() {
    let sb = Sandbox::new();
    sb.write(
        "in.txt",
        "*F: MULTIPLIER = 3\nInput: V(val~7)\nOutput: F{V(val) * MULTIPLIER}\n",
    );
    let model =
        r#"{"varchar":"V","var_delim":"()","form_char":"F","formula_delim":"{}","comment":"*"}"#;
    sb.cmd("fzi")
        .args(["in.txt", "-m", model, "-f", "json"])
        .assert()
        .success()
        .stdout(predicate::eq(
            "{\n  \"MULTIPLIER\": \"3\",\n  \"val\": 7,\n  \"val * MULTIPLIER\": 21\n}\n",
        ));
}

#[test]
fn formats_of_the_worked_session() {
    let sb = Sandbox::new();
    sb.write(
        "input.txt",
        "x=${x}\ny=$y\n#@ def f(a):\n#@     return a*2\nz=@{f($x)}\n",
    );
    sb.cmd("fzi")
        .args(["input.txt", "--format", "json"])
        .assert()
        .success()
        .stdout("{\n  \"x\": null,\n  \"y\": null,\n  \"f(x)\": null\n}\n");
    sb.cmd("fz")
        .args(["input", "input.txt", "--format", "csv"])
        .assert()
        .success()
        .stdout("Key,Value\nx,None\ny,None\nf(x),None\n");
    for format in ["markdown", "table", "html"] {
        let out = sb
            .cmd("fzi")
            .args(["input.txt", "-f", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("f(x)"), "{format}: {text}");
        assert!(
            out.stderr.is_empty(),
            "{format}: nothing on stderr by default"
        );
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let sb = Sandbox::new();
    sb.write("a.txt", "x");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![],
            "input_path is required (positional or --input_path)",
        ),
        (
            vec!["a.txt", "--input_path", "b.txt"],
            "input_path given twice: positional 'a.txt' and --input_path 'b.txt'",
        ),
        (vec!["a.txt", "--format", "xml"], "invalid value 'xml'"),
        (vec!["a.txt", "--bogus"], "unexpected argument '--bogus'"),
        (
            vec!["a.txt", "--output-cmd", "nothing"],
            "--output-cmd expects NAME=COMMAND, got 'nothing'",
        ),
    ];
    for (args, msg) in cases {
        let out = sb.cmd("fzi").args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("fzi: error: ") && err.contains(msg),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn library_errors_exit_1_naming_the_culprit() {
    let sb = Sandbox::new();
    sb.write("a.txt", "x=@{1+1}");
    sb.write("bad.json", "{not json");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["missing.txt"], "Input path '"),
        (vec!["a.txt", "-m", "{\"delim\": 3"], "invalid inline JSON"),
        (
            vec!["a.txt", "-m", "nosuchmodel"],
            "model 'nosuchmodel' not found",
        ),
        (vec!["a.txt", "-m", "bad.json"], "bad.json: invalid JSON"),
        (
            vec!["a.txt", "-m", "{\"delim\": \"abc\"}"],
            "Model 'delim' must be empty or exactly 2 characters",
        ),
    ];
    for (args, msg) in cases {
        let out = sb.cmd("fzi").args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(msg), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn missing_python_is_one_clear_error() {
    let sb = Sandbox::new();
    sb.write("a.txt", "x=@{1+1}");
    let out = sb
        .cmd("fzi")
        .arg("a.txt")
        .env("FZ_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/python3"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn model_alias_from_project_dir() {
    let sb = Sandbox::new();
    sb.write(".fz/models/mine.json", r#"{"varprefix":"%","delim":"()"}"#);
    sb.write("a.txt", "a=%(k~4) b=$x");
    sb.cmd("fzi")
        .args(["a.txt", "-m", "mine", "-f", "json"])
        .assert()
        .success()
        .stdout("{\n  \"k\": 4\n}\n");
}

#[test]
fn version_and_bare_commands() {
    let sb = Sandbox::new();
    let v = env!("CARGO_PKG_VERSION");
    sb.cmd("fzi")
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("fzi {v} (funz-fz 1.2 compatible)\n"));
    sb.cmd("fz")
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("fz {v} (funz-fz 1.2 compatible)\n"));
    sb.cmd("fzd")
        .assert()
        .code(2)
        .stdout("")
        .stderr("fzd: error: input_path is required (positional or --input_path)\n");
    sb.cmd("fz")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("compile"));
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let sb = Sandbox::new();
    let vars: String = (0..2000).map(|i| format!("v{i}=$v{i}\n")).collect();
    sb.write("big.txt", &vars);
    let fzi = sb.bin.join("fzi");
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "{} big.txt -f csv | head -n 1; echo \"rc=${{PIPESTATUS[0]}}\"",
                fzi.display()
            ),
        ])
        .current_dir(sb.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("rc=0\n"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
