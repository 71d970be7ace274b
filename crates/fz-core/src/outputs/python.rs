//! `python://<expression>` extractors (compile-and-output.md §5.5),
//! evaluated by a real `python3` (`FZ_PYTHON`) worker process.
//!
//! This module owns the pool of output workers (one process per thread
//! extracting at the same time, reused by later calls), the wire exchange
//! with a worker (one JSON request line, one marked JSON reply line, see
//! `python_worker.py`), and the time limit of one evaluation (the worker
//! is killed and replaced when it passes). The helper functions the
//! expression sees (`read`, `lines`, `line`, `grep`, `json_file`,
//! `csv_file`, `hdf5_file`, `np`, `pd`, …) live in the worker script. It
//! does not decide how errors are reported in the table
//! ([`super::extract_one`] does).

use crate::template::interp::{from_wire, InterpreterKind};
use crate::value::Value;
use crate::worker::{JsonWorker, WorkerError};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// The worker script, run with `python3 -c`.
const WORKER: &str = include_str!("python_worker.py");

/// Idle workers, reused by the next evaluation.
static POOL: Mutex<Vec<JsonWorker>> = Mutex::new(Vec::new());

/// Evaluates `expr` with the case directory `dir` (absolute) as the base
/// of relative paths: its value, or the one-line error (the expression's
/// exception text, a worker that could not start or died, the time
/// limit).
pub fn evaluate(expr: &str, dir: &Path, limit: Option<Duration>) -> Result<Value, String> {
    let exe = InterpreterKind::Python.executable();
    let taken = {
        let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
        // Workers of another interpreter (FZ_PYTHON changed) are not reused.
        pool.retain(|w| w.exe == exe);
        pool.pop()
    };
    let mut worker = match taken {
        Some(w) => w,
        None => start(&exe)?,
    };
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    match ask(&mut worker, expr, &dir, limit) {
        Ok(answer) => {
            POOL.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
            answer
        }
        // The worker is dropped (killed): the next call starts a new one.
        Err(fatal) => Err(fatal),
    }
}

fn start(exe: &str) -> Result<JsonWorker, String> {
    JsonWorker::start(
        exe,
        WORKER,
        "python:// worker",
        &[("PYTHONIOENCODING", "utf-8")],
    )
    .map_err(|e| {
        format!(
            "python:// outputs need Python: could not run '{exe}' (set FZ_PYTHON to a \
             python3 executable): {e}"
        )
    })
}

/// `Ok(answer)`: the worker replied (the answer may be the expression's
/// error); `Err`: the worker is unusable.
fn ask(
    worker: &mut JsonWorker,
    expr: &str,
    dir: &Path,
    limit: Option<Duration>,
) -> Result<Result<Value, String>, String> {
    let request = serde_json::json!({"expr": expr, "dir": dir.to_string_lossy()});
    let json = worker
        .ask(&request.to_string(), limit)
        .map_err(|e| match e {
            WorkerError::Timeout(secs) => format!(
                "expression timed out after {secs} s ({})",
                super::shell::TIMEOUT_ENV
            ),
            WorkerError::Dead(message) => message,
        })?;
    if let Some(e) = json.get("e").and_then(|e| e.as_str()) {
        return Ok(Err(e.to_string()));
    }
    match json.get("v") {
        Some(v) => Ok(from_wire(v).map_err(|e| format!("python:// worker: {e}"))),
        None => Err("python:// worker: reply without a value".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("log.txt", "T=1.5\nT=2\nT=abc\nname: foo\n"),
            ("d.csv", "a,b\n1,2\n3,4\n"),
            ("r.json", r#"{"energy": 1.5, "arr": [1, 2, 3], "one": [7]}"#),
        ];
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn ev(dir: &Path, expr: &str) -> Result<Value, String> {
        evaluate(expr, dir, Some(Duration::from_secs(30)))
    }

    #[test]
    fn the_verified_examples_of_the_spec() {
        let d = case_dir();
        let d = d.path();
        let ints = |v: &[i128]| Value::List(v.iter().map(|i| Value::Int(*i)).collect());
        assert_eq!(ev(d, r"grep(r'T=(\S+)', 'log.txt')"), Ok(Value::Float(1.5)));
        assert_eq!(
            ev(d, r"grep(r'T=(\S+)', 'log.txt', all=True)"),
            Ok(Value::List(vec![
                Value::Float(1.5),
                Value::Int(2),
                Value::Str("abc".into())
            ]))
        );
        assert_eq!(ev(d, r"grep(r'Z=(\S+)', 'log.txt')"), Ok(Value::Null));
        assert_eq!(
            ev(d, r"grep(r'T=(\S+)', 'log.txt', cast=False)"),
            Ok(Value::Str("1.5".into()))
        );
        assert_eq!(
            ev(d, "line('log.txt', -1)"),
            Ok(Value::Str("name: foo".into()))
        );
        assert_eq!(ev(d, "len(lines('log.txt'))"), Ok(Value::Int(4)));
        assert_eq!(ev(d, "json_file('r.json')['one']"), Ok(ints(&[7])));
        assert_eq!(ev(d, "math.sqrt(16)"), Ok(Value::Float(4.0)));
        assert_eq!(ev(d, "[1]"), Ok(ints(&[1])), "not unwrapped");
        // Helpers are visible inside generator expressions (upstream: not).
        assert_eq!(
            ev(d, "sum(len(line('log.txt', i)) for i in range(2))"),
            Ok(Value::Int(8))
        );
        assert_eq!(ev(d, "float('nan') != float('nan')"), Ok(Value::Bool(true)));
        assert!(matches!(ev(d, "float('inf')"), Ok(Value::Float(f)) if f.is_infinite()));
    }

    #[test]
    fn errors_and_output_of_the_expression() {
        let d = case_dir();
        let d = d.path();
        let e = ev(d, "read('missing.txt')").unwrap_err();
        assert!(
            e.starts_with("[Errno 2] No such file or directory: '") && e.ends_with("missing.txt'"),
            "{e}"
        );
        assert_eq!(ev(d, "1/0").unwrap_err(), "division by zero");
        assert!(ev(d, "1 +").unwrap_err().contains("invalid syntax"));
        // What the expression prints cannot be taken for the reply.
        assert_eq!(ev(d, "print('{\"v\": 1}') or 5"), Ok(Value::Int(5)));
        // A worker that exits is replaced.
        let e = ev(d, "exit(3)").unwrap_err();
        assert!(e.starts_with("python:// worker: it stopped"), "{e}");
        assert_eq!(ev(d, "2 + 2"), Ok(Value::Int(4)));
    }

    #[test]
    fn a_hanging_expression_is_stopped_at_the_limit() {
        let d = case_dir();
        let e = evaluate(
            "__import__('time').sleep(30)",
            d.path(),
            Some(Duration::from_millis(300)),
        )
        .unwrap_err();
        assert!(e.contains("timed out after 0.3 s"), "{e}");
        assert_eq!(ev(d.path(), "3"), Ok(Value::Int(3)));
    }
}
