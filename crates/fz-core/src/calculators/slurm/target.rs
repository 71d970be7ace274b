//! What a `slurm://` URI says: where (local or an SSH login), on which
//! partition, which script, and the SLURM options of its query.
//!
//! This module owns the grammar of the URI body (spec §6.1,
//! `[user[:password]@host[:port]]:partition/script`) and the checks of the
//! query values (`time`, `mem`, `cpus`, `account`, `qos`, `array`, `pack`,
//! `keep`; `ok_exit` is read by [`exit_codes`](crate::calculators::exit_codes)).
//! It runs nothing and reads no environment except `SSH_USER` through the
//! caller.

use crate::calculators::ssh::target::{self as ssh_target, SshTarget};
use crate::calculators::uri::CalculatorUri;
use crate::{Error, Result};

/// A parsed `slurm://` URI.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmTarget {
    /// The SSH login for remote mode; `None` in local mode.
    pub login: Option<SshTarget>,
    /// The partition (`--partition`).
    pub partition: String,
    /// The script: a command line, run in the case directory as written.
    pub script: String,
    /// SLURM options from the query, as `--key=value` arguments in a fixed
    /// order (`--time`, `--mem`, `--cpus-per-task`, `--account`, `--qos`).
    pub options: Vec<String>,
    /// `?array=1`: submit the cases as one job array.
    pub array: bool,
    /// `?pack=auto|N` (with or without `array=1`): packed mode, a few
    /// array tasks each running many cases from a queue.
    pub pack: Option<super::pack::PackSize>,
    /// `?keep=1`: keep the remote directory (remote mode).
    pub keep: bool,
}

/// A check of an option value.
type Check = fn(&str) -> bool;

/// Which query key becomes which SLURM option, and how its value is
/// checked.
const OPTIONS: &[(&str, &str, Check)] = &[
    ("time", "--time", valid_time),
    ("mem", "--mem", valid_mem),
    ("cpus", "--cpus-per-task", valid_count),
    ("account", "--account", valid_name),
    ("qos", "--qos", valid_name),
];

impl SlurmTarget {
    /// Parses a `slurm://` URI (see the module documentation);
    /// `default_user` fills a missing SSH user in remote mode.
    ///
    /// Errors ([`Error::Value`], one line naming the redacted URI): no
    /// partition, no script, too many colons, `user@partition` without a
    /// host, a bad port, an unknown query key, a bad option value.
    pub fn parse(uri: &CalculatorUri, default_user: Option<&str>) -> Result<Self> {
        let shown = &uri.display;
        let bad =
            |why: String| Error::Value(format!("Invalid SLURM calculator URI '{shown}': {why}"));
        let body = uri.body.trim_start();
        let (conn, script) = body.split_once('/').unwrap_or((body, ""));
        if conn.is_empty() {
            return Err(bad(
                "partition is required (slurm://:partition/script)".into()
            ));
        }
        let Some((login, partition)) = conn.rsplit_once(':') else {
            return Err(bad(
                "no partition; for local execution, use format slurm://:partition/script".into(),
            ));
        };
        if partition.is_empty() || !valid_name(partition) {
            return Err(bad(format!(
                "bad partition '{partition}' (letters, digits, '-', '_', '.')"
            )));
        }
        let login = if login.is_empty() {
            None
        } else {
            if !login.contains('@') && login.matches(':').count() > 1 {
                return Err(bad("Too many colons (use host[:port]:partition)".into()));
            }
            if login.ends_with('@') {
                return Err(bad(
                    "a user without a host; use user@host[:port]:partition".into()
                ));
            }
            let (target, _) =
                ssh_target::parse_body(&format!("{login}/true"), default_user, shown)?;
            Some(target)
        };
        let script = script.trim().to_string();
        if script.is_empty() {
            return Err(bad(
                "a script is required after the partition (slurm://:partition/script)".into(),
            ));
        }
        let mut options = Vec::new();
        for (key, flag, check) in OPTIONS {
            if let Some(value) = uri.params.get(*key) {
                if !check(value) {
                    return Err(bad(format!("bad value '{value}' for '{key}'")));
                }
                options.push(format!("{flag}={value}"));
            }
        }
        let flag = |key: &str| -> Result<bool> {
            match uri.params.get(key) {
                None => Ok(false),
                Some(v) => crate::config::parse_bool(v).ok_or_else(|| {
                    bad(format!(
                        "{key} must be 1/true/yes/on or 0/false/no/off, got '{v}'"
                    ))
                }),
            }
        };
        let array = flag("array")?;
        let keep = flag("keep")?;
        if let Some(key) = uri.params.keys().find(|k| {
            !["array", "keep", "pack", crate::calculators::exit_codes::KEY].contains(&k.as_str())
                && !OPTIONS.iter().any(|o| o.0 == k.as_str())
        }) {
            return Err(Error::Value(format!(
                "Query parameter '{key}' is not supported by slurm:// calculators \
                 (timeout, ok_exit, array, pack, time, mem, cpus, account, qos, keep): '{shown}'"
            )));
        }
        let pack = match uri.params.get("pack") {
            None => None,
            Some(v) => Some(super::pack::PackSize::parse(v).ok_or_else(|| {
                bad(format!(
                    "pack must be 'auto' or a positive number of cases, got '{v}'"
                ))
            })?),
        };
        Ok(SlurmTarget {
            login,
            partition: partition.to_string(),
            script,
            options,
            array: array || pack.is_some(),
            pack,
            keep,
        })
    }
}

/// SLURM time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
fn valid_time(v: &str) -> bool {
    let (days, rest) = match v.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, v),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    days.is_none_or(digits) && rest.split(':').count() <= 3 && rest.split(':').all(digits)
}

/// A memory size: digits with an optional `K`, `M`, `G` or `T` unit.
fn valid_mem(v: &str) -> bool {
    let num = v.trim_end_matches(|c: char| "KMGTkmgt".contains(c));
    v.len() - num.len() <= 1 && !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit())
}

/// A positive integer.
fn valid_count(v: &str) -> bool {
    v.parse::<u32>().is_ok_and(|n| n > 0)
}

/// A SLURM name (partition, account, QOS).
fn valid_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Result<SlurmTarget> {
        SlurmTarget::parse(&CalculatorUri::parse(uri)?, None)
    }

    #[test]
    fn grammar_of_the_spec() {
        let t = parse("slurm://:compute/bash script.sh").unwrap();
        assert_eq!(
            (t.login, t.partition.as_str(), t.script.as_str()),
            (None, "compute", "bash script.sh")
        );
        let t = parse("slurm://user@cluster.edu:gpu/bash sim.sh").unwrap();
        let l = t.login.unwrap();
        assert_eq!(
            (l.user.as_deref(), l.host.as_str(), l.port),
            (Some("user"), "cluster.edu", None)
        );
        assert_eq!(t.partition, "gpu");
        let t = parse("slurm://user@hpc.edu:2222:compute/bash run.sh").unwrap();
        let l = t.login.unwrap();
        assert_eq!(
            (l.host.as_str(), l.port, t.partition.as_str()),
            ("hpc.edu", Some(2222), "compute")
        );
        let t = parse("slurm://cluster:debug/run.sh").unwrap();
        assert_eq!(
            (
                t.login.unwrap().host.as_str(),
                t.partition.as_str(),
                t.script.as_str()
            ),
            ("cluster", "debug", "run.sh")
        );
        let t = parse("slurm://host:22:debug/a/b.sh x").unwrap();
        assert_eq!(
            (t.login.unwrap().port, t.script.as_str()),
            (Some(22), "a/b.sh x")
        );
    }

    #[test]
    fn options_and_array() {
        let t = parse(
            "slurm://:debug/x?array=1&time=0:30&mem=2G&cpus=2&account=a1&qos=normal&timeout=9",
        )
        .unwrap();
        assert!(t.array);
        assert_eq!(
            t.options,
            [
                "--time=0:30",
                "--mem=2G",
                "--cpus-per-task=2",
                "--account=a1",
                "--qos=normal"
            ]
        );
        assert!(!parse("slurm://:debug/x?array=no").unwrap().array);
    }

    #[test]
    fn errors_are_one_line_and_name_the_uri() {
        for (uri, needle) in [
            ("slurm:///x", "partition is required"),
            ("slurm://compute/script.sh", "slurm://:partition/script"),
            ("slurm://a:b:c:d/x", "Too many colons"),
            ("slurm://:debug/", "script is required"),
            ("slurm://:debug", "script is required"),
            ("slurm://:/x", "bad partition"),
            ("slurm://:de;bug/x", "bad partition"),
            ("slurm://u:s3cret@h:99999:debug/x", "99999"),
            ("slurm://@:debug/x", "without a host"),
            ("slurm://:debug/x?time=1h", "'time'"),
            ("slurm://:debug/x?mem=lots", "'mem'"),
            ("slurm://:debug/x?cpus=0", "'cpus'"),
            ("slurm://:debug/x?qos=a%20b", "'qos'"),
            ("slurm://:debug/x?array=maybe", "array"),
            (
                "slurm://:debug/x?partition=p",
                "'partition' is not supported",
            ),
        ] {
            let e = parse(uri).unwrap_err().to_string();
            assert!(e.contains(needle), "{uri}: {e}");
            assert!(!e.contains('\n'), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn value_checks() {
        for ok in ["10", "1:00", "01:00:00", "2-12", "2-12:30:00"] {
            assert!(valid_time(ok), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-5", "a-1"] {
            assert!(!valid_time(bad), "{bad}");
        }
        assert!(valid_mem("4G") && valid_mem("512") && !valid_mem("4GB") && !valid_mem("G"));
    }
}
