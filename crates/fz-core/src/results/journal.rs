//! The run journal, `fz_journal.tsv` in the results directory: one line per
//! attempt (and per cache hit), appended as each ends, in the spirit of GNU
//! parallel's joblog. Each line is written with a single `write` on a file
//! opened for appending, so concurrent attempts never interleave and a
//! crash loses at most the line being written. `fz report` reads it.

use crate::calculators::Attempt;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The journal's file name in a results directory.
pub const JOURNAL: &str = "fz_journal.tsv";

/// Column names of the journal.
pub const COLUMNS: [&str; 10] = [
    "case",
    "attempt",
    "calculator",
    "start",
    "end",
    "duration_s",
    "exit_code",
    "status",
    "host",
    "error",
];

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    file: Mutex<File>,
    host: String,
}

/// This machine's host name (journal lines, lock holders).
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A field without tabs or newlines.
fn field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

impl Journal {
    /// Opens `dir/fz_journal.tsv` for appending, writing the header line
    /// when the journal is new (a resumed run continues the old one).
    pub fn create(dir: &Path) -> Result<Journal> {
        let path = dir.join(JOURNAL);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        if empty {
            file.write_all(format!("{}\n", COLUMNS.join("\t")).as_bytes())
                .map_err(|e| Error::io(&path, e))?;
        }
        Ok(Journal {
            file: Mutex::new(file),
            host: host_name(),
        })
    }

    /// Appends the line of an attempt (number 0: a cache hit).
    pub fn record(&self, case: &str, number: usize, calculator: &str, attempt: &Attempt) {
        let start = epoch(attempt.started);
        let end = epoch(attempt.ended);
        let line = format!(
            "{}\t{number}\t{}\t{start:.3}\t{end:.3}\t{:.3}\t{}\t{}\t{}\t{}\n",
            field(case),
            field(calculator),
            (end - start).max(0.0),
            attempt.exit_code.map_or(String::new(), |c| c.to_string()),
            attempt.status.as_str(),
            field(attempt.host.as_deref().unwrap_or(&self.host)),
            field(attempt.error.as_deref().unwrap_or("")),
        );
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // One write call per line: appends from several threads never mix.
        let _ = file.write_all(line.as_bytes());
    }
}

/// One journal line, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalLine {
    /// Case directory name.
    pub case: String,
    /// Attempt number (0 for a cache hit).
    pub attempt: usize,
    /// Calculator.
    pub calculator: String,
    /// Start, seconds since the epoch.
    pub start: f64,
    /// End, seconds since the epoch.
    pub end: f64,
    /// Status word.
    pub status: String,
}

/// Reads a journal (lines that do not parse are skipped).
pub fn read(dir: &Path) -> Result<Vec<JournalLine>> {
    let path = dir.join(JOURNAL);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 8).then_some(())?;
            Some(JournalLine {
                case: f[0].to_string(),
                attempt: f[1].parse().ok()?,
                calculator: f[2].to_string(),
                start: f[3].parse().ok()?,
                end: f[4].parse().ok()?,
                status: f[7].to_string(),
            })
        })
        .collect())
}

/// `fz report`: counts by status and calculator, slowest cases, busy time
/// against wall time.
pub fn report(lines: &[JournalLine]) -> String {
    use std::collections::BTreeMap;
    let mut out = String::new();
    let mut final_status: BTreeMap<&str, &str> = BTreeMap::new();
    for l in lines {
        final_status.insert(&l.case, &l.status);
    }
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for s in final_status.values() {
        *by_status.entry(s).or_default() += 1;
    }
    out.push_str(&format!("cases: {}", final_status.len()));
    for (s, n) in &by_status {
        out.push_str(&format!(", {s}: {n}"));
    }
    out.push_str(&format!(
        "\nattempts: {}\n",
        lines.iter().filter(|l| l.attempt > 0).count()
    ));
    let mut by_calc: BTreeMap<&str, (usize, usize, f64)> = BTreeMap::new();
    for l in lines {
        let e = by_calc.entry(&l.calculator).or_default();
        e.0 += 1;
        if l.status == "done" {
            e.1 += 1;
        }
        e.2 += l.end - l.start;
    }
    out.push_str("by calculator:\n");
    for (c, (n, ok, t)) in &by_calc {
        out.push_str(&format!("  {c}: {n} attempts, {ok} done, {t:.2} s busy\n"));
    }
    let mut slow: Vec<&JournalLine> = lines.iter().filter(|l| l.attempt > 0).collect();
    slow.sort_by(|a, b| (b.end - b.start).total_cmp(&(a.end - a.start)));
    out.push_str("slowest attempts:\n");
    for l in slow.iter().take(5) {
        out.push_str(&format!(
            "  {:.2} s  {} (attempt {}, {})\n",
            l.end - l.start,
            l.case,
            l.attempt,
            l.status
        ));
    }
    let busy: f64 = lines.iter().map(|l| l.end - l.start).sum();
    let first = lines.iter().map(|l| l.start).fold(f64::INFINITY, f64::min);
    let last = lines
        .iter()
        .map(|l| l.end)
        .fold(f64::NEG_INFINITY, f64::max);
    let wall = if last > first { last - first } else { 0.0 };
    out.push_str(&format!(
        "busy time {busy:.2} s over {wall:.2} s of wall time ({:.1} cases at once on average)",
        if wall > 0.0 { busy / wall } else { 0.0 }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculators::AttemptStatus;
    use std::time::Duration;

    #[test]
    fn lines_round_trip_and_report() {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::create(d.path()).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1000);
        let attempt = |status, secs, code| Attempt {
            status,
            exit_code: code,
            command: "c".into(),
            command_line: "c".into(),
            started: t,
            ended: t + Duration::from_secs(secs),
            error: Some("bad\tthing\nhere".into()),
            host: None,
        };
        j.record(
            "x=1",
            1,
            "sh://a",
            &attempt(AttemptStatus::Failed, 2, Some(2)),
        );
        j.record(
            "x=1",
            2,
            "sh://b",
            &attempt(AttemptStatus::Done, 1, Some(0)),
        );
        j.record(
            "x=2",
            0,
            "cache://old",
            &attempt(AttemptStatus::Done, 0, None),
        );
        let mut remote = attempt(AttemptStatus::Done, 1, Some(0));
        remote.host = Some("calc-1 (10.0.0.2:7000)".into());
        j.record("x=3", 1, "funz://:5555/bash", &remote);
        let lines = read(d.path()).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].calculator, "sh://a");
        let text = std::fs::read_to_string(d.path().join(JOURNAL)).unwrap();
        assert!(text.starts_with("case\tattempt\tcalculator\t"));
        let hosts: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').nth(8))
            .collect();
        assert_eq!(
            hosts[3], "calc-1 (10.0.0.2:7000)",
            "where the calculator says it ran"
        );
        assert_eq!(hosts[0], host_name(), "this machine by default");
        assert!(
            text.contains("bad thing here"),
            "tabs and newlines flattened"
        );
        let r = report(&lines);
        assert!(r.starts_with("cases: 3, done: 3\nattempts: 3\n"), "{r}");
        assert!(r.contains("sh://a: 1 attempts, 0 done, 2.00 s busy"), "{r}");
    }
}
