//! The events a run reports as it goes (case started, case finished,
//! progress), and their JSON form shared by the Python callbacks and the
//! CLI's `--events` file. This module only describes events; the run sends
//! them and the callers decide what to do with them.

use serde_json::json;

/// What a run reports as it goes, to a caller following it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Cases are compiled; running starts.
    Started {
        /// Number of cases.
        total: usize,
        /// The calculators, as resolved (cache tiers included).
        calculators: Vec<String>,
    },
    /// A case starts (before its cache check).
    CaseStarted {
        /// Its index.
        index: usize,
        /// Number of cases.
        total: usize,
        /// Its variables.
        values: crate::design::Case,
    },
    /// A case finished; `row` is its row of the table.
    CaseFinished {
        /// Its index.
        index: usize,
        /// Number of cases.
        total: usize,
        /// Its variables.
        values: crate::design::Case,
        /// Its final status.
        status: String,
        /// Its row: column name → value.
        row: indexmap::IndexMap<String, crate::Value>,
    },
    /// After every finished case.
    Progress {
        /// Cases finished so far.
        completed: usize,
        /// Number of cases.
        total: usize,
        /// Estimated seconds left.
        eta_seconds: f64,
    },
    /// The run ended (every case has its row).
    Finished {
        /// Number of cases.
        total: usize,
        /// Cases that ended `done`.
        done: usize,
        /// Whether an interrupt kept cases from running.
        interrupted: bool,
    },
}

impl RunEvent {
    /// The event's name, as upstream's callbacks and the README's list
    /// form call it: `start`, `case_start`, `case_complete`, `progress`,
    /// `complete`.
    pub fn kind(&self) -> &'static str {
        match self {
            RunEvent::Started { .. } => "start",
            RunEvent::CaseStarted { .. } => "case_start",
            RunEvent::CaseFinished { .. } => "case_complete",
            RunEvent::Progress { .. } => "progress",
            RunEvent::Finished { .. } => "complete",
        }
    }

    /// The event's data as JSON (without its name).
    pub fn payload(&self) -> serde_json::Value {
        let values = |v: &crate::design::Case| crate::Value::Map(v.clone()).to_json();
        match self {
            RunEvent::Started { total, calculators } => {
                json!({"total": total, "calculators": calculators})
            }
            RunEvent::CaseStarted {
                index,
                total,
                values: v,
            } => json!({"index": index, "total": total, "values": values(v)}),
            RunEvent::CaseFinished {
                index,
                total,
                values: v,
                status,
                row,
            } => json!({
                "index": index, "total": total, "values": values(v), "status": status,
                "row": crate::Value::Map(row.clone()).to_json(),
            }),
            RunEvent::Progress {
                completed,
                total,
                eta_seconds,
            } => json!({"completed": completed, "total": total, "eta": eta_seconds}),
            RunEvent::Finished {
                total,
                done,
                interrupted,
            } => json!({"total": total, "done": done, "interrupted": interrupted}),
        }
    }

    /// One line of JSON: the payload with an `"event"` key first and a
    /// timestamp (seconds since the Unix epoch), for `fz run --events`.
    pub fn json_line(&self) -> String {
        let mut line = serde_json::Map::new();
        line.insert("event".into(), json!(self.kind()));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        line.insert("time".into(), json!((now * 1000.0).round() / 1000.0));
        if let serde_json::Value::Object(fields) = self.payload() {
            line.extend(fields);
        }
        serde_json::Value::Object(line).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn a_finished_case_becomes_one_json_line_with_its_row() {
        let mut values = crate::design::Case::new();
        values.insert("T".into(), Value::Int(20));
        let mut row = indexmap::IndexMap::new();
        row.insert("T".to_string(), Value::Int(20));
        row.insert("pressure".to_string(), Value::Float(2.5));
        let event = RunEvent::CaseFinished {
            index: 3,
            total: 9,
            values,
            status: "done".into(),
            row,
        };
        let line = event.json_line();
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"], "case_complete");
        assert_eq!(parsed["index"], 3);
        assert_eq!(parsed["status"], "done");
        assert_eq!(parsed["row"]["pressure"].as_f64(), Some(2.5));
        assert_eq!(parsed["values"]["T"], 20);
        assert!(parsed["time"].as_f64().unwrap() > 1.0e9);
        assert!(line.starts_with("{\"event\":\"case_complete\""));
    }

    #[test]
    fn progress_names_its_eta() {
        let event = RunEvent::Progress {
            completed: 1,
            total: 4,
            eta_seconds: 1.5,
        };
        assert_eq!(event.kind(), "progress");
        assert_eq!(
            event.payload(),
            json!({"completed": 1, "total": 4, "eta": 1.5})
        );
    }
}
