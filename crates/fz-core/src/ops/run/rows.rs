//! What a batch keeps of each finished case until the final table: a
//! [`Finished`] row, without what the case's index gives back (its
//! variables, from the design; its directory, from its name) and with the
//! outputs as a plain list in model order, so a run of 100,000 cases keeps
//! a few hundred bytes per case. This module only converts; the batch
//! decides when rows are made and written.

use crate::design::Case;
use crate::results::{CaseResult, CaseStatus};
use crate::value::Value;
use std::path::PathBuf;

/// A finished case's row, compact.
#[derive(Debug, Clone)]
pub(super) struct Finished {
    /// Position of the case in the design.
    pub index: usize,
    /// Final status.
    pub status: CaseStatus,
    /// Output values, in the order of the model's output names (`Null`
    /// for a missing one).
    outputs: Box<[Value]>,
    calculator: Box<str>,
    error: Option<Box<str>>,
    command: Option<Box<str>>,
    exit_code: Option<i32>,
    attempts: usize,
}

impl Finished {
    /// The row of `result`, whose outputs are named in `output_names`.
    pub fn new(result: CaseResult, output_names: &[String]) -> Self {
        let mut outputs = result.outputs;
        Finished {
            index: result.index,
            status: result.status,
            outputs: output_names
                .iter()
                .map(|o| outputs.swap_remove(o).unwrap_or(Value::Null))
                .collect(),
            calculator: result.calculator.into(),
            error: result.error.map(Into::into),
            command: result.command.map(Into::into),
            exit_code: result.exit_code,
            attempts: result.attempts,
        }
    }

    /// The case's result again, with its variables and directory (as
    /// much as a table row shows; the attempt times are not kept).
    pub fn to_result(&self, vars: Case, dir: PathBuf, output_names: &[String]) -> CaseResult {
        CaseResult {
            index: self.index,
            vars,
            outputs: output_names
                .iter()
                .cloned()
                .zip(self.outputs.iter().cloned())
                .filter(|(_, v)| *v != Value::Null)
                .collect(),
            dir,
            calculator: self.calculator.to_string(),
            status: self.status,
            error: self.error.as_deref().map(str::to_string),
            command: self.command.as_deref().map(str::to_string),
            exit_code: self.exit_code,
            attempts: self.attempts,
            started: None,
            ended: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{build_table, table_row};
    use std::path::Path;

    #[test]
    fn a_compact_row_gives_the_same_table_row() {
        let names = vec!["r".to_string(), "m".to_string(), "gone".to_string()];
        let vars: Case = [("x".to_string(), Value::Int(3))].into_iter().collect();
        let result = CaseResult {
            index: 7,
            vars: vars.clone(),
            outputs: [
                ("m".to_string(), Value::Str("a".into())),
                ("r".to_string(), Value::Float(1.5)),
                ("extra".to_string(), Value::Int(1)),
            ]
            .into_iter()
            .collect(),
            dir: PathBuf::from("/w/results/x=3"),
            calculator: "sh://calc".into(),
            status: CaseStatus::Failed,
            error: Some("boom".into()),
            command: Some("bash calc.sh".into()),
            exit_code: Some(2),
            attempts: 3,
            started: None,
            ended: None,
        };
        let variables = vec!["x".to_string()];
        let cwd = Path::new("/w");
        let expected = table_row(&variables, &names, &result, cwd);
        let row = Finished::new(result.clone(), &names);
        let back = row.to_result(vars, PathBuf::from("/w/results/x=3"), &names);
        assert_eq!(table_row(&variables, &names, &back, cwd), expected);
        assert_eq!(
            build_table(&variables, &names, &[back], cwd),
            build_table(&variables, &names, &[result], cwd)
        );
        assert_eq!((row.index, row.status), (7, CaseStatus::Failed));
    }
}
