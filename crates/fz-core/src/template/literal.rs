//! Python literal parsing (`ast.literal_eval` subset) for defaults and casts.
//!
//! This module owns three text-to-value rules: Python literals
//! ([`parse_python_literal`]), variable defaults as `fzi` reports them
//! ([`parse_default`], templates.md §3.1) and the typing of shell-command
//! output ([`cast_output`], compile-and-output.md §5.7), plus Python's
//! `int()`/`float()` string parsing used by the latter. It never evaluates
//! expressions: anything that is not a literal is rejected.

use crate::value::Value;
use indexmap::IndexMap;

/// Deepest bracket nesting accepted (Python's parser stops near 200).
const MAX_DEPTH: usize = 200;

/// Parses `text` (trimmed) as a Python literal, like `ast.literal_eval`.
///
/// Supported: integers (sign, `_` separators, `0x`/`0o`/`0b`; beyond 64
/// bits they become floats), floats (`1e6`, `.5`, `3.14_15`), strings in
/// single, double or triple quotes (optional `r`/`u` prefix, backslash
/// escapes, adjacent literals concatenated), `True`/`False`/`None`, lists,
/// tuples (also bare `1, 2`), dicts (keys rendered with Python `str()`),
/// sets (as lists, duplicates dropped) and `set()`; one unary `+`/`-` on a
/// number. Complex numbers, bytes, f-strings, `...`, names and expressions
/// give `None`.
pub fn parse_python_literal(text: &str) -> Option<Value> {
    let mut p = LitParser::new(text.trim());
    let value = p.top()?;
    Some(value)
}

/// The value `fzi` reports for a default text (templates.md §3.1).
///
/// A Python literal gives its value; text wrapped in double quotes gives
/// the text between them; other text starting with `[` or `{` (bounds such
/// as `[0;1]`) gives `Null`; anything else is kept as the trimmed string.
pub fn parse_default(text: &str) -> Value {
    let t = text.trim();
    if let Some(v) = parse_python_literal(t) {
        return v;
    }
    if t.starts_with('"') && t.ends_with('"') {
        // Upstream slices `[1:-1]`; a lone `"` therefore gives "".
        let inner = if t.len() >= 2 { &t[1..t.len() - 1] } else { "" };
        return Value::Str(inner.to_string());
    }
    if t.starts_with('[') || t.starts_with('{') {
        return Value::Null;
    }
    Value::Str(t.to_string())
}

/// Types the stdout of a shell-command output extractor
/// (compile-and-output.md §5.7).
///
/// Empty or blank → `Null`; JSON (with `NaN`/`Infinity`, a one-element
/// array unwrapped); else a Python literal (a one-element list or tuple
/// unwrapped); else Python `float()` when the text has a `.` or an `e`,
/// `int()` otherwise; else the trimmed text. Complex literals such as
/// `1j`, which upstream returns as Python complex numbers, stay strings.
pub fn cast_output(stdout: &str) -> Value {
    let t = stdout.trim();
    if t.is_empty() {
        return Value::Null;
    }
    if let Some(v) = parse_python_json(t) {
        return match v {
            Value::List(mut items) if items.len() == 1 => items.pop().unwrap_or(Value::Null),
            other => other,
        };
    }
    if let Some(v) = parse_python_literal(t) {
        return match v {
            Value::List(mut items) | Value::Tuple(mut items) if items.len() == 1 => {
                items.pop().unwrap_or(Value::Null)
            }
            other => other,
        };
    }
    let number = if t.contains('.') || t.to_ascii_lowercase().contains('e') {
        parse_py_float(t).map(Value::Float)
    } else {
        parse_py_int(t)
    };
    number.unwrap_or_else(|| Value::Str(t.to_string()))
}

/// Python `int(text)` for base 10: surrounding blanks, one sign, ASCII
/// digits with single `_` between digits, leading zeros allowed. Values
/// beyond 64 bits become floats (Python keeps big integers).
pub fn parse_py_int(text: &str) -> Option<Value> {
    let t = text.trim();
    let (neg, body) = split_sign(t);
    let digits = strip_digit_underscores(body, |c| c.is_ascii_digit())?;
    let magnitude: u128 = match digits.parse::<u128>() {
        Ok(m) => m,
        Err(_) => {
            let f = digits.parse::<f64>().ok()?;
            return Some(Value::Float(if neg { -f } else { f }));
        }
    };
    Some(signed_int(neg, magnitude, || {
        digits.parse::<f64>().unwrap_or(f64::INFINITY)
    }))
}

/// Python `float(text)`: surrounding blanks, one sign, decimal digits with
/// single `_` between digits, optional fraction and exponent, or
/// `inf`/`infinity`/`nan` in any case.
pub fn parse_py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let (neg, body) = split_sign(t);
    let lower = body.to_ascii_lowercase();
    let magnitude = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let (mantissa, exponent) = match lower.find('e') {
                Some(i) => (&lower[..i], Some(&lower[i + 1..])),
                None => (lower.as_str(), None),
            };
            let (int_part, frac_part) = match mantissa.find('.') {
                Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
                None => (mantissa, None),
            };
            let int_digits = if int_part.is_empty() {
                String::new()
            } else {
                strip_digit_underscores(int_part, |c| c.is_ascii_digit())?
            };
            let frac_digits = match frac_part {
                Some(f) if !f.is_empty() => strip_digit_underscores(f, |c| c.is_ascii_digit())?,
                _ => String::new(),
            };
            if int_digits.is_empty() && frac_digits.is_empty() {
                return None;
            }
            let exp_text = match exponent {
                Some(e) => {
                    let (eneg, ebody) = split_sign(e);
                    let d = strip_digit_underscores(ebody, |c| c.is_ascii_digit())?;
                    format!("{}{d}", if eneg { "-" } else { "" })
                }
                None => "0".to_string(),
            };
            normalised_float(&int_digits, &frac_digits, &exp_text)?
        }
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// Splits one leading `+`/`-`.
fn split_sign(t: &str) -> (bool, &str) {
    if let Some(rest) = t.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = t.strip_prefix('+') {
        (false, rest)
    } else {
        (false, t)
    }
}

/// Removes `_` separators from a digit run; `None` unless the text is
/// digits with single underscores strictly between digits.
fn strip_digit_underscores(s: &str, is_digit: impl Fn(char) -> bool) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut prev_digit = false;
    for c in s.chars() {
        if c == '_' {
            if !prev_digit {
                return None;
            }
            prev_digit = false;
        } else if is_digit(c) {
            out.push(c);
            prev_digit = true;
        } else {
            return None;
        }
    }
    if out.is_empty() || !prev_digit {
        return None;
    }
    Some(out)
}

/// Builds `<int>.<frac>e<exp>` and parses it (correctly rounded).
fn normalised_float(int_digits: &str, frac_digits: &str, exp: &str) -> Option<f64> {
    let int_digits = if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    };
    let frac_digits = if frac_digits.is_empty() {
        "0"
    } else {
        frac_digits
    };
    format!("{int_digits}.{frac_digits}e{exp}")
        .parse::<f64>()
        .ok()
}

/// An integer with its sign applied: `Int` when it fits 128 bits, else the
/// float `fallback()` gives for the magnitude.
fn signed_int(neg: bool, magnitude: u128, fallback: impl Fn() -> f64) -> Value {
    let limit = if neg {
        1u128 << 127
    } else {
        (1u128 << 127) - 1
    };
    if magnitude <= limit {
        let v = if neg {
            (magnitude as i128).wrapping_neg()
        } else {
            magnitude as i128
        };
        Value::Int(v)
    } else {
        let f = fallback();
        Value::Float(if neg { -f } else { f })
    }
}

// ---------------------------------------------------------------------------
// Python literal parser
// ---------------------------------------------------------------------------

/// A number token before any sign is applied.
#[derive(Debug, Clone, Copy)]
enum Num {
    /// Integer magnitude that fits in 128 bits.
    Int(u128),
    /// Integer too large for 128 bits, as a float.
    BigInt(f64),
    /// A float literal.
    Float(f64),
}

impl Num {
    fn into_value(self, neg: bool) -> Value {
        match self {
            Num::Int(m) => signed_int(neg, m, || m as f64),
            Num::BigInt(f) => Value::Float(if neg { -f } else { f }),
            Num::Float(f) => Value::Float(if neg { -f } else { f }),
        }
    }
}

/// What an atom turned out to be, for the unary-sign rule.
enum Atom {
    /// A plain number constant (a sign may apply to it).
    Number(Num),
    /// Any other value.
    Other(Value),
}

impl Atom {
    fn into_value(self) -> Value {
        match self {
            Atom::Number(n) => n.into_value(false),
            Atom::Other(v) => v,
        }
    }
}

/// Recursive-descent parser over a Python expression that must be a
/// literal.
struct LitParser<'a> {
    src: &'a str,
    pos: usize,
    /// Bracket depth: newlines are only whitespace inside brackets.
    depth: usize,
}

impl<'a> LitParser<'a> {
    fn new(src: &'a str) -> Self {
        LitParser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Skips blanks and comments; newlines only inside brackets.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\x0c' => {
                    self.pos += 1;
                }
                '\n' | '\r' if self.depth > 0 => {
                    self.pos += 1;
                }
                '\\' if matches!(self.peek_at(1), Some('\n') | Some('\r')) => {
                    // Explicit line continuation.
                    self.pos += 1;
                    self.eat('\r');
                    self.eat('\n');
                }
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' || c == '\r' {
                            break;
                        }
                        self.pos += c.len_utf8();
                    }
                }
                _ => break,
            }
        }
    }

    /// The whole input: an expression list, then the end.
    fn top(&mut self) -> Option<Value> {
        self.skip_ws();
        let first = self.expr()?;
        self.skip_ws();
        let value = if self.peek() == Some(',') {
            let mut items = vec![first];
            while self.eat(',') {
                self.skip_ws();
                if self.peek().is_none() {
                    break;
                }
                items.push(self.expr()?);
                self.skip_ws();
            }
            Value::Tuple(items)
        } else {
            first
        };
        self.skip_ws();
        if self.pos != self.src.len() {
            return None;
        }
        Some(value)
    }

    /// One expression: an optional unary sign applied to a number, or any
    /// literal atom.
    fn expr(&mut self) -> Option<Value> {
        self.skip_ws();
        let neg = match self.peek() {
            Some('-') => true,
            Some('+') => false,
            _ => return Some(self.atom()?.into_value()),
        };
        self.pos += 1;
        self.skip_ws();
        match self.atom()? {
            Atom::Number(n) => Some(n.into_value(neg)),
            Atom::Other(_) => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            None
        } else {
            Some(())
        }
    }

    fn atom(&mut self) -> Option<Atom> {
        let c = self.peek()?;
        match c {
            '[' => {
                self.pos += 1;
                self.enter()?;
                let items = self.sequence(']')?;
                self.depth -= 1;
                Some(Atom::Other(Value::List(items)))
            }
            '(' => {
                self.pos += 1;
                self.enter()?;
                let atom = self.paren()?;
                self.depth -= 1;
                Some(atom)
            }
            '{' => {
                self.pos += 1;
                self.enter()?;
                let v = self.brace()?;
                self.depth -= 1;
                Some(Atom::Other(v))
            }
            '\'' | '"' => Some(Atom::Other(Value::Str(self.strings(None)?))),
            '0'..='9' => Some(Atom::Number(self.number()?)),
            '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                Some(Atom::Number(self.number()?))
            }
            c if c == '_' || c.is_alphabetic() => self.name(),
            _ => None,
        }
    }

    /// Items up to `close`, comma separated, trailing comma allowed.
    fn sequence(&mut self, close: char) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            self.skip_ws();
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(',') {
                return None;
            }
        }
    }

    /// After `(`: `()`, `(x)` (just x), `(x,)`, `(x, y)`.
    fn paren(&mut self) -> Option<Atom> {
        self.skip_ws();
        if self.eat(')') {
            return Some(Atom::Other(Value::Tuple(Vec::new())));
        }
        // A parenthesised number keeps its "number" nature: `-(1)` is -1.
        self.skip_ws();
        let first = if matches!(self.peek(), Some('-') | Some('+')) {
            Atom::Other(self.expr()?)
        } else {
            self.atom()?
        };
        self.skip_ws();
        if self.eat(')') {
            return Some(first);
        }
        if !self.eat(',') {
            return None;
        }
        let mut items = vec![first.into_value()];
        items.extend(self.sequence(')')?);
        Some(Atom::Other(Value::Tuple(items)))
    }

    /// After `{`: dict, set or empty dict.
    fn brace(&mut self) -> Option<Value> {
        self.skip_ws();
        if self.eat('}') {
            return Some(Value::Map(IndexMap::new()));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.eat(':') {
            let mut map = IndexMap::new();
            let mut key = first;
            loop {
                let value = self.expr()?;
                if !hashable(&key) {
                    return None;
                }
                map.insert(key.py_str(), value);
                self.skip_ws();
                if self.eat('}') {
                    return Some(Value::Map(map));
                }
                if !self.eat(',') {
                    return None;
                }
                self.skip_ws();
                if self.eat('}') {
                    return Some(Value::Map(map));
                }
                key = self.expr()?;
                self.skip_ws();
                if !self.eat(':') {
                    return None;
                }
            }
        }
        // A set literal.
        let mut items = vec![first];
        self.skip_ws();
        if !self.eat('}') {
            if !self.eat(',') {
                return None;
            }
            items.extend(self.sequence('}')?);
        }
        let mut unique: Vec<Value> = Vec::with_capacity(items.len());
        for item in items {
            if !hashable(&item) {
                return None;
            }
            if !unique.contains(&item) {
                unique.push(item);
            }
        }
        Some(Value::List(unique))
    }

    /// A name: `True`, `False`, `None`, `set()`, or a string prefix.
    fn name(&mut self) -> Option<Atom> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '_' || c.is_alphanumeric() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let word = &self.src[start..self.pos];
        if matches!(self.peek(), Some('\'') | Some('"')) {
            let lower = word.to_ascii_lowercase();
            return match lower.as_str() {
                "r" => Some(Atom::Other(Value::Str(self.strings(Some(true))?))),
                "u" => Some(Atom::Other(Value::Str(self.strings(Some(false))?))),
                // Bytes and f-strings are not supported.
                _ => None,
            };
        }
        match word {
            "True" => Some(Atom::Other(Value::Bool(true))),
            "False" => Some(Atom::Other(Value::Bool(false))),
            "None" => Some(Atom::Other(Value::Null)),
            "set" => {
                self.skip_ws();
                if !self.eat('(') {
                    return None;
                }
                self.depth += 1;
                self.skip_ws();
                let ok = self.eat(')');
                self.depth -= 1;
                ok.then_some(Atom::Other(Value::List(Vec::new())))
            }
            _ => None,
        }
    }

    /// One string literal (the prefix, if any, already consumed and given
    /// as `raw`), then any adjacent string literals, concatenated.
    fn strings(&mut self, raw: Option<bool>) -> Option<String> {
        let mut out = self.string_body(raw.unwrap_or(false))?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let next_raw = match self.peek() {
                Some('\'') | Some('"') => false,
                Some(c) if c == 'r' || c == 'R' || c == 'u' || c == 'U' => {
                    if matches!(self.peek_at(1), Some('\'') | Some('"')) {
                        self.pos += 1;
                        c == 'r' || c == 'R'
                    } else {
                        self.pos = save;
                        return Some(out);
                    }
                }
                _ => {
                    self.pos = save;
                    return Some(out);
                }
            };
            out.push_str(&self.string_body(next_raw)?);
        }
    }

    /// A quoted string starting at the current quote.
    fn string_body(&mut self, raw: bool) -> Option<String> {
        let quote = self.bump()?;
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.pos += 2;
        }
        let mut out = String::new();
        loop {
            let c = self.bump()?;
            if c == quote {
                if !triple {
                    return Some(out);
                }
                if self.peek() == Some(quote) && self.peek_at(1) == Some(quote) {
                    self.pos += 2;
                    return Some(out);
                }
                out.push(c);
                continue;
            }
            if (c == '\n' || c == '\r') && !triple {
                return None;
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.bump()?;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                '\r' => {
                    self.eat('\n');
                }
                '\\' | '\'' | '"' => out.push(e),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                '0'..='7' => {
                    let mut code = e.to_digit(8)?;
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                code = code * 8 + d;
                                self.pos += 1;
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(code)?);
                }
                'x' => out.push(self.hex_escape(2)?),
                'u' => out.push(self.hex_escape(4)?),
                'U' => out.push(self.hex_escape(8)?),
                // `\N{name}` needs the Unicode name table: unsupported.
                'N' => return None,
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }

    /// Exactly `n` hex digits as a character (surrogates rejected).
    fn hex_escape(&mut self, n: usize) -> Option<char> {
        let mut code: u32 = 0;
        for _ in 0..n {
            let d = self.peek()?.to_digit(16)?;
            self.pos += 1;
            code = code * 16 + d;
        }
        char::from_u32(code)
    }

    /// A number token (no sign).
    fn number(&mut self) -> Option<Num> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let radix = if bytes.len() > 1 && bytes[0] == b'0' {
            match bytes[1] {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                b'b' | b'B' => 2,
                _ => 10,
            }
        } else {
            10
        };
        let num = if radix != 10 {
            self.pos += 2;
            // Python allows one `_` right after the prefix: `0x_1F`.
            self.eat('_');
            let digits = self.take_digits(|c| c.is_digit(radix))?;
            let mut acc: Option<u128> = Some(0);
            let mut facc: f64 = 0.0;
            for d in digits.chars() {
                let v = d.to_digit(radix)?;
                acc = acc
                    .and_then(|a| a.checked_mul(radix as u128))
                    .and_then(|a| a.checked_add(v as u128));
                facc = facc * radix as f64 + v as f64;
            }
            match acc {
                Some(a) => Num::Int(a),
                None => Num::BigInt(facc),
            }
        } else {
            let int_digits = if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.take_digits(|c| c.is_ascii_digit())?
            } else {
                String::new()
            };
            let mut is_float = false;
            let mut frac_digits = String::new();
            if self.peek() == Some('.') {
                is_float = true;
                self.pos += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    frac_digits = self.take_digits(|c| c.is_ascii_digit())?;
                }
            }
            if int_digits.is_empty() && frac_digits.is_empty() {
                return None;
            }
            let mut exp = String::from("0");
            if matches!(self.peek(), Some('e') | Some('E')) {
                is_float = true;
                self.pos += 1;
                let neg = if self.eat('-') {
                    true
                } else {
                    self.eat('+');
                    false
                };
                let d = self.take_digits(|c| c.is_ascii_digit())?;
                exp = format!("{}{d}", if neg { "-" } else { "" });
            }
            if is_float {
                Num::Float(normalised_float(&int_digits, &frac_digits, &exp)?)
            } else {
                // `007` is a syntax error; `000` is fine.
                if int_digits.len() > 1
                    && int_digits.starts_with('0')
                    && int_digits.chars().any(|c| c != '0')
                {
                    return None;
                }
                match int_digits.parse::<u128>() {
                    Ok(m) => Num::Int(m),
                    Err(_) => Num::BigInt(int_digits.parse::<f64>().ok()?),
                }
            }
        };
        // A number glued to a name, a dot or `j` (complex) is not a literal
        // we support.
        match self.peek() {
            Some(c) if c == '_' || c == '.' || c.is_alphanumeric() => None,
            _ => Some(num),
        }
    }

    /// A run of digits with single `_` separators; underscores removed.
    fn take_digits(&mut self, is_digit: impl Fn(char) -> bool) -> Option<String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if is_digit(c) {
                out.push(c);
                self.pos += 1;
            } else if c == '_' && self.peek_at(1).is_some_and(&is_digit) && !out.is_empty() {
                self.pos += 1;
            } else {
                break;
            }
        }
        if out.is_empty() {
            None
        } else {
            Some(out)
        }
    }
}

/// Python hashability: lists, dicts (and tuples holding them) are not.
fn hashable(v: &Value) -> bool {
    match v {
        Value::List(_) | Value::Map(_) => false,
        Value::Tuple(items) => items.iter().all(hashable),
        _ => true,
    }
}

// ---------------------------------------------------------------------------
// JSON as Python's `json.loads` reads it
// ---------------------------------------------------------------------------

/// Parses JSON the way Python's `json.loads` does: `NaN`, `Infinity` and
/// `-Infinity` accepted, duplicate keys keep the last value, integers that
/// overflow 64 bits become floats.
fn parse_python_json(text: &str) -> Option<Value> {
    let mut p = JsonParser {
        src: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    (p.pos == p.src.len()).then_some(v)
}

struct JsonParser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.src.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn lit(&mut self, word: &str) -> bool {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        match *self.src.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                let mut map = IndexMap::new();
                self.ws();
                if self.src.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(Value::Map(map));
                }
                loop {
                    self.ws();
                    if self.src.get(self.pos) != Some(&b'"') {
                        return None;
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.src.get(self.pos) != Some(&b':') {
                        return None;
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value()?;
                    map.insert(key, v);
                    self.ws();
                    match self.src.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            self.depth -= 1;
                            return Some(Value::Map(map));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                let mut items = Vec::new();
                self.ws();
                if self.src.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(Value::List(items));
                }
                loop {
                    self.ws();
                    items.push(self.value()?);
                    self.ws();
                    match self.src.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            self.depth -= 1;
                            return Some(Value::List(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => Some(Value::Str(self.string()?)),
            b't' if self.lit("true") => Some(Value::Bool(true)),
            b'f' if self.lit("false") => Some(Value::Bool(false)),
            b'n' if self.lit("null") => Some(Value::Null),
            b'N' if self.lit("NaN") => Some(Value::Float(f64::NAN)),
            b'I' if self.lit("Infinity") => Some(Value::Float(f64::INFINITY)),
            b'-' if self.lit("-Infinity") => Some(Value::Float(f64::NEG_INFINITY)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.src.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let neg = self.src.get(self.pos) == Some(&b'-');
        if neg {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.src.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return None,
        }
        let int_end = self.pos;
        let mut is_float = false;
        // Python's pattern: `(\.\d+)?([eE][-+]?\d+)?`, each part optional
        // and only taken when complete.
        if self.src.get(self.pos) == Some(&b'.')
            && self.src.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            self.pos += 1;
            self.digits();
            is_float = true;
        }
        if matches!(self.src.get(self.pos), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.src.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text = &self.text[start..self.pos];
        if is_float {
            return text.parse::<f64>().ok().map(Value::Float);
        }
        let digits = &self.text[int_start..int_end];
        Some(match digits.parse::<u128>() {
            Ok(m) => signed_int(neg, m, || m as f64),
            Err(_) => {
                let f = digits.parse::<f64>().ok()?;
                Value::Float(if neg { -f } else { f })
            }
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let s = self.text.get(self.pos..self.pos + 4)?;
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(s, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..)?;
            let c = rest.chars().next()?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Some(out),
                '\\' => {
                    let e = *self.src.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\x08'),
                        b'f' => out.push('\x0c'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.src.get(self.pos) == Some(&b'\\')
                                && self.src.get(self.pos + 1) == Some(&b'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                match self.hex4() {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                    }
                                    _ => {
                                        self.pos = save;
                                        hi
                                    }
                                }
                            } else {
                                hi
                            };
                            // Lone surrogates cannot live in a Rust string.
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }
    fn l(items: Vec<Value>) -> Value {
        Value::List(items)
    }
    fn t(items: Vec<Value>) -> Value {
        Value::Tuple(items)
    }
    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    use Value::{Bool as B, Float as F, Int as I, Null as N};

    /// Expected values checked with Python 3.11 `ast.literal_eval`.
    #[test]
    fn literals_match_literal_eval() {
        let cases: Vec<(&str, Option<Value>)> = vec![
            ("42", Some(I(42))),
            ("  42  ", Some(I(42))),
            ("-7", Some(I(-7))),
            ("+7", Some(I(7))),
            ("- 7", Some(I(-7))),
            ("1_000_000", Some(I(1_000_000))),
            ("0x1F", Some(I(31))),
            ("0X1f", Some(I(31))),
            ("0x_1F", Some(I(31))),
            ("0o755", Some(I(493))),
            ("0b1010", Some(I(10))),
            ("-0x10", Some(I(-16))),
            ("000", Some(I(0))),
            ("007", None),
            ("1__0", None),
            ("1_", None),
            ("_1", None),
            ("0x", None),
            ("0b2", None),
            ("9223372036854775807", Some(I(i64::MAX as i128))),
            ("-9223372036854775808", Some(I(i64::MIN as i128))),
            ("9223372036854775808", Some(I(9223372036854775808))),
            ("100000000000000000000", Some(I(100000000000000000000))),
            (
                "170141183460469231731687303715884105727",
                Some(I(i128::MAX)),
            ),
            (
                "170141183460469231731687303715884105728",
                Some(F(1.7014118346046923e38)),
            ),
            (
                "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
                Some(F(8.711228593176025e40)),
            ),
            ("2.5", Some(F(2.5))),
            ("1e6", Some(F(1e6))),
            ("1E3", Some(F(1000.0))),
            (".5", Some(F(0.5))),
            ("5.", Some(F(5.0))),
            ("1.e2", Some(F(100.0))),
            ("1.23_45", Some(F(1.2345))),
            ("007.5", Some(F(7.5))),
            ("1e-3", Some(F(0.001))),
            ("-1.5e+2", Some(F(-150.0))),
            ("1e400", Some(F(f64::INFINITY))),
            ("1e", None),
            ("1.5.2", None),
            ("1j", None),
            ("1+2j", None),
            ("1+2", None),
            ("--1", None),
            ("-True", None),
            ("-(1)", Some(I(-1))),
            ("-(1,)", None),
            ("True", Some(B(true))),
            ("False", Some(B(false))),
            ("None", Some(N)),
            ("true", None),
            ("localhost", None),
            ("inf", None),
            ("nan", None),
            ("...", None),
            ("'hello'", Some(s("hello"))),
            ("\"hello\"", Some(s("hello"))),
            ("'it''s'", Some(s("its"))),
            ("'a' \"b\"", Some(s("ab"))),
            ("'''tri\nple'''", Some(s("tri\nple"))),
            ("\"\"\"x\"y\"\"\"", Some(s("x\"y"))),
            (
                r"'a\tb\n\\ \'q\' \x41\u00e9\U0001F600\101\0'",
                Some(s("a\tb\n\\ 'q' Aé😀A\0")),
            ),
            (r"'\d'", Some(s("\\d"))),
            (r"r'\d\n'", Some(s("\\d\\n"))),
            (r"u'x'", Some(s("x"))),
            ("b'x'", None),
            ("f'x'", None),
            ("'unterminated", None),
            ("'new\nline'", None),
            (r"'\ud800'", None),
            ("[1,2]", Some(l(vec![I(1), I(2)]))),
            ("[1, 2,]", Some(l(vec![I(1), I(2)]))),
            ("[]", Some(l(vec![]))),
            ("[,]", None),
            ("[1 2]", None),
            ("[\n  1,\n  2\n]", Some(l(vec![I(1), I(2)]))),
            ("[1, # one\n 2]", Some(l(vec![I(1), I(2)]))),
            ("42 # answer", Some(I(42))),
            ("(1,2)", Some(t(vec![I(1), I(2)]))),
            ("(1,)", Some(t(vec![I(1)]))),
            ("()", Some(t(vec![]))),
            ("(1)", Some(I(1))),
            ("((1))", Some(I(1))),
            ("(-1)", Some(I(-1))),
            ("1,2", Some(t(vec![I(1), I(2)]))),
            ("1,", Some(t(vec![I(1)]))),
            ("1\n2", None),
            ("{'a':1}", Some(m(&[("a", I(1))]))),
            ("{}", Some(m(&[]))),
            (
                "{1: 'x', 2.5: None, None: [1], (1, 2): 'p'}",
                Some(m(&[
                    ("1", s("x")),
                    ("2.5", N),
                    ("None", l(vec![I(1)])),
                    ("(1, 2)", s("p")),
                ])),
            ),
            (
                "{'a': 1, 'b': 2, 'a': 3}",
                Some(m(&[("a", I(3)), ("b", I(2))])),
            ),
            ("{'a': 1,}", Some(m(&[("a", I(1))]))),
            ("{[1]: 2}", None),
            ("{'a' 1}", None),
            ("{1,2}", Some(l(vec![I(1), I(2)]))),
            ("{1, 2, 1}", Some(l(vec![I(1), I(2)]))),
            ("{1}", Some(l(vec![I(1)]))),
            ("{[1]}", None),
            ("set()", Some(l(vec![]))),
            ("set", None),
            (
                "[[1, [2, (3,)]], {'k': {'j': -1.5}}]",
                Some(l(vec![
                    l(vec![I(1), l(vec![I(2), t(vec![I(3)])])]),
                    m(&[("k", m(&[("j", F(-1.5))]))]),
                ])),
            ),
            ("[0;1]", None),
            ("1 2", None),
            ("", None),
            ("x[0]", None),
            ("[1][0]", None),
            ("é", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_python_literal(text), want, "literal {text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_python_literal(&deep), None);
        assert_eq!(cast_output(&deep), Value::Str(deep.clone()));
        let ok = format!("{}1{}", "[".repeat(50), "]".repeat(50));
        assert!(parse_python_literal(&ok).is_some());
    }

    /// templates.md §3.1, checked against upstream `fzi`.
    #[test]
    fn defaults_follow_fzi_rules() {
        let cases: Vec<(&str, Value)> = vec![
            ("2.5", F(2.5)),
            ("42", I(42)),
            ("1_000_000", I(1_000_000)),
            ("0x1F", I(31)),
            ("0o755", I(493)),
            ("0b1010", I(10)),
            ("1e6", F(1e6)),
            ("\"hello\"", s("hello")),
            ("'hello'", s("hello")),
            ("[1,2]", l(vec![I(1), I(2)])),
            ("{'a':1}", m(&[("a", I(1))])),
            ("(1,2)", t(vec![I(1), I(2)])),
            ("True", B(true)),
            ("None", N),
            ("[0;1]", N),
            ("{x", N),
            ("localhost", s("localhost")),
            ("false", s("false")),
            ("  spaced out  ", s("spaced out")),
            ("\"a\"b\"", s("a\"b")),
            ("\"", s("")),
            ("", s("")),
            ("007", s("007")),
            ("é<&>", s("é<&>")),
        ];
        for (text, want) in cases {
            assert_eq!(parse_default(text), want, "default {text:?}");
        }
    }

    /// compile-and-output.md §5.7 verified table plus more cases checked
    /// with upstream `cast_output`.
    #[test]
    fn cast_output_matches_upstream() {
        let cases: Vec<(&str, Value)> = vec![
            ("42", I(42)),
            ("42\n", I(42)),
            ("4.2", F(4.2)),
            ("1e3", F(1000.0)),
            ("1E3", F(1000.0)),
            ("-7", I(-7)),
            ("3.0", F(3.0)),
            ("007", I(7)),
            ("-007", I(-7)),
            ("0_7", I(7)),
            ("0x10", I(16)),
            ("1_000", I(1000)),
            ("NaN", F(f64::NAN)),
            ("Infinity", F(f64::INFINITY)),
            ("-Infinity", F(f64::NEG_INFINITY)),
            ("[NaN, 1]", l(vec![F(f64::NAN), I(1)])),
            ("nan", s("nan")),
            ("inf", s("inf")),
            ("abc", s("abc")),
            ("a b", s("a b")),
            ("1.5.2", s("1.5.2")),
            ("hello.txt", s("hello.txt")),
            ("e", s("e")),
            ("300\n310", s("300\n310")),
            ("  padded  ", s("padded")),
            ("[42]", I(42)),
            ("[1,2]", l(vec![I(1), I(2)])),
            ("[[1]]", l(vec![I(1)])),
            ("[]", l(vec![])),
            ("{}", m(&[])),
            ("(1,)", I(1)),
            ("(1,2)", t(vec![I(1), I(2)])),
            ("1,2", t(vec![I(1), I(2)])),
            ("['x']", s("x")),
            ("{'a':1}", m(&[("a", I(1))])),
            ("{\"a\":1}", m(&[("a", I(1))])),
            (
                "{\"a\": {\"b\": [1, 2.5, null]}}",
                m(&[("a", m(&[("b", l(vec![I(1), F(2.5), N]))]))]),
            ),
            ("{\"a\":1,\"a\":2}", m(&[("a", I(2))])),
            ("true", B(true)),
            ("True", B(true)),
            ("null", N),
            ("None", N),
            ("\"str\"", s("str")),
            ("'s'", s("s")),
            ("\"\\u00e9\\ud83d\\ude00\"", s("é😀")),
            ("1j", s("1j")),
            (" ", N),
            ("", N),
            ("-0", I(0)),
            ("1.", F(1.0)),
            ("12345678901234567890123", I(12345678901234567890123)),
            (
                "1234567890123456789012345678901234567890",
                F(1.2345678901234568e39),
            ),
            ("+5", I(5)),
            ("1.5e", s("1.5e")),
            ("Infinity!", s("Infinity!")),
        ];
        for (text, want) in cases {
            let got = cast_output(text);
            let same = match (&got, &want) {
                (Value::Float(a), Value::Float(b)) if a.is_nan() && b.is_nan() => true,
                (Value::List(a), Value::List(b)) if a.len() == b.len() => {
                    a.iter().zip(b).all(|(x, y)| {
                        x == y || matches!((x, y), (F(p), F(q)) if p.is_nan() && q.is_nan())
                    })
                }
                _ => got == want,
            };
            assert!(same, "cast_output({text:?}) = {got:?}, want {want:?}");
        }
    }

    #[test]
    fn python_int_and_float_parsing() {
        let ints: Vec<(&str, Option<Value>)> = vec![
            ("7", Some(I(7))),
            (" 007 ", Some(I(7))),
            ("-0_7", Some(I(-7))),
            ("+1", Some(I(1))),
            ("1__0", None),
            ("1_", None),
            ("", None),
            ("-", None),
            ("1.0", None),
            ("0x10", None),
            ("99999999999999999999", Some(I(99999999999999999999))),
        ];
        for (text, want) in ints {
            assert_eq!(parse_py_int(text), want, "int({text:?})");
        }
        let floats: Vec<(&str, Option<f64>)> = vec![
            ("1.5", Some(1.5)),
            (" -1.5e3 ", Some(-1500.0)),
            ("1_0.5", Some(10.5)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e5", Some(1e5)),
            ("1E+05", Some(1e5)),
            ("Infinity", Some(f64::INFINITY)),
            ("-inf", Some(f64::NEG_INFINITY)),
            ("1.5.2", None),
            (".", None),
            ("e5", None),
            ("1e", None),
            ("1._5", None),
            ("abc", None),
        ];
        for (text, want) in floats {
            assert_eq!(parse_py_float(text), want, "float({text:?})");
        }
        assert!(parse_py_float("NaN").is_some_and(f64::is_nan));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(text in "\\PC*") {
            let _ = cast_output(&text);
            let _ = parse_default(&text);
        }

        #[test]
        fn never_panics_on_literal_like_text(
            text in "[\\[\\](){},:'\"\\\\0-9a-fA-FxXoObBjJrRuUNT_.+# \n\t-]{0,40}"
        ) {
            let _ = parse_python_literal(&text);
            let _ = cast_output(&text);
        }
    }
}
