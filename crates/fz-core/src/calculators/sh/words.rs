//! The shell-word scanner of `sh://` commands: quoting a word for bash,
//! splitting a command line into words with bash's rules, making the
//! relative paths a command names absolute, and listing the local files it
//! names (sent along by remote calculators, checked by `fzl --check`).
//!
//! Text only: this module never runs anything and reads the file system
//! only to test whether a word names an existing path.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// Quotes `text` for bash when needed: returned as is when it is made only
/// of letters, digits and `_ @ % + = : , . / -`, else in single quotes
/// (`'` written `'\''`). The empty string gives `''`.
pub fn shell_quote(text: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("'{}'", text.replace('\'', "'\\''")))
    }
}

/// Makes the relative paths of a shell command absolute against
/// `launch_dir`, without otherwise changing the text.
///
/// The command is scanned with bash's word rules (quotes, `\` escapes,
/// `$(…)`, `${…}`, backquotes, comments, operators `| || & && ; ( )` and
/// redirections `< > >> 2> &> 2>&1 <<< …`). A word is replaced by
/// `<launch_dir>/<word>` (shell-quoted when needed, `./` components
/// dropped) when all of these hold:
///
/// * it is not the target of a redirection (`> out.txt`, `2>&1`, `<in`),
/// * it has no quoting, escape, expansion or pattern character (none of
///   `' " \ $ `` ` `` * ? [ ] { } ~ = ! #`), so `$HOME/x`, `VAR=calc.sh`,
///   `*.txt` are kept; or it is quoted whole (`'my dir/calc.sh'`, or
///   double quotes with no `$`, `` ` `` or `\` inside), its text then
///   being the path,
/// * it is not an option (`-x`, `--x`), not absolute, not `.` or `..`, and
///   not a shell reserved word (`if`, `then`, `do`, …),
/// * `<launch_dir>/<word>` exists (file, directory or symbolic link).
///
/// So `bash calc.sh` → `bash /p/calc.sh`, `./run` → `/p/run`, while
/// `sleep 10`, `echo hello > out.txt` and `python3 -c 'print(1)'` are kept
/// — unless a file named `10` or `hello` exists in the launch directory,
/// which is then made absolute too. A command whose quotes are unbalanced
/// is returned unchanged.
pub fn absolutize_paths(command: &str, launch_dir: &Path) -> String {
    let Some(words) = scan_words(command) else {
        return command.to_string();
    };
    let base: Cow<'_, Path> = if launch_dir.is_absolute() {
        Cow::Borrowed(launch_dir)
    } else {
        match std::path::absolute(launch_dir) {
            Ok(p) => Cow::Owned(p),
            Err(_) => Cow::Borrowed(launch_dir),
        }
    };
    let mut out = String::with_capacity(command.len() + 64);
    let mut copied = 0;
    for w in words {
        if w.redirect_target {
            continue;
        }
        // Spans end on ASCII delimiters, hence on char boundaries; `get`
        // keeps a scanner mistake from ever panicking.
        let (Some(word), Some(before)) =
            (command.get(w.start..w.end), command.get(copied..w.start))
        else {
            return command.to_string();
        };
        if let Some(abs) = absolute_word(word, &base) {
            out.push_str(before);
            out.push_str(&shell_quote(&abs));
            copied = w.end;
        }
    }
    out.push_str(command.get(copied..).unwrap_or_default());
    out
}

/// The words of a shell command that name existing regular files relative
/// to `launch_dir`, as written (`calc.sh`, `scripts/run.sh`), by the rule
/// of [`absolutize_paths`], leaving out words that climb out of the
/// directory (`../x`). Used by remote calculators to send the scripts a
/// command refers to along with the case files. Each path is listed once.
pub fn local_files(command: &str, launch_dir: &Path) -> Vec<String> {
    let Some(words) = scan_words(command) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for w in words.iter().filter(|w| !w.redirect_target) {
        let Some(word) = command.get(w.start..w.end) else {
            continue;
        };
        let text = unquoted(word).unwrap_or(word);
        let climbs = Path::new(text)
            .components()
            .any(|c| matches!(c, Component::ParentDir));
        if climbs || absolute_word(word, launch_dir).is_none() {
            continue;
        }
        let rel: PathBuf = Path::new(text)
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        let is_file = std::fs::metadata(launch_dir.join(&rel)).is_ok_and(|m| m.is_file());
        if let (true, Some(rel)) = (is_file, rel.to_str()) {
            if !found.iter().any(|f| f == rel) {
                found.push(rel.to_string());
            }
        }
    }
    found
}

/// The words of a shell command as written (quotes kept), leaving out
/// operators, comments and redirection targets; `None` when a quote or
/// substitution is not closed. Used by `fzl --check` to find the program
/// and the scripts a command names.
pub fn command_words(command: &str) -> Option<Vec<&str>> {
    Some(command_segments(command)?.into_iter().flatten().collect())
}

/// The words of each simple command of a shell command line (split at
/// `|`, `&&`, `||`, `;`, `&`, newlines and parentheses), as
/// [`command_words`] gives them: `cd x && bash run.sh a.sh` is
/// `[["cd", "x"], ["bash", "run.sh", "a.sh"]]`.
pub fn command_segments(command: &str) -> Option<Vec<Vec<&str>>> {
    let mut segments: Vec<Vec<&str>> = Vec::new();
    for w in scan_words(command)? {
        if w.starts_command || segments.is_empty() {
            segments.push(Vec::new());
        }
        let (false, Some(text), Some(segment)) = (
            w.redirect_target,
            command.get(w.start..w.end),
            segments.last_mut(),
        ) else {
            continue;
        };
        segment.push(text);
    }
    segments.retain(|s| !s.is_empty());
    Some(segments)
}

/// Reserved words of bash, never rewritten.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
    "done", "in", "function", "time", "coproc", "{", "}", "[[", "]]", "!",
];

/// The absolute path for `word` when it is a rewritable relative path that
/// exists under `base`: a plain word (no quoting, expansion or pattern
/// character), or one quoted whole (`'my dir/run.sh'`, `"my dir/run.sh"`
/// without `$`, `` ` `` or `\\` inside), whose text is then the path.
fn absolute_word(word: &str, base: &Path) -> Option<String> {
    let special = |c: char| c.is_control() || "'\"\\$`*?[]{}~=!#".contains(c);
    if RESERVED.contains(&word) {
        return None;
    }
    let path = match unquoted(word) {
        Some(inner) => inner,
        None if word.chars().any(special) => return None,
        None => word,
    };
    if path.is_empty()
        || path.starts_with('-')
        || path.starts_with('/')
        || path == "."
        || path == ".."
        || path.chars().any(char::is_control)
    {
        return None;
    }
    resolve_under(path, base)
}

/// The text of a word quoted whole, when quoting is all it has.
pub(crate) fn unquoted(word: &str) -> Option<&str> {
    let single = word.strip_prefix('\'').and_then(|w| w.strip_suffix('\''));
    if let Some(inner) = single.filter(|i| !i.contains('\'')) {
        return Some(inner);
    }
    word.strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .filter(|i| !i.contains(['"', '$', '`', '\\']))
}

/// `base/<rel>` (`.` components dropped) when it exists.
fn resolve_under(rel: &str, base: &Path) -> Option<String> {
    let word = rel;
    let mut path: PathBuf = base.to_path_buf();
    for part in Path::new(word).components() {
        match part {
            Component::CurDir => {}
            Component::Normal(p) => path.push(p),
            Component::ParentDir => path.push(".."),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if std::fs::symlink_metadata(&path).is_err() {
        return None;
    }
    path.to_str().map(str::to_string)
}

/// A word of a shell command, by byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WordSpan {
    start: usize,
    end: usize,
    /// The word follows a redirection operator.
    redirect_target: bool,
    /// The word is the first of a simple command (after a separator).
    starts_command: bool,
}

/// Splits a shell command into words, skipping operators, redirection
/// operators and comments; `None` when a quote or substitution is not
/// closed.
fn scan_words(cmd: &str) -> Option<Vec<WordSpan>> {
    let b = cmd.as_bytes();
    let n = b.len();
    let mut words = Vec::new();
    let mut target_next = false;
    let mut new_command = true;
    let mut i = 0;
    while i < n {
        let at = |k: usize| b.get(k).copied();
        match b[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                target_next = false;
                new_command = true;
                i += 1;
            }
            b'#' => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'&' if at(i + 1) == Some(b'>') => {
                // `&>` / `&>>`: both streams redirected.
                i += 2;
                if at(i) == Some(b'>') {
                    i += 1;
                }
                target_next = true;
            }
            c @ (b'|' | b'&' | b';') => {
                i += 1;
                if at(i) == Some(c) || (c == b'|' && at(i) == Some(b'&')) {
                    i += 1;
                }
                target_next = false;
                new_command = true;
            }
            b'(' | b')' => {
                i += 1;
                target_next = false;
                new_command = true;
            }
            b'<' | b'>' if at(i + 1) == Some(b'(') => {
                // Process substitution: its words are ordinary words.
                i += 2;
                target_next = false;
            }
            b'<' | b'>' => {
                i = skip_redirection(b, i);
                target_next = true;
            }
            _ => {
                let mut j = i;
                while j < n && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i && matches!(at(j), Some(b'<' | b'>')) && at(j + 1) != Some(b'(') {
                    // `2>`, `2>&1`, `0<`: a redirection with a descriptor.
                    i = skip_redirection(b, j);
                    target_next = true;
                    continue;
                }
                let end = scan_word(b, i)?;
                words.push(WordSpan {
                    start: i,
                    end,
                    redirect_target: target_next,
                    starts_command: new_command && !target_next,
                });
                if !target_next {
                    new_command = false;
                }
                target_next = false;
                i = end;
            }
        }
    }
    Some(words)
}

/// Skips a redirection operator starting at `b[i]` (`<` or `>`).
fn skip_redirection(b: &[u8], i: usize) -> usize {
    let rest = &b[i..];
    let len = if rest.starts_with(b"<<<") || rest.starts_with(b"<<-") {
        3
    } else if [&b"<<"[..], b"<>", b"<&", b">>", b">|", b">&"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        1
    };
    i + len
}

/// The end of the word starting at `b[i]`.
fn scan_word(b: &[u8], mut i: usize) -> Option<usize> {
    let n = b.len();
    while i < n {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b'|' | b'&' | b';' | b'(' | b')' | b'<' | b'>' => break,
            b'\\' => i += 2,
            b'\'' => i = skip_single(b, i + 1)?,
            b'"' => i = skip_double(b, i + 1)?,
            b'`' => i = skip_backquote(b, i + 1)?,
            b'$' => i = skip_dollar(b, i)?,
            _ => i += 1,
        }
    }
    Some(i.min(n))
}

/// After an opening `'`: the index after the closing one.
fn skip_single(b: &[u8], i: usize) -> Option<usize> {
    let close = b.get(i..)?.iter().position(|&c| c == b'\'')?;
    Some(i + close + 1)
}

/// After an opening `"`: the index after the closing one.
fn skip_double(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'`' => i = skip_backquote(b, i + 1)?,
            b'$' => i = skip_dollar(b, i)?,
            _ => i += 1,
        }
    }
    None
}

/// After an opening backquote: the index after the closing one.
fn skip_backquote(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// At a `$`: the index after `$(…)`, `$((…))`, `${…}`, `$'…'`, or after the
/// `$` alone.
fn skip_dollar(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i + 1) {
        Some(b'(') => skip_nested(b, i + 2, b'(', b')'),
        Some(b'{') => skip_nested(b, i + 2, b'{', b'}'),
        Some(b'\'') => {
            // ANSI-C quoting: `\'` does not close it.
            let mut k = i + 2;
            while k < b.len() {
                match b[k] {
                    b'\\' => k += 2,
                    b'\'' => return Some(k + 1),
                    _ => k += 1,
                }
            }
            None
        }
        _ => Some(i + 1),
    }
}

/// After an opening bracket: the index after its matching close, quotes
/// and nested substitutions respected.
fn skip_nested(b: &[u8], mut i: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 1usize;
    while i < b.len() {
        let c = b[i];
        if c == open {
            depth += 1;
            i += 1;
        } else if c == close {
            depth -= 1;
            i += 1;
            if depth == 0 {
                return Some(i);
            }
        } else {
            match c {
                b'\\' => i += 2,
                b'\'' => i = skip_single(b, i + 1)?,
                b'"' => i = skip_double(b, i + 1)?,
                b'`' => i = skip_backquote(b, i + 1)?,
                b'$' => i = skip_dollar(b, i)?,
                _ => i += 1,
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    struct Dirs {
        _tmp: tempfile::TempDir,
        launch: PathBuf,
        work: PathBuf,
    }

    fn dirs() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        let launch = tmp.path().join("launch");
        let work = tmp.path().join("work");
        fs::create_dir_all(&launch).unwrap();
        fs::create_dir_all(&work).unwrap();
        Dirs {
            _tmp: tmp,
            launch,
            work,
        }
    }

    #[test]
    fn segments_are_the_simple_commands() {
        assert_eq!(
            command_segments("cd x && bash run.sh a.sh > out.txt 2>&1; (echo 1 | cat) &").unwrap(),
            vec![
                vec!["cd", "x"],
                vec!["bash", "run.sh", "a.sh"],
                vec!["echo", "1"],
                vec!["cat"],
            ]
        );
        assert_eq!(
            command_segments("> log.txt run 'a b'\nnext").unwrap(),
            vec![vec!["run", "'a b'"], vec!["next"]]
        );
        assert!(command_segments("bash 'open").is_none());
    }

    #[test]
    fn local_files_lists_existing_relative_files_once() {
        let d = dirs();
        fs::create_dir_all(d.launch.join("sub")).unwrap();
        fs::write(d.launch.join("calc.sh"), "").unwrap();
        fs::write(d.launch.join("sub/run.sh"), "").unwrap();
        fs::write(d.work.join("x"), "").unwrap();
        let got = local_files(
            "bash ./calc.sh sub/run.sh calc.sh sub /abs/x ../launch/calc.sh > out.txt 'calc.sh'",
            &d.launch,
        );
        assert_eq!(got, ["calc.sh", "sub/run.sh"]);
        assert!(local_files("bash 'unclosed", &d.launch).is_empty());
    }
}
