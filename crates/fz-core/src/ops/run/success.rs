//! Whether an attempt succeeded, decided once its outputs can be read: the
//! model's `success` rule (`"exit"`: the calculator's exit code decides;
//! `"outputs"`: every model output having a value decides) and
//! `FZ_MISSING_OUTPUT_FAILS`.
//!
//! This module owns that decision and its wording, the same for every
//! calculator. It runs nothing and reads no file: the caller extracts the
//! outputs (only when [`needs_outputs`] says they matter) and applies the
//! [`Verdict`].

use crate::calculators::{Attempt, AttemptStatus};
use crate::engine::Verdict;
use crate::model::SuccessRule;
use crate::outputs::Extracted;
use crate::Value;

/// The rules a run applies to every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SuccessRules {
    /// The model's `success` key.
    pub rule: SuccessRule,
    /// `FZ_MISSING_OUTPUT_FAILS`: under the `exit` rule, an output missing
    /// after a successful attempt fails it.
    pub missing_output_fails: bool,
    /// Whether the model has outputs at all.
    pub has_outputs: bool,
}

impl SuccessRules {
    /// Whether the outputs of `attempt` must be read to judge it.
    pub fn needs_outputs(&self, attempt: &Attempt) -> bool {
        if !self.has_outputs {
            return false;
        }
        match self.rule {
            SuccessRule::Exit => self.missing_output_fails && attempt.status == AttemptStatus::Done,
            SuccessRule::Outputs => {
                attempt.status == AttemptStatus::Done || exit_failure(attempt).is_some()
            }
        }
    }

    /// What `attempt` becomes given its outputs `got` (read only when
    /// [`needs_outputs`](Self::needs_outputs) said so; `None` otherwise).
    pub fn judge(&self, attempt: &Attempt, got: Option<&Extracted>) -> Verdict {
        let Some(got) = got.filter(|_| self.needs_outputs(attempt)) else {
            return Verdict::AsIs;
        };
        let missing = missing_outputs(got);
        match (attempt.status, exit_failure(attempt)) {
            (AttemptStatus::Done, _) if !missing.is_empty() => {
                Verdict::Failed(format!("Missing output: {}", missing.join("; ")))
            }
            (AttemptStatus::Failed, Some(code)) if missing.is_empty() => Verdict::Done(format!(
                "exit code {code} ignored: every output has a value (model \"success\": \
                 \"outputs\")"
            )),
            _ => Verdict::AsIs,
        }
    }
}

/// The exit code of a failed attempt whose command ran to its end and
/// exited non-zero (not a timeout, an interrupt, a job killed by a
/// scheduler, nor a command that never started).
fn exit_failure(attempt: &Attempt) -> Option<i32> {
    match (attempt.status, attempt.exit_code) {
        (AttemptStatus::Failed, Some(code)) if code != 0 => Some(code),
        _ => None,
    }
}

/// One message per output without a value: its extraction error, or
/// `Output 'name': no value` when the expression gave nothing (None).
fn missing_outputs(got: &Extracted) -> Vec<String> {
    got.values
        .iter()
        .filter(|(_, v)| **v == Value::Null)
        .map(|(name, _)| {
            let own = format!("Output '{name}':");
            got.errors
                .iter()
                .find(|e| e.starts_with(&own))
                .cloned()
                .unwrap_or_else(|| format!("Output '{name}': no value"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn attempt(status: AttemptStatus, code: Option<i32>) -> Attempt {
        Attempt {
            status,
            exit_code: code,
            command: "c".into(),
            command_line: "c".into(),
            started: SystemTime::now(),
            ended: SystemTime::now(),
            error: (status != AttemptStatus::Done).then(|| "boom".into()),
            host: None,
        }
    }

    /// `r` = 1.5 and `v` as given, `v`'s error when it has no value.
    fn outputs(v: Value, error: Option<&str>) -> Extracted {
        let mut got = Extracted::default();
        got.values.insert("r".into(), Value::Float(1.5));
        got.values.insert("v".into(), v);
        got.errors.extend(error.map(String::from));
        got
    }

    fn rules(rule: SuccessRule, missing_output_fails: bool) -> SuccessRules {
        SuccessRules {
            rule,
            missing_output_fails,
            has_outputs: true,
        }
    }

    #[test]
    fn outputs_rule_accepts_a_non_zero_exit_when_every_output_has_a_value() {
        let r = rules(SuccessRule::Outputs, false);
        let failed = attempt(AttemptStatus::Failed, Some(1));
        assert!(r.needs_outputs(&failed));
        assert_eq!(
            r.judge(&failed, Some(&outputs(Value::Int(2), None))),
            Verdict::Done(
                "exit code 1 ignored: every output has a value (model \"success\": \"outputs\")"
                    .into()
            )
        );
        // One output missing: the calculator's failure stands.
        let none = outputs(Value::Null, None);
        assert_eq!(r.judge(&failed, Some(&none)), Verdict::AsIs);
    }

    #[test]
    fn outputs_rule_fails_a_zero_exit_with_a_missing_output() {
        let r = rules(SuccessRule::Outputs, false);
        let done = attempt(AttemptStatus::Done, Some(0));
        let got = outputs(
            Value::Null,
            Some("Output 'v': command returned empty output (no result produced)"),
        );
        assert_eq!(
            r.judge(&done, Some(&got)),
            Verdict::Failed(
                "Missing output: Output 'v': command returned empty output (no result produced)"
                    .into()
            )
        );
        // An expression that gave None names the output too.
        assert_eq!(
            r.judge(&done, Some(&outputs(Value::Null, None))),
            Verdict::Failed("Missing output: Output 'v': no value".into())
        );
        assert_eq!(
            r.judge(&done, Some(&outputs(Value::Int(2), None))),
            Verdict::AsIs
        );
    }

    #[test]
    fn only_exit_failures_can_be_accepted() {
        let r = rules(SuccessRule::Outputs, false);
        for a in [
            attempt(AttemptStatus::Timeout, None),
            attempt(AttemptStatus::Interrupted, None),
            attempt(AttemptStatus::Failed, None),
            // A transfer that failed after exit 0.
            attempt(AttemptStatus::Failed, Some(0)),
        ] {
            assert!(!r.needs_outputs(&a), "{a:?}");
            assert_eq!(
                r.judge(&a, Some(&outputs(Value::Int(2), None))),
                Verdict::AsIs
            );
        }
    }

    #[test]
    fn exit_rule_reads_outputs_only_under_missing_output_fails() {
        let done = attempt(AttemptStatus::Done, Some(0));
        let failed = attempt(AttemptStatus::Failed, Some(1));
        let got = outputs(Value::Null, None);
        let plain = rules(SuccessRule::Exit, false);
        assert!(!plain.needs_outputs(&done) && !plain.needs_outputs(&failed));
        assert_eq!(plain.judge(&done, Some(&got)), Verdict::AsIs);
        let strict = rules(SuccessRule::Exit, true);
        assert!(strict.needs_outputs(&done) && !strict.needs_outputs(&failed));
        assert_eq!(
            strict.judge(&done, Some(&got)),
            Verdict::Failed("Missing output: Output 'v': no value".into())
        );
        assert_eq!(
            strict.judge(&failed, Some(&outputs(Value::Int(2), None))),
            Verdict::AsIs,
            "a non-zero exit is a failure under the exit rule"
        );
        let no_outputs = SuccessRules {
            has_outputs: false,
            ..rules(SuccessRule::Outputs, true)
        };
        assert!(!no_outputs.needs_outputs(&done));
    }
}
