//! In-process evaluation of the most common output commands, so reading
//! thousands of case directories does not start thousands of shells.
//!
//! Only a small, exactly-emulated subset is handled: a pipeline whose
//! stages are `cat FILE`, `grep PATTERN [FILE]` (a literal pattern, with `.`
//! and anchors `^`/`$`), `awk '{print $N}'` (or `$NF`, with an optional
//! one-character `-F`), `cut -dC -fN`, `head`/`tail -n N`, the first stage
//! reading a file. Anything else, and every unusual situation (missing or
//! binary file, empty result, a pattern or file this module is not sure
//! about), returns `None` and the caller runs the real shell, so results
//! are always those of bash. This module never runs anything.

use std::path::Path;

/// One stage of a supported pipeline.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Cat,
    Grep {
        pattern: Pattern,
    },
    Awk {
        field: Field,
        separator: Option<char>,
    },
    Cut {
        delimiter: char,
        field: usize,
    },
    Head(usize),
    Tail(usize),
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Index(usize),
    Last,
}

/// A grep basic regular expression limited to literal characters, `.`
/// (any character), a leading `^` and a trailing `$`.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    start: bool,
    end: bool,
    atoms: Vec<Option<char>>, // None = `.`
}

impl Pattern {
    fn parse(text: &str) -> Option<Pattern> {
        let mut body = text;
        let start = body.starts_with('^');
        if start {
            body = &body[1..];
        }
        let end = body.ends_with('$') && !body.is_empty();
        if end {
            body = &body[..body.len() - 1];
        }
        if body.is_empty() {
            return None;
        }
        let mut atoms = Vec::new();
        for c in body.chars() {
            match c {
                '.' => atoms.push(None),
                '*' | '[' | ']' | '\\' | '^' | '$' => return None,
                c if c.is_control() => return None,
                c => atoms.push(Some(c)),
            }
        }
        Some(Pattern { start, end, atoms })
    }

    fn has_dot(&self) -> bool {
        self.atoms.iter().any(Option::is_none)
    }

    fn matches_at(&self, chars: &[char], at: usize) -> bool {
        if at + self.atoms.len() > chars.len() {
            return false;
        }
        let ok = self
            .atoms
            .iter()
            .zip(&chars[at..])
            .all(|(a, c)| a.is_none_or(|a| a == *c));
        ok && (!self.end || at + self.atoms.len() == chars.len())
    }

    fn is_match(&self, line: &str) -> bool {
        let chars: Vec<char> = line.chars().collect();
        if self.start {
            return self.matches_at(&chars, 0);
        }
        (0..=chars.len()).any(|i| self.matches_at(&chars, i))
    }
}

/// Splits a command into pipeline stages of words, or `None` when it uses
/// anything beyond plain words, single/double quotes and `|`.
fn split_pipeline(command: &str) -> Option<Vec<Vec<String>>> {
    let mut stages = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' | '\\' | '!' => return None,
                        c => w.push(c),
                    }
                }
            }
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    stages.last_mut()?.push(w);
                }
            }
            '|' => {
                if let Some(w) = word.take() {
                    stages.last_mut()?.push(w);
                }
                stages.push(Vec::new());
            }
            c if c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c) => {
                word.get_or_insert_with(String::new).push(c);
            }
            _ => return None,
        }
    }
    if let Some(w) = word.take() {
        stages.last_mut()?.push(w);
    }
    (stages.iter().all(|s| !s.is_empty())).then_some(stages)
}

/// A count written with decimal digits only (no sign: `tail -n +2` means
/// something else).
fn number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses `-n N` / `-nN` / `-N` for head and tail.
fn count_arg(args: &[String]) -> Option<(usize, &[String])> {
    match args {
        [flag, n, rest @ ..] if flag == "-n" => Some((number(n)?, rest)),
        [flag, rest @ ..] if flag.starts_with("-n") => Some((number(&flag[2..])?, rest)),
        [flag, rest @ ..] if flag.starts_with('-') => Some((number(&flag[1..])?, rest)),
        rest => Some((10, rest)),
    }
}

/// A stage and the file it reads, if any.
fn parse_stage(words: &[String]) -> Option<(Stage, Option<String>)> {
    let (name, args) = words.split_first()?;
    let file = |rest: &[String]| -> Option<Option<String>> {
        match rest {
            [] => Some(None),
            [f] if !f.starts_with('-') => Some(Some(f.clone())),
            _ => None,
        }
    };
    match name.as_str() {
        "cat" => match args {
            [f] if !f.starts_with('-') => Some((Stage::Cat, Some(f.clone()))),
            _ => None,
        },
        "grep" => {
            let (pattern, rest) = args.split_first()?;
            if pattern.starts_with('-') {
                return None;
            }
            Some((
                Stage::Grep {
                    pattern: Pattern::parse(pattern)?,
                },
                file(rest)?,
            ))
        }
        "awk" => {
            let (separator, rest) = match args {
                [f, rest @ ..] if f.starts_with("-F") && f.chars().count() == 3 => {
                    (f.chars().nth(2), rest)
                }
                [f, sep, rest @ ..] if f == "-F" && sep.chars().count() == 1 => {
                    (sep.chars().next(), rest)
                }
                rest => (None, rest),
            };
            if separator.is_some_and(|c| !c.is_ascii_graphic() || c == '\\') {
                return None;
            }
            let (program, rest) = rest.split_first()?;
            let inner = program.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
            let inner = inner.strip_suffix(';').unwrap_or(inner).trim();
            let target = inner.strip_prefix("print")?.trim_start();
            let field = match target.strip_prefix('$')? {
                "NF" => Field::Last,
                n => Field::Index(number(n)?),
            };
            Some((Stage::Awk { field, separator }, file(rest)?))
        }
        "cut" => {
            let mut delimiter = None;
            let mut field = None;
            let mut it = args.iter().peekable();
            let mut rest = Vec::new();
            while let Some(a) = it.next() {
                if let Some(d) = a.strip_prefix("-d") {
                    let d = if d.is_empty() { it.next()?.as_str() } else { d };
                    let mut cs = d.chars();
                    let c = cs.next().filter(char::is_ascii)?;
                    if cs.next().is_some() {
                        return None;
                    }
                    delimiter = Some(c);
                } else if let Some(f) = a.strip_prefix("-f") {
                    let f = if f.is_empty() { it.next()?.as_str() } else { f };
                    let n = number(f)?;
                    if n == 0 {
                        return None;
                    }
                    field = Some(n);
                } else {
                    rest.push(a.clone());
                }
            }
            Some((
                Stage::Cut {
                    delimiter: delimiter?,
                    field: field?,
                },
                file(&rest)?,
            ))
        }
        "head" | "tail" => {
            let (n, rest) = count_arg(args)?;
            let stage = if name == "head" {
                Stage::Head(n)
            } else {
                Stage::Tail(n)
            };
            Some((stage, file(rest)?))
        }
        _ => None,
    }
}

fn awk_field(line: &str, field: &Field, separator: Option<char>) -> String {
    let fields: Vec<&str> = match separator {
        None => line.split([' ', '\t']).filter(|f| !f.is_empty()).collect(),
        Some(_) if line.is_empty() => Vec::new(),
        Some(c) => line.split(c).collect(),
    };
    match field {
        Field::Index(0) => line.to_string(),
        Field::Index(n) => fields.get(n - 1).map_or(String::new(), |f| f.to_string()),
        Field::Last => fields.last().map_or(String::new(), |f| f.to_string()),
    }
}

/// The stdout `command` would print in `dir`, when this module can tell
/// for sure and it is not empty; `None` otherwise (run the real command).
pub fn evaluate(command: &str, dir: &Path) -> Option<String> {
    let stages = split_pipeline(command.trim())?;
    let mut lines: Vec<String> = Vec::new();
    // Whether the last line ends with a newline: cat/head/tail pass the
    // file's bytes through, grep/awk/cut end every line they print.
    let mut final_newline = true;
    for (i, words) in stages.iter().enumerate() {
        let (stage, file) = parse_stage(words)?;
        match (i, file) {
            (0, Some(f)) => {
                let bytes = std::fs::read(dir.join(&f)).ok()?;
                if bytes.contains(&0) {
                    return None;
                }
                let text = String::from_utf8(bytes).ok()?;
                if !text.is_ascii() {
                    if let Stage::Grep { pattern } = &stage {
                        if pattern.has_dot() {
                            return None;
                        }
                    }
                }
                lines = text.split('\n').map(str::to_string).collect();
                final_newline = text.ends_with('\n');
                if final_newline || text.is_empty() {
                    lines.pop();
                }
            }
            (0, None) | (_, Some(_)) => return None,
            _ => {}
        }
        if matches!(
            stage,
            Stage::Grep { .. } | Stage::Awk { .. } | Stage::Cut { .. }
        ) {
            final_newline = true;
        }
        if let Stage::Head(n) = stage {
            if n < lines.len() {
                final_newline = true;
            }
        }
        lines = match stage {
            Stage::Cat => lines,
            Stage::Grep { pattern } => lines.into_iter().filter(|l| pattern.is_match(l)).collect(),
            Stage::Awk { field, separator } => lines
                .iter()
                .map(|l| awk_field(l, &field, separator))
                .collect(),
            Stage::Cut { delimiter, field } => lines
                .iter()
                .map(|l| {
                    if l.contains(delimiter) {
                        l.split(delimiter).nth(field - 1).unwrap_or("").to_string()
                    } else {
                        l.clone()
                    }
                })
                .collect(),
            Stage::Head(n) => lines.into_iter().take(n).collect(),
            Stage::Tail(n) => {
                let skip = lines.len().saturating_sub(n);
                lines.into_iter().skip(skip).collect()
            }
        };
    }
    let mut out = lines.join("\n");
    if final_newline && !lines.is_empty() {
        out.push('\n');
    }
    (!out.trim().is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bash(command: &str, dir: &Path) -> (String, i32) {
        let out = std::process::Command::new("bash")
            .args(["-c", command])
            .current_dir(dir)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    const COMMANDS: &[&str] = &[
        "cat out.txt",
        "grep 'pressure = ' out.txt | awk '{print $3}'",
        "grep pressure out.txt | cut -d= -f2",
        "grep 'T=' out.txt | cut -d '=' -f 2",
        "grep -o x out.txt",
        "grep '^res' out.txt | awk '{ print $NF }'",
        "grep 'r.s' out.txt | head -n 1",
        "grep 'val$' out.txt",
        "tail -n 1 out.txt",
        "tail -2 out.txt | head -1",
        "tail -n +2 out.txt",
        "cut -d: -f2 out.txt",
        "head out.txt",
        "awk -F= '{print $2}' out.txt",
        "awk -F : '{print $1}' out.txt",
        "awk '{print $0}' out.txt",
        "grep a out.txt | cut -d, -f3",
        "grep result missing.txt | cut -d= -f2",
        "cat out.txt | grep 'x y'",
        "grep 'p*' out.txt",
        "echo 1",
        "grep \"pressure = \" out.txt | awk '{print $3}'",
    ];

    fn file_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("pressure = 101325.5 Pa".to_string()),
                Just("result = 42".to_string()),
                Just("T=1.5".to_string()),
                Just("T=".to_string()),
                Just("a,b,,c".to_string()),
                Just("  x y  z ".to_string()),
                Just("\tres\tval".to_string()),
                Just("k:v:w".to_string()),
                Just("".to_string()),
                Just("rés=é".to_string()),
                Just("line\r".to_string()),
                "[a-z =,:.]{0,12}",
            ],
            0..8,
        )
        .prop_flat_map(|lines| (Just(lines), any::<bool>()))
        .prop_map(|(lines, newline)| {
            let mut t = lines.join("\n");
            if newline && !t.is_empty() {
                t.push('\n');
            }
            t
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whenever the fast path answers, bash prints exactly the same and
        /// exits 0.
        #[test]
        fn agrees_with_bash(text in file_text()) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("out.txt"), &text).unwrap();
            for cmd in COMMANDS {
                if let Some(fast) = evaluate(cmd, dir.path()) {
                    let (real, code) = bash(cmd, dir.path());
                    prop_assert_eq!(&fast, &real, "command {:?} on {:?}", cmd, text);
                    prop_assert_eq!(code, 0);
                }
            }
        }
    }

    #[test]
    fn common_commands_take_the_fast_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("output.txt"),
            "# header\npressure = 2437.5 Pa\n",
        )
        .unwrap();
        let cases = [
            (
                "grep 'pressure = ' output.txt | awk '{print $3}'",
                "2437.5\n",
            ),
            ("grep pressure output.txt | cut -d= -f2", " 2437.5 Pa\n"),
            ("tail -n 1 output.txt", "pressure = 2437.5 Pa\n"),
            ("cat output.txt", "# header\npressure = 2437.5 Pa\n"),
        ];
        for (cmd, want) in cases {
            assert_eq!(evaluate(cmd, dir.path()).as_deref(), Some(want), "{cmd}");
        }
        for cmd in [
            "grep nothing output.txt",
            "grep x missing.txt",
            "grep 'a*' output.txt",
            "echo $HOME",
            "grep x output.txt > y",
            "sed -n 1p output.txt",
        ] {
            assert_eq!(evaluate(cmd, dir.path()), None, "{cmd}");
        }
    }
}
