//! The spool of a packed run on a login node (`slurm://user@host:P/…
//! ?pack=…`): the same layout as [`super::spool`], under `~/.fz/tmp/` of
//! the login node (which the compute nodes share), reached through the
//! run's one `ssh://` master connection.
//!
//! Round trips are few: cases queued by the engine wait here until the
//! next synchronisation, which sends them all on the standard input of ONE
//! remote command; that command also drops dead claims, withdraws cases,
//! takes the outcomes the workers wrote and lists the queue and the claims,
//! and the answers are kept until the next one. The monitor synchronises
//! at most every [`SYNC_EVERY`] (and right after each `squeue`, so that a
//! task seen gone is judged on fresh claims). This module owns that
//! protocol and the cached view; it knows nothing of SLURM and does not
//! move case directories (`SlurmCalculator` sends and fetches them).

use super::spool::{parse_done, CaseFile, Outcome};
use crate::calculators::slurm::place::{remote_path, Place};
use crate::calculators::ssh::session::{RemoteDir, Session, Upload};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shortest time between two synchronisations asked by the monitor's
/// clock (those following a `squeue` come on top).
pub const SYNC_EVERY: Duration = Duration::from_millis(500);

/// Longest wait for one synchronisation.
const LIMIT: Duration = Duration::from_secs(60);

/// Most cases queued or withdrawn by one synchronisation (the rest go
/// with the next ones): bounds the remote command lines built from them.
const BATCH: usize = 2000;

/// `$1` the spool (relative to the home directory). Standard input:
/// `P <id> <case JSON>` (queue, unless the id is already in the spool),
/// `W <id>` (withdraw), `X <id>@<task>` (drop a claim). Prints `T <id>`
/// for each case withdrawn, `D <id> <outcome>` for each outcome taken
/// (and removed), then `Q <id>` for the queue and `R <id>@<task>` for the
/// claims. One fork per kind of operation, not per case.
const SYNC_SCRIPT: &str = r#"cd "$HOME/$1" || { echo "fz: no spool at ~/$1" >&2; exit 125; }
w=; x=
while IFS= read -r l; do
  case $l in
    "P "*) r=${l#P }; id=${r%% *}
      [ -e "q/$id.case" ] || [ -e "done/$id" ] && continue
      set -- run/"$id"@*; [ -e "$1" ] && continue
      printf '%s\n' "${r#* }" > "tmp/p/$id.case";;
    "W "*) w="$w q/${l#W }.case";;
    "X "*) x="$x run/${l#X }";;
  esac
done
[ -n "$x" ] && rm -f -- $x
set -- tmp/p/*.case; [ -e "$1" ] && mv -f -- "$@" q/
if [ -n "$w" ]; then
  mv -- $w tmp/w/ 2>/dev/null
  for f in tmp/w/*.case; do [ -e "$f" ] || continue; f=${f##*/}; echo "T ${f%.case}"; done
  rm -f tmp/w/*.case
fi
set -- done/*
for f; do [ -f "$f" ] || continue; IFS= read -r l < "$f" && echo "D ${f#done/} $l"; done
[ -f "$1" ] && rm -f -- "$@"
for f in q/*.case; do [ -e "$f" ] || continue; f=${f#q/}; echo "Q ${f%.case}"; done
for f in run/*; do [ -e "$f" ] && echo "R ${f#run/}"; done
exit 0"#;

/// `$1` the spool: creates it.
const CREATE_SCRIPT: &str =
    r#"d="$HOME/$1"; mkdir -p "$d/q" "$d/run" "$d/done" "$d/tmp/p" "$d/tmp/w""#;

/// `$1` the spool: tells the workers to take no new case.
const STOP_SCRIPT: &str = r#": > "$HOME/$1/stop""#;

/// A spool on a login node (cheap to clone: the clones share the view).
#[derive(Debug, Clone)]
pub struct RemoteSpool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    session: Arc<Session>,
    dir: RemoteDir,
    /// The absolute path of `dir` on the login node.
    path: PathBuf,
    state: Mutex<State>,
}

/// What the last synchronisation saw, and what the next one must send.
#[derive(Debug, Default)]
struct State {
    /// Cases to queue: id and JSON line.
    pending: Vec<(u64, String)>,
    /// Claims to drop: `<id>@<task>`.
    drops: Vec<String>,
    queued: Vec<u64>,
    claimed: Vec<(u64, String)>,
    outcomes: Vec<(u64, Outcome, String)>,
    /// Cases a worker claimed before they could be withdrawn: not asked
    /// again (a claim never goes back to the queue).
    claimed_first: HashSet<u64>,
    last_sync: Option<Instant>,
    /// The last synchronisation failed (said once, not at every try).
    failing: bool,
}

/// What one synchronisation printed.
#[derive(Debug, Default, PartialEq)]
struct Answer {
    taken: Vec<u64>,
    outcomes: Vec<(u64, Outcome, String)>,
    queued: Vec<u64>,
    claimed: Vec<(u64, String)>,
}

impl RemoteSpool {
    /// Creates a fresh spool under `~/.fz/tmp/` of the login node of
    /// `session`, named after `label`.
    pub fn create(session: Arc<Session>, label: &str) -> Result<RemoteSpool, String> {
        let dir = RemoteDir::unique(label);
        let out = session
            .exec(CREATE_SCRIPT, &[dir.relative()], Some(LIMIT), None)
            .map_err(|e| e.to_string())?;
        if out.code != 0 {
            return Err(format!(
                "Could not create the spool {}:{}: {}",
                session.target().display(),
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let path = remote_path(&session, &dir)?;
        Ok(RemoteSpool {
            shared: Arc::new(Shared {
                session,
                dir,
                path,
                state: Mutex::new(State::default()),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The absolute path of the spool on the login node.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// `user@host:port:~/.fz/tmp/…`, for messages.
    pub fn shown(&self) -> String {
        format!(
            "{}:{}",
            self.shared.session.target().display(),
            self.shared.dir.display()
        )
    }

    /// Queues case `id` (sent with the next synchronisation).
    pub fn put(&self, id: u64, case: &CaseFile) -> Result<(), String> {
        let json = serde_json::to_string(case).map_err(|e| e.to_string())?;
        self.lock().pending.push((id, json));
        Ok(())
    }

    /// Synchronises when the last one is older than [`SYNC_EVERY`].
    pub fn sync_if_due(&self) {
        let due = self
            .lock()
            .last_sync
            .is_none_or(|t| t.elapsed() >= SYNC_EVERY);
        if due {
            let _ = self.sync(&[]);
        }
    }

    /// Synchronises now: sends the queued cases and dropped claims, takes
    /// the outcomes, relists the queue and the claims, and withdraws
    /// `withdraw` (returns those withdrawn). A failure is warned about and
    /// what was to be sent is sent again next time.
    pub fn sync(&self, withdraw: &[u64]) -> Result<Vec<u64>, String> {
        let (puts, drops) = {
            let mut st = self.lock();
            let n = st.pending.len().min(BATCH);
            (
                st.pending.drain(..n).collect::<Vec<_>>(),
                std::mem::take(&mut st.drops),
            )
        };
        let mut input = String::new();
        for (id, json) in &puts {
            input.push_str(&format!("P {id} {json}\n"));
        }
        for id in withdraw {
            input.push_str(&format!("W {id}\n"));
        }
        for claim in &drops {
            input.push_str(&format!("X {claim}\n"));
        }
        let out = self.shared.session.exec_input(
            SYNC_SCRIPT,
            &[self.shared.dir.relative()],
            input.into_bytes(),
            Some(LIMIT),
        );
        let answer = match out {
            Ok(out) if out.code == 0 => parse_answer(&String::from_utf8_lossy(&out.stdout)),
            failed => {
                let why = match failed {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let msg = format!("Could not look at the spool {}: {why}", self.shown());
                let mut st = self.lock();
                if !st.failing {
                    crate::log::warn(&msg);
                }
                st.failing = true;
                // Tried again after SYNC_EVERY, not at every tick.
                st.last_sync = Some(Instant::now());
                // Sent again: the script skips the cases already there.
                let later = std::mem::take(&mut st.pending);
                st.pending = puts.into_iter().chain(later).collect();
                st.drops.extend(drops);
                return Err(msg);
            }
        };
        let mut st = self.lock();
        st.failing = false;
        st.queued = answer.queued;
        st.claimed = answer.claimed;
        st.outcomes.extend(answer.outcomes);
        st.last_sync = Some(Instant::now());
        Ok(answer.taken)
    }

    /// Takes cases back from the queue; returns those taken (the others
    /// were claimed by a worker first, or could not be reached).
    pub fn withdraw(&self, ids: &[u64]) -> Vec<u64> {
        let mut taken = Vec::new();
        let ask: Vec<u64> = {
            let mut st = self.lock();
            let wanted: HashSet<u64> = ids.iter().copied().collect();
            // Not sent yet: taken here.
            st.pending.retain(|(id, _)| {
                let hit = wanted.contains(id);
                if hit {
                    taken.push(*id);
                }
                !hit
            });
            ids.iter()
                .copied()
                .filter(|id| !taken.contains(id) && !st.claimed_first.contains(id))
                .collect()
        };
        for chunk in ask.chunks(BATCH) {
            let Ok(got) = self.sync(chunk) else {
                continue;
            };
            let mut st = self.lock();
            for id in chunk {
                if !got.contains(id) {
                    st.claimed_first.insert(*id);
                }
            }
            st.queued.retain(|id| !got.contains(id));
            taken.extend(got);
        }
        taken
    }

    /// The ids in the queue at the last synchronisation.
    pub fn queued(&self) -> Vec<u64> {
        self.lock().queued.clone()
    }

    /// The claims at the last synchronisation, minus those dropped since.
    pub fn claimed(&self) -> Vec<(u64, String)> {
        self.lock().claimed.clone()
    }

    /// The outcomes taken so far and not handed out yet.
    pub fn take_outcomes(&self) -> Vec<(u64, Outcome, String)> {
        std::mem::take(&mut self.lock().outcomes)
    }

    /// Drops the claim of case `id` by `task` (a task that died).
    pub fn drop_claim(&self, id: u64, task: &str) {
        let mut st = self.lock();
        st.claimed.retain(|(i, t)| !(*i == id && t == task));
        st.drops.push(format!("{id}@{task}"));
    }

    /// Tells the workers to take no new case.
    pub fn stop(&self) {
        let out = self.shared.session.exec(
            STOP_SCRIPT,
            &[self.shared.dir.relative()],
            Some(LIMIT),
            None,
        );
        if !matches!(out, Ok(ref o) if o.code == 0) {
            crate::log::warn(&format!("Could not write {}/stop", self.shown()));
        }
    }

    /// Writes `script` as `pack.sh` in the new directory `name` of the
    /// spool; returns that directory (absolute on the login node).
    pub fn write_task(&self, name: &str, script: &str) -> Result<PathBuf, String> {
        let local = tempfile::tempdir()
            .map_err(|e| format!("Could not create a temporary directory: {e}"))?;
        let path = local.path().join("pack.sh");
        std::fs::write(&path, script)
            .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
        let remote = self.shared.dir.child(name);
        let upload = Upload {
            dir: local.path(),
            extra_base: local.path(),
            extra_files: &[],
        };
        self.shared
            .session
            .upload_dir(&upload, &remote)
            .map_err(|e| e.to_string())?;
        remote_path(&self.shared.session, &remote)
    }

    /// The last lines of the SLURM log of task `index` of the array whose
    /// directory is `dir`.
    pub fn log_tail(&self, dir: &Path, index: usize) -> String {
        Place::Remote(self.shared.session.clone()).log_tail(dir, index)
    }

    /// Removes the spool from the login node (a warning when it fails).
    pub fn remove(&self) {
        if let Err(e) = self.shared.session.remove_dir(&self.shared.dir) {
            crate::log::warn(&e.to_string());
        }
    }
}

/// Reads what [`SYNC_SCRIPT`] printed (unknown lines are skipped).
fn parse_answer(text: &str) -> Answer {
    let mut a = Answer::default();
    for line in text.lines() {
        let Some((kind, rest)) = line.split_once(' ') else {
            continue;
        };
        match kind {
            "T" => a.taken.extend(rest.trim().parse::<u64>().ok()),
            "Q" => a.queued.extend(rest.trim().parse::<u64>().ok()),
            "R" => {
                // Task names go back into a remote command (dropped
                // claims): SLURM's `<job>_<index>` only.
                if let Some((id, task)) = rest.trim().split_once('@') {
                    let plain = !task.is_empty()
                        && task
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if let (Ok(id), true) = (id.parse(), plain) {
                        a.claimed.push((id, task.to_string()));
                    }
                }
            }
            "D" => {
                if let Some((id, text)) = rest.split_once(' ') {
                    if let (Ok(id), Some((o, task))) = (id.parse(), parse_done(text)) {
                        a.outcomes.push((id, o, task));
                    }
                }
            }
            _ => {}
        }
    }
    a.queued.sort_unstable();
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculators::slurm::pack::spool::Spool;
    use std::process::Command;

    /// Runs the sync script on a local spool at `home/rel`, as the login
    /// node would.
    fn sync_locally(home: &Path, rel: &str, input: &str) -> Answer {
        use std::io::Write;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SYNC_SCRIPT)
            .arg("fz-ssh")
            .arg(rel)
            .env("HOME", home)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        parse_answer(&String::from_utf8_lossy(&out.stdout))
    }

    fn case(n: u64) -> CaseFile {
        CaseFile {
            dir: PathBuf::from(format!("/r/x={n} 'q'")),
            line: "bash calc.sh \"a b\" \\n".into(),
            deadline_ms: None,
        }
    }

    #[test]
    fn one_sync_queues_withdraws_and_reports_like_the_local_spool() {
        let home = tempfile::tempdir().unwrap();
        let sh = Command::new("sh")
            .arg("-c")
            .arg(CREATE_SCRIPT)
            .arg("fz-ssh")
            .arg("sp")
            .env("HOME", home.path())
            .status()
            .unwrap();
        assert!(sh.success());
        let spool = Spool::at(&home.path().join("sp"));
        let put = |ids: &[u64]| -> String {
            ids.iter()
                .map(|i| format!("P {i} {}\n", serde_json::to_string(&case(*i)).unwrap()))
                .collect()
        };
        let a = sync_locally(home.path(), "sp", &put(&[1, 2, 3, 10]));
        assert_eq!(a.queued, vec![1, 2, 3, 10]);
        // The worker side reads back exactly what was queued.
        assert_eq!(spool.claim(1, "7_0").unwrap().unwrap(), case(1));
        assert_eq!(spool.claim(2, "7_1").unwrap().unwrap(), case(2));
        spool
            .finish(1, "7_0", Outcome::Exit { code: 4, ms: 9 })
            .unwrap();
        // Queued again (a resent batch): skipped, whether claimed, done or
        // queued; withdrawals of a claimed and a queued case; a dead claim
        // dropped.
        let input = format!("{}W 2\nW 3\nX 2@7_1\n", put(&[1, 2, 3]));
        let a = sync_locally(home.path(), "sp", &input);
        assert_eq!(a.taken, vec![3]);
        assert_eq!(
            a.outcomes,
            vec![(1, Outcome::Exit { code: 4, ms: 9 }, "7_0".to_string())]
        );
        assert_eq!(a.queued, vec![10]);
        assert!(a.claimed.is_empty(), "{:?}", a.claimed);
        assert_eq!(spool.queued(), vec![10]);
        // Outcomes are handed out once.
        assert_eq!(sync_locally(home.path(), "sp", "").outcomes, vec![]);
        spool.claim(10, "8_0").unwrap().unwrap();
        let a = sync_locally(home.path(), "sp", "W 10\n");
        assert!(a.taken.is_empty());
        assert_eq!(a.claimed, vec![(10, "8_0".to_string())]);
    }

    #[test]
    fn answers_are_parsed_and_garbage_skipped() {
        let a = parse_answer(
            "T 3\nD 4 timeout 1500 9_2\nQ 12\nQ 5\nR 7@9_1\nR 8@*\nR 9@a b\nnoise\nD x y\n",
        );
        assert_eq!(a.taken, vec![3]);
        assert_eq!(
            a.outcomes,
            vec![(4, Outcome::Timeout { ms: 1500 }, "9_2".to_string())]
        );
        assert_eq!(a.queued, vec![5, 12]);
        assert_eq!(a.claimed, vec![(7, "9_1".to_string())]);
    }
}
