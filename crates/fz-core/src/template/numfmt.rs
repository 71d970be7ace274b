//! Java `DecimalFormat`-like number formats for formula results (`@{x | 0.00}`).
//!
//! This module owns the [1.2] format-spec rules of templates.md §2.3:
//! `0` mandatory digit, `#` optional digit, `<mantissa>E<exponent>` for
//! scientific notation. Rounding is Python's `round()`: half-even on the
//! exact binary value (so `2.5` → `2`, `2.675` → `2.67`). Deciding what to
//! do with a spec that is not recognised (print `str()`) is the caller's
//! job.

/// Formats `value` with a `DecimalFormat`-like `spec` (trimmed), as fz
/// 1.2 does; `None` when the spec is empty or not a number pattern, or the
/// value is not finite (NaN and infinities print as Python `str()`).
///
/// * `<m>E<x>` where `<m>` is `0`/`#` with at most one `.` and `<x>` is one
///   or more `0`/`#`: scientific notation, mantissa in [1, 10) rounded to the
///   number of characters after the point, exponent zero-padded to the
///   length of `<x>` (`0.00E00` on 20/3 → `6.67E00`, `0.0E0` on 0.000123 →
///   `1.2E-4`);
/// * otherwise, any spec holding `.`, `0` or `#`: fixed point with as many
///   decimals as characters after the first `.`, trailing zeros dropped
///   down to the number of `0`s after it, integer part zero-padded to the
///   number of `0`s before it, and no sign on a result that reads as zero
///   (`#.##` on 5 → `5`, `000000.0` on 1234.5 → `001234.5`, `0.00` on
///   -0.0001 → `0.00`).
pub fn format_number(spec: &str, value: f64) -> Option<String> {
    let spec = spec.trim();
    if spec.is_empty() || !value.is_finite() {
        return None;
    }
    if let Some((mantissa_pattern, exp_digits)) = split_scientific(spec) {
        return scientific(value, mantissa_pattern, exp_digits);
    }
    if spec.contains(['.', '0', '#']) {
        return Some(decimal_pattern(value, spec));
    }
    None
}

/// Splits `<m>E<x>` (see [`format_number`]); `None` if `spec` is not
/// scientific.
fn split_scientific(spec: &str) -> Option<(&str, usize)> {
    let at = spec.find(['e', 'E'])?;
    let (mantissa, exp) = (&spec[..at], &spec[at + 1..]);
    if exp.is_empty() || !exp.chars().all(|c| c == '0' || c == '#') {
        return None;
    }
    let mut dots = 0;
    for c in mantissa.chars() {
        match c {
            '0' | '#' => {}
            '.' => dots += 1,
            _ => return None,
        }
    }
    if dots > 1 {
        return None;
    }
    let mantissa = if mantissa.is_empty() { "0" } else { mantissa };
    Some((mantissa, exp.len()))
}

/// Scientific notation: normalised mantissa, then `E`, the exponent sign
/// (only `-`) and its zero-padded digits.
fn scientific(value: f64, mantissa_pattern: &str, exp_digits: usize) -> Option<String> {
    let decimals = mantissa_pattern
        .split_once('.')
        .map_or(0, |(_, frac)| frac.chars().count());
    let (mantissa, exponent) = if value == 0.0 {
        (0.0, 0i64)
    } else {
        let mut exponent = value.abs().log10().floor() as i64;
        let scale = pow10(exponent);
        if scale == 0.0 || !scale.is_finite() {
            return None;
        }
        let mut mantissa = py_round(value / scale, decimals);
        if mantissa.abs() >= 10.0 {
            mantissa /= 10.0;
            exponent += 1;
        } else if mantissa.abs() < 1.0 {
            mantissa *= 10.0;
            exponent -= 1;
        }
        (mantissa, exponent)
    };
    let body = decimal_pattern(mantissa, mantissa_pattern);
    let sign = if exponent < 0 { "-" } else { "" };
    Some(format!(
        "{body}E{sign}{:0width$}",
        exponent.unsigned_abs(),
        width = exp_digits
    ))
}

/// `10^e` as Python computes `10 ** e` (correctly rounded).
fn pow10(e: i64) -> f64 {
    format!("1e{e}").parse::<f64>().unwrap_or(f64::NAN)
}

/// Python `round(x, n)` for `n >= 0`: correctly rounded, ties to even.
fn py_round(x: f64, n: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.n$}").parse::<f64>().unwrap_or(x)
}

/// Fixed-point pattern (`0.000`, `#.##`, `000000.0`, …) for a finite value.
fn decimal_pattern(value: f64, pattern: &str) -> String {
    let negative = value < 0.0;
    let value = value.abs();
    let (int_pattern, frac_pattern) = pattern.split_once('.').unwrap_or((pattern, ""));
    let min_int = int_pattern.matches('0').count().max(1);
    let min_frac = frac_pattern.matches('0').count();
    let max_frac = frac_pattern.chars().count();

    let rounded = py_round(value, max_frac);
    let text = format!("{rounded:.max_frac$}");
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut frac = frac_part;
    while frac.len() > min_frac && frac.ends_with('0') {
        frac = &frac[..frac.len() - 1];
    }
    let mut result = String::new();
    for _ in int_part.len()..min_int {
        result.push('0');
    }
    result.push_str(int_part);
    if !frac.is_empty() {
        result.push('.');
        result.push_str(frac);
    }
    let reads_as_zero = !result.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative && !reads_as_zero {
        result.insert(0, '-');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every expected string was produced by fz 1.2's `_format_number`
    /// (Python 3.11) on the same spec and value.
    #[test]
    fn formats_match_fz_1_2() {
        let cases: &[(&str, f64, Option<&str>)] = &[
            // templates.md §2.3 verified table
            ("0.000", 20.0 / 3.0, Some("6.667")),
            ("#.##", 20.0 / 4.0, Some("5")),
            ("0", 20.0 / 3.0, Some("7")),
            ("0", 2.5, Some("2")),
            ("0.00E00", 20.0 / 3.0, Some("6.67E00")),
            ("0.0E0", 0.000123, Some("1.2E-4")),
            ("0.00", -0.0001, Some("0.00")),
            ("000000.0", 1234.5, Some("001234.5")),
            // generated from fz 1.2: every spec against every value
            ("0", 0.0, Some("0")),
            ("0", -0.0, Some("0")),
            ("0", 2.5, Some("2")),
            ("0", -2.5, Some("-2")),
            ("0", 0.5, Some("0")),
            ("0", 6.666666666666667, Some("7")),
            ("0", 2.675, Some("3")),
            ("0", 0.125, Some("0")),
            ("0", 1234.5, Some("1234")),
            ("0", 1e-07, Some("0")),
            ("0", 1e+22, Some("10000000000000000000000")),
            ("0", 9.9999, Some("10")),
            ("0", 0.000123, Some("0")),
            ("0", -0.0001, Some("0")),
            ("0", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0", 5e-324, Some("0")),
            ("0", 99.995, Some("100")),
            ("0.0", 0.0, Some("0.0")),
            ("0.0", -0.0, Some("0.0")),
            ("0.0", 2.5, Some("2.5")),
            ("0.0", -2.5, Some("-2.5")),
            ("0.0", 0.5, Some("0.5")),
            ("0.0", 6.666666666666667, Some("6.7")),
            ("0.0", 2.675, Some("2.7")),
            ("0.0", 0.125, Some("0.1")),
            ("0.0", 1234.5, Some("1234.5")),
            ("0.0", 1e-07, Some("0.0")),
            ("0.0", 1e+22, Some("10000000000000000000000.0")),
            ("0.0", 9.9999, Some("10.0")),
            ("0.0", 0.000123, Some("0.0")),
            ("0.0", -0.0001, Some("0.0")),
            ("0.0", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.0", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.0", 5e-324, Some("0.0")),
            ("0.0", 99.995, Some("100.0")),
            ("0.00", 0.0, Some("0.00")),
            ("0.00", -0.0, Some("0.00")),
            ("0.00", 2.5, Some("2.50")),
            ("0.00", -2.5, Some("-2.50")),
            ("0.00", 0.5, Some("0.50")),
            ("0.00", 6.666666666666667, Some("6.67")),
            ("0.00", 2.675, Some("2.67")),
            ("0.00", 0.125, Some("0.12")),
            ("0.00", 1234.5, Some("1234.50")),
            ("0.00", 1e-07, Some("0.00")),
            ("0.00", 1e+22, Some("10000000000000000000000.00")),
            ("0.00", 9.9999, Some("10.00")),
            ("0.00", 0.000123, Some("0.00")),
            ("0.00", -0.0001, Some("0.00")),
            ("0.00", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.00", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.00", 5e-324, Some("0.00")),
            ("0.00", 99.995, Some("100.00")),
            ("0.000", 0.0, Some("0.000")),
            ("0.000", -0.0, Some("0.000")),
            ("0.000", 2.5, Some("2.500")),
            ("0.000", -2.5, Some("-2.500")),
            ("0.000", 0.5, Some("0.500")),
            ("0.000", 6.666666666666667, Some("6.667")),
            ("0.000", 2.675, Some("2.675")),
            ("0.000", 0.125, Some("0.125")),
            ("0.000", 1234.5, Some("1234.500")),
            ("0.000", 1e-07, Some("0.000")),
            ("0.000", 1e+22, Some("10000000000000000000000.000")),
            ("0.000", 9.9999, Some("10.000")),
            ("0.000", 0.000123, Some("0.000")),
            ("0.000", -0.0001, Some("0.000")),
            ("0.000", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.000", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.000", 5e-324, Some("0.000")),
            ("0.000", 99.995, Some("99.995")),
            ("#", 0.0, Some("0")),
            ("#", -0.0, Some("0")),
            ("#", 2.5, Some("2")),
            ("#", -2.5, Some("-2")),
            ("#", 0.5, Some("0")),
            ("#", 6.666666666666667, Some("7")),
            ("#", 2.675, Some("3")),
            ("#", 0.125, Some("0")),
            ("#", 1234.5, Some("1234")),
            ("#", 1e-07, Some("0")),
            ("#", 1e+22, Some("10000000000000000000000")),
            ("#", 9.9999, Some("10")),
            ("#", 0.000123, Some("0")),
            ("#", -0.0001, Some("0")),
            ("#", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("#", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("#", 5e-324, Some("0")),
            ("#", 99.995, Some("100")),
            ("#.#", 0.0, Some("0")),
            ("#.#", -0.0, Some("0")),
            ("#.#", 2.5, Some("2.5")),
            ("#.#", -2.5, Some("-2.5")),
            ("#.#", 0.5, Some("0.5")),
            ("#.#", 6.666666666666667, Some("6.7")),
            ("#.#", 2.675, Some("2.7")),
            ("#.#", 0.125, Some("0.1")),
            ("#.#", 1234.5, Some("1234.5")),
            ("#.#", 1e-07, Some("0")),
            ("#.#", 1e+22, Some("10000000000000000000000")),
            ("#.#", 9.9999, Some("10")),
            ("#.#", 0.000123, Some("0")),
            ("#.#", -0.0001, Some("0")),
            ("#.#", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("#.#", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("#.#", 5e-324, Some("0")),
            ("#.#", 99.995, Some("100")),
            ("#.##", 0.0, Some("0")),
            ("#.##", -0.0, Some("0")),
            ("#.##", 2.5, Some("2.5")),
            ("#.##", -2.5, Some("-2.5")),
            ("#.##", 0.5, Some("0.5")),
            ("#.##", 6.666666666666667, Some("6.67")),
            ("#.##", 2.675, Some("2.67")),
            ("#.##", 0.125, Some("0.12")),
            ("#.##", 1234.5, Some("1234.5")),
            ("#.##", 1e-07, Some("0")),
            ("#.##", 1e+22, Some("10000000000000000000000")),
            ("#.##", 9.9999, Some("10")),
            ("#.##", 0.000123, Some("0")),
            ("#.##", -0.0001, Some("0")),
            ("#.##", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("#.##", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("#.##", 5e-324, Some("0")),
            ("#.##", 99.995, Some("100")),
            ("0.##", 0.0, Some("0")),
            ("0.##", -0.0, Some("0")),
            ("0.##", 2.5, Some("2.5")),
            ("0.##", -2.5, Some("-2.5")),
            ("0.##", 0.5, Some("0.5")),
            ("0.##", 6.666666666666667, Some("6.67")),
            ("0.##", 2.675, Some("2.67")),
            ("0.##", 0.125, Some("0.12")),
            ("0.##", 1234.5, Some("1234.5")),
            ("0.##", 1e-07, Some("0")),
            ("0.##", 1e+22, Some("10000000000000000000000")),
            ("0.##", 9.9999, Some("10")),
            ("0.##", 0.000123, Some("0")),
            ("0.##", -0.0001, Some("0")),
            ("0.##", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.##", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.##", 5e-324, Some("0")),
            ("0.##", 99.995, Some("100")),
            ("00.0#", 0.0, Some("00.0")),
            ("00.0#", -0.0, Some("00.0")),
            ("00.0#", 2.5, Some("02.5")),
            ("00.0#", -2.5, Some("-02.5")),
            ("00.0#", 0.5, Some("00.5")),
            ("00.0#", 6.666666666666667, Some("06.67")),
            ("00.0#", 2.675, Some("02.67")),
            ("00.0#", 0.125, Some("00.12")),
            ("00.0#", 1234.5, Some("1234.5")),
            ("00.0#", 1e-07, Some("00.0")),
            ("00.0#", 1e+22, Some("10000000000000000000000.0")),
            ("00.0#", 9.9999, Some("10.0")),
            ("00.0#", 0.000123, Some("00.0")),
            ("00.0#", -0.0001, Some("00.0")),
            ("00.0#", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("00.0#", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("00.0#", 5e-324, Some("00.0")),
            ("00.0#", 99.995, Some("100.0")),
            ("000000.0", 0.0, Some("000000.0")),
            ("000000.0", -0.0, Some("000000.0")),
            ("000000.0", 2.5, Some("000002.5")),
            ("000000.0", -2.5, Some("-000002.5")),
            ("000000.0", 0.5, Some("000000.5")),
            ("000000.0", 6.666666666666667, Some("000006.7")),
            ("000000.0", 2.675, Some("000002.7")),
            ("000000.0", 0.125, Some("000000.1")),
            ("000000.0", 1234.5, Some("001234.5")),
            ("000000.0", 1e-07, Some("000000.0")),
            ("000000.0", 1e+22, Some("10000000000000000000000.0")),
            ("000000.0", 9.9999, Some("000010.0")),
            ("000000.0", 0.000123, Some("000000.0")),
            ("000000.0", -0.0001, Some("000000.0")),
            ("000000.0", f64::NAN, None), // upstream: '000nan'; caller prints str()
            ("000000.0", f64::NEG_INFINITY, None), // upstream raises ValueError
            ("000000.0", 5e-324, Some("000000.0")),
            ("000000.0", 99.995, Some("000100.0")),
            (".00", 0.0, Some("0.00")),
            (".00", -0.0, Some("0.00")),
            (".00", 2.5, Some("2.50")),
            (".00", -2.5, Some("-2.50")),
            (".00", 0.5, Some("0.50")),
            (".00", 6.666666666666667, Some("6.67")),
            (".00", 2.675, Some("2.67")),
            (".00", 0.125, Some("0.12")),
            (".00", 1234.5, Some("1234.50")),
            (".00", 1e-07, Some("0.00")),
            (".00", 1e+22, Some("10000000000000000000000.00")),
            (".00", 9.9999, Some("10.00")),
            (".00", 0.000123, Some("0.00")),
            (".00", -0.0001, Some("0.00")),
            (".00", f64::NAN, None), // upstream: 'nan'; caller prints str()
            (".00", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            (".00", 5e-324, Some("0.00")),
            (".00", 99.995, Some("100.00")),
            (".##", 0.0, Some("0")),
            (".##", -0.0, Some("0")),
            (".##", 2.5, Some("2.5")),
            (".##", -2.5, Some("-2.5")),
            (".##", 0.5, Some("0.5")),
            (".##", 6.666666666666667, Some("6.67")),
            (".##", 2.675, Some("2.67")),
            (".##", 0.125, Some("0.12")),
            (".##", 1234.5, Some("1234.5")),
            (".##", 1e-07, Some("0")),
            (".##", 1e+22, Some("10000000000000000000000")),
            (".##", 9.9999, Some("10")),
            (".##", 0.000123, Some("0")),
            (".##", -0.0001, Some("0")),
            (".##", f64::NAN, None), // upstream: 'nan'; caller prints str()
            (".##", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            (".##", 5e-324, Some("0")),
            (".##", 99.995, Some("100")),
            ("##0.00", 0.0, Some("0.00")),
            ("##0.00", -0.0, Some("0.00")),
            ("##0.00", 2.5, Some("2.50")),
            ("##0.00", -2.5, Some("-2.50")),
            ("##0.00", 0.5, Some("0.50")),
            ("##0.00", 6.666666666666667, Some("6.67")),
            ("##0.00", 2.675, Some("2.67")),
            ("##0.00", 0.125, Some("0.12")),
            ("##0.00", 1234.5, Some("1234.50")),
            ("##0.00", 1e-07, Some("0.00")),
            ("##0.00", 1e+22, Some("10000000000000000000000.00")),
            ("##0.00", 9.9999, Some("10.00")),
            ("##0.00", 0.000123, Some("0.00")),
            ("##0.00", -0.0001, Some("0.00")),
            ("##0.00", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("##0.00", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("##0.00", 5e-324, Some("0.00")),
            ("##0.00", 99.995, Some("100.00")),
            ("0.", 0.0, Some("0")),
            ("0.", -0.0, Some("0")),
            ("0.", 2.5, Some("2")),
            ("0.", -2.5, Some("-2")),
            ("0.", 0.5, Some("0")),
            ("0.", 6.666666666666667, Some("7")),
            ("0.", 2.675, Some("3")),
            ("0.", 0.125, Some("0")),
            ("0.", 1234.5, Some("1234")),
            ("0.", 1e-07, Some("0")),
            ("0.", 1e+22, Some("10000000000000000000000")),
            ("0.", 9.9999, Some("10")),
            ("0.", 0.000123, Some("0")),
            ("0.", -0.0001, Some("0")),
            ("0.", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.", 5e-324, Some("0")),
            ("0.", 99.995, Some("100")),
            ("0.0E0", 0.0, Some("0.0E0")),
            ("0.0E0", -0.0, Some("0.0E0")),
            ("0.0E0", 2.5, Some("2.5E0")),
            ("0.0E0", -2.5, Some("-2.5E0")),
            ("0.0E0", 0.5, Some("5.0E-1")),
            ("0.0E0", 6.666666666666667, Some("6.7E0")),
            ("0.0E0", 2.675, Some("2.7E0")),
            ("0.0E0", 0.125, Some("1.2E-1")),
            ("0.0E0", 1234.5, Some("1.2E3")),
            ("0.0E0", 1e-07, Some("1.0E-7")),
            ("0.0E0", 1e+22, Some("1.0E22")),
            ("0.0E0", 9.9999, Some("1.0E1")),
            ("0.0E0", 0.000123, Some("1.2E-4")),
            ("0.0E0", -0.0001, Some("-1.0E-4")),
            ("0.0E0", f64::NAN, None), // upstream raises ValueError
            ("0.0E0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0.0E0", 5e-324, None),   // upstream raises ZeroDivisionError
            ("0.0E0", 99.995, Some("1.0E2")),
            ("0.00E00", 0.0, Some("0.00E00")),
            ("0.00E00", -0.0, Some("0.00E00")),
            ("0.00E00", 2.5, Some("2.50E00")),
            ("0.00E00", -2.5, Some("-2.50E00")),
            ("0.00E00", 0.5, Some("5.00E-01")),
            ("0.00E00", 6.666666666666667, Some("6.67E00")),
            ("0.00E00", 2.675, Some("2.67E00")),
            ("0.00E00", 0.125, Some("1.25E-01")),
            ("0.00E00", 1234.5, Some("1.23E03")),
            ("0.00E00", 1e-07, Some("1.00E-07")),
            ("0.00E00", 1e+22, Some("1.00E22")),
            ("0.00E00", 9.9999, Some("1.00E01")),
            ("0.00E00", 0.000123, Some("1.23E-04")),
            ("0.00E00", -0.0001, Some("-1.00E-04")),
            ("0.00E00", f64::NAN, None), // upstream raises ValueError
            ("0.00E00", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0.00E00", 5e-324, None),   // upstream raises ZeroDivisionError
            ("0.00E00", 99.995, Some("1.00E02")),
            ("0.###E0", 0.0, Some("0E0")),
            ("0.###E0", -0.0, Some("0E0")),
            ("0.###E0", 2.5, Some("2.5E0")),
            ("0.###E0", -2.5, Some("-2.5E0")),
            ("0.###E0", 0.5, Some("5E-1")),
            ("0.###E0", 6.666666666666667, Some("6.667E0")),
            ("0.###E0", 2.675, Some("2.675E0")),
            ("0.###E0", 0.125, Some("1.25E-1")),
            ("0.###E0", 1234.5, Some("1.234E3")),
            ("0.###E0", 1e-07, Some("1E-7")),
            ("0.###E0", 1e+22, Some("1E22")),
            ("0.###E0", 9.9999, Some("1E1")),
            ("0.###E0", 0.000123, Some("1.23E-4")),
            ("0.###E0", -0.0001, Some("-1E-4")),
            ("0.###E0", f64::NAN, None), // upstream raises ValueError
            ("0.###E0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0.###E0", 5e-324, None),   // upstream raises ZeroDivisionError
            ("0.###E0", 99.995, Some("1E2")),
            ("##0.##E0", 0.0, Some("0E0")),
            ("##0.##E0", -0.0, Some("0E0")),
            ("##0.##E0", 2.5, Some("2.5E0")),
            ("##0.##E0", -2.5, Some("-2.5E0")),
            ("##0.##E0", 0.5, Some("5E-1")),
            ("##0.##E0", 6.666666666666667, Some("6.67E0")),
            ("##0.##E0", 2.675, Some("2.67E0")),
            ("##0.##E0", 0.125, Some("1.25E-1")),
            ("##0.##E0", 1234.5, Some("1.23E3")),
            ("##0.##E0", 1e-07, Some("1E-7")),
            ("##0.##E0", 1e+22, Some("1E22")),
            ("##0.##E0", 9.9999, Some("1E1")),
            ("##0.##E0", 0.000123, Some("1.23E-4")),
            ("##0.##E0", -0.0001, Some("-1E-4")),
            ("##0.##E0", f64::NAN, None), // upstream raises ValueError
            ("##0.##E0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("##0.##E0", 5e-324, None),   // upstream raises ZeroDivisionError
            ("##0.##E0", 99.995, Some("1E2")),
            ("E0", 0.0, Some("0E0")),
            ("E0", -0.0, Some("0E0")),
            ("E0", 2.5, Some("2E0")),
            ("E0", -2.5, Some("-2E0")),
            ("E0", 0.5, Some("5E-1")),
            ("E0", 6.666666666666667, Some("7E0")),
            ("E0", 2.675, Some("3E0")),
            ("E0", 0.125, Some("1E-1")),
            ("E0", 1234.5, Some("1E3")),
            ("E0", 1e-07, Some("1E-7")),
            ("E0", 1e+22, Some("1E22")),
            ("E0", 9.9999, Some("1E1")),
            ("E0", 0.000123, Some("1E-4")),
            ("E0", -0.0001, Some("-1E-4")),
            ("E0", f64::NAN, None),          // upstream raises ValueError
            ("E0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("E0", 5e-324, None),            // upstream raises ZeroDivisionError
            ("E0", 99.995, Some("1E2")),
            ("0E0", 0.0, Some("0E0")),
            ("0E0", -0.0, Some("0E0")),
            ("0E0", 2.5, Some("2E0")),
            ("0E0", -2.5, Some("-2E0")),
            ("0E0", 0.5, Some("5E-1")),
            ("0E0", 6.666666666666667, Some("7E0")),
            ("0E0", 2.675, Some("3E0")),
            ("0E0", 0.125, Some("1E-1")),
            ("0E0", 1234.5, Some("1E3")),
            ("0E0", 1e-07, Some("1E-7")),
            ("0E0", 1e+22, Some("1E22")),
            ("0E0", 9.9999, Some("1E1")),
            ("0E0", 0.000123, Some("1E-4")),
            ("0E0", -0.0001, Some("-1E-4")),
            ("0E0", f64::NAN, None),          // upstream raises ValueError
            ("0E0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0E0", 5e-324, None),            // upstream raises ZeroDivisionError
            ("0E0", 99.995, Some("1E2")),
            (".0E00", 0.0, Some("0.0E00")),
            (".0E00", -0.0, Some("0.0E00")),
            (".0E00", 2.5, Some("2.5E00")),
            (".0E00", -2.5, Some("-2.5E00")),
            (".0E00", 0.5, Some("5.0E-01")),
            (".0E00", 6.666666666666667, Some("6.7E00")),
            (".0E00", 2.675, Some("2.7E00")),
            (".0E00", 0.125, Some("1.2E-01")),
            (".0E00", 1234.5, Some("1.2E03")),
            (".0E00", 1e-07, Some("1.0E-07")),
            (".0E00", 1e+22, Some("1.0E22")),
            (".0E00", 9.9999, Some("1.0E01")),
            (".0E00", 0.000123, Some("1.2E-04")),
            (".0E00", -0.0001, Some("-1.0E-04")),
            (".0E00", f64::NAN, None), // upstream raises ValueError
            (".0E00", f64::NEG_INFINITY, None), // upstream raises OverflowError
            (".0E00", 5e-324, None),   // upstream raises ZeroDivisionError
            (".0E00", 99.995, Some("1.0E02")),
            ("0.0e0", 0.0, Some("0.0E0")),
            ("0.0e0", -0.0, Some("0.0E0")),
            ("0.0e0", 2.5, Some("2.5E0")),
            ("0.0e0", -2.5, Some("-2.5E0")),
            ("0.0e0", 0.5, Some("5.0E-1")),
            ("0.0e0", 6.666666666666667, Some("6.7E0")),
            ("0.0e0", 2.675, Some("2.7E0")),
            ("0.0e0", 0.125, Some("1.2E-1")),
            ("0.0e0", 1234.5, Some("1.2E3")),
            ("0.0e0", 1e-07, Some("1.0E-7")),
            ("0.0e0", 1e+22, Some("1.0E22")),
            ("0.0e0", 9.9999, Some("1.0E1")),
            ("0.0e0", 0.000123, Some("1.2E-4")),
            ("0.0e0", -0.0001, Some("-1.0E-4")),
            ("0.0e0", f64::NAN, None), // upstream raises ValueError
            ("0.0e0", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0.0e0", 5e-324, None),   // upstream raises ZeroDivisionError
            ("0.0e0", 99.995, Some("1.0E2")),
            ("0.0E##", 0.0, Some("0.0E00")),
            ("0.0E##", -0.0, Some("0.0E00")),
            ("0.0E##", 2.5, Some("2.5E00")),
            ("0.0E##", -2.5, Some("-2.5E00")),
            ("0.0E##", 0.5, Some("5.0E-01")),
            ("0.0E##", 6.666666666666667, Some("6.7E00")),
            ("0.0E##", 2.675, Some("2.7E00")),
            ("0.0E##", 0.125, Some("1.2E-01")),
            ("0.0E##", 1234.5, Some("1.2E03")),
            ("0.0E##", 1e-07, Some("1.0E-07")),
            ("0.0E##", 1e+22, Some("1.0E22")),
            ("0.0E##", 9.9999, Some("1.0E01")),
            ("0.0E##", 0.000123, Some("1.2E-04")),
            ("0.0E##", -0.0001, Some("-1.0E-04")),
            ("0.0E##", f64::NAN, None), // upstream raises ValueError
            ("0.0E##", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("0.0E##", 5e-324, None),   // upstream raises ZeroDivisionError
            ("0.0E##", 99.995, Some("1.0E02")),
            ("#,##0.00", 0.0, Some("0.00")),
            ("#,##0.00", -0.0, Some("0.00")),
            ("#,##0.00", 2.5, Some("2.50")),
            ("#,##0.00", -2.5, Some("-2.50")),
            ("#,##0.00", 0.5, Some("0.50")),
            ("#,##0.00", 6.666666666666667, Some("6.67")),
            ("#,##0.00", 2.675, Some("2.67")),
            ("#,##0.00", 0.125, Some("0.12")),
            ("#,##0.00", 1234.5, Some("1234.50")),
            ("#,##0.00", 1e-07, Some("0.00")),
            ("#,##0.00", 1e+22, Some("10000000000000000000000.00")),
            ("#,##0.00", 9.9999, Some("10.00")),
            ("#,##0.00", 0.000123, Some("0.00")),
            ("#,##0.00", -0.0001, Some("0.00")),
            ("#,##0.00", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("#,##0.00", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("#,##0.00", 5e-324, Some("0.00")),
            ("#,##0.00", 99.995, Some("100.00")),
            ("0.00 m", 0.0, Some("0.00")),
            ("0.00 m", -0.0, Some("0.00")),
            ("0.00 m", 2.5, Some("2.50")),
            ("0.00 m", -2.5, Some("-2.50")),
            ("0.00 m", 0.5, Some("0.50")),
            ("0.00 m", 6.666666666666667, Some("6.6667")),
            ("0.00 m", 2.675, Some("2.675")),
            ("0.00 m", 0.125, Some("0.125")),
            ("0.00 m", 1234.5, Some("1234.50")),
            ("0.00 m", 1e-07, Some("0.00")),
            ("0.00 m", 1e+22, Some("10000000000000000000000.00")),
            ("0.00 m", 9.9999, Some("9.9999")),
            ("0.00 m", 0.000123, Some("0.0001")),
            ("0.00 m", -0.0001, Some("-0.0001")),
            ("0.00 m", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.00 m", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.00 m", 5e-324, Some("0.00")),
            ("0.00 m", 99.995, Some("99.995")),
            ("0.0%", 0.0, Some("0.0")),
            ("0.0%", -0.0, Some("0.0")),
            ("0.0%", 2.5, Some("2.5")),
            ("0.0%", -2.5, Some("-2.5")),
            ("0.0%", 0.5, Some("0.5")),
            ("0.0%", 6.666666666666667, Some("6.67")),
            ("0.0%", 2.675, Some("2.67")),
            ("0.0%", 0.125, Some("0.12")),
            ("0.0%", 1234.5, Some("1234.5")),
            ("0.0%", 1e-07, Some("0.0")),
            ("0.0%", 1e+22, Some("10000000000000000000000.0")),
            ("0.0%", 9.9999, Some("10.0")),
            ("0.0%", 0.000123, Some("0.0")),
            ("0.0%", -0.0001, Some("0.0")),
            ("0.0%", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.0%", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.0%", 5e-324, Some("0.0")),
            ("0.0%", 99.995, Some("100.0")),
            ("abc", 0.0, None),
            ("abc", -0.0, None),
            ("abc", 2.5, None),
            ("abc", -2.5, None),
            ("abc", 0.5, None),
            ("abc", 6.666666666666667, None),
            ("abc", 2.675, None),
            ("abc", 0.125, None),
            ("abc", 1234.5, None),
            ("abc", 1e-07, None),
            ("abc", 1e+22, None),
            ("abc", 9.9999, None),
            ("abc", 0.000123, None),
            ("abc", -0.0001, None),
            ("abc", f64::NAN, None), // upstream: None; caller prints str()
            ("abc", f64::NEG_INFINITY, None), // upstream: None; caller prints str()
            ("abc", 5e-324, None),
            ("abc", 99.995, None),
            ("", 0.0, None),
            ("", -0.0, None),
            ("", 2.5, None),
            ("", -2.5, None),
            ("", 0.5, None),
            ("", 6.666666666666667, None),
            ("", 2.675, None),
            ("", 0.125, None),
            ("", 1234.5, None),
            ("", 1e-07, None),
            ("", 1e+22, None),
            ("", 9.9999, None),
            ("", 0.000123, None),
            ("", -0.0001, None),
            ("", f64::NAN, None),          // upstream: None; caller prints str()
            ("", f64::NEG_INFINITY, None), // upstream: None; caller prints str()
            ("", 5e-324, None),
            ("", 99.995, None),
            (" 0.00 ", 0.0, Some("0.00")),
            (" 0.00 ", -0.0, Some("0.00")),
            (" 0.00 ", 2.5, Some("2.50")),
            (" 0.00 ", -2.5, Some("-2.50")),
            (" 0.00 ", 0.5, Some("0.50")),
            (" 0.00 ", 6.666666666666667, Some("6.67")),
            (" 0.00 ", 2.675, Some("2.67")),
            (" 0.00 ", 0.125, Some("0.12")),
            (" 0.00 ", 1234.5, Some("1234.50")),
            (" 0.00 ", 1e-07, Some("0.00")),
            (" 0.00 ", 1e+22, Some("10000000000000000000000.00")),
            (" 0.00 ", 9.9999, Some("10.00")),
            (" 0.00 ", 0.000123, Some("0.00")),
            (" 0.00 ", -0.0001, Some("0.00")),
            (" 0.00 ", f64::NAN, None), // upstream: 'nan'; caller prints str()
            (" 0.00 ", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            (" 0.00 ", 5e-324, Some("0.00")),
            (" 0.00 ", 99.995, Some("100.00")),
            ("0.0.0", 0.0, Some("0.00")),
            ("0.0.0", -0.0, Some("0.00")),
            ("0.0.0", 2.5, Some("2.50")),
            ("0.0.0", -2.5, Some("-2.50")),
            ("0.0.0", 0.5, Some("0.50")),
            ("0.0.0", 6.666666666666667, Some("6.667")),
            ("0.0.0", 2.675, Some("2.675")),
            ("0.0.0", 0.125, Some("0.125")),
            ("0.0.0", 1234.5, Some("1234.50")),
            ("0.0.0", 1e-07, Some("0.00")),
            ("0.0.0", 1e+22, Some("10000000000000000000000.00")),
            ("0.0.0", 9.9999, Some("10.00")),
            ("0.0.0", 0.000123, Some("0.00")),
            ("0.0.0", -0.0001, Some("0.00")),
            ("0.0.0", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.0.0", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.0.0", 5e-324, Some("0.00")),
            ("0.0.0", 99.995, Some("99.995")),
            ("0E", 0.0, Some("0")),
            ("0E", -0.0, Some("0")),
            ("0E", 2.5, Some("2")),
            ("0E", -2.5, Some("-2")),
            ("0E", 0.5, Some("0")),
            ("0E", 6.666666666666667, Some("7")),
            ("0E", 2.675, Some("3")),
            ("0E", 0.125, Some("0")),
            ("0E", 1234.5, Some("1234")),
            ("0E", 1e-07, Some("0")),
            ("0E", 1e+22, Some("10000000000000000000000")),
            ("0E", 9.9999, Some("10")),
            ("0E", 0.000123, Some("0")),
            ("0E", -0.0001, Some("0")),
            ("0E", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0E", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0E", 5e-324, Some("0")),
            ("0E", 99.995, Some("100")),
            ("0.0E0.0", 0.0, Some("0.000")),
            ("0.0E0.0", -0.0, Some("0.000")),
            ("0.0E0.0", 2.5, Some("2.500")),
            ("0.0E0.0", -2.5, Some("-2.500")),
            ("0.0E0.0", 0.5, Some("0.500")),
            ("0.0E0.0", 6.666666666666667, Some("6.66667")),
            ("0.0E0.0", 2.675, Some("2.675")),
            ("0.0E0.0", 0.125, Some("0.125")),
            ("0.0E0.0", 1234.5, Some("1234.500")),
            ("0.0E0.0", 1e-07, Some("0.000")),
            ("0.0E0.0", 1e+22, Some("10000000000000000000000.000")),
            ("0.0E0.0", 9.9999, Some("9.9999")),
            ("0.0E0.0", 0.000123, Some("0.00012")),
            ("0.0E0.0", -0.0001, Some("-0.0001")),
            ("0.0E0.0", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.0E0.0", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.0E0.0", 5e-324, Some("0.000")),
            ("0.0E0.0", 99.995, Some("99.995")),
            ("x", 0.0, None),
            ("x", -0.0, None),
            ("x", 2.5, None),
            ("x", -2.5, None),
            ("x", 0.5, None),
            ("x", 6.666666666666667, None),
            ("x", 2.675, None),
            ("x", 0.125, None),
            ("x", 1234.5, None),
            ("x", 1e-07, None),
            ("x", 1e+22, None),
            ("x", 9.9999, None),
            ("x", 0.000123, None),
            ("x", -0.0001, None),
            ("x", f64::NAN, None), // upstream: None; caller prints str()
            ("x", f64::NEG_INFINITY, None), // upstream: None; caller prints str()
            ("x", 5e-324, None),
            ("x", 99.995, None),
            ("#E#", 0.0, Some("0E0")),
            ("#E#", -0.0, Some("0E0")),
            ("#E#", 2.5, Some("2E0")),
            ("#E#", -2.5, Some("-2E0")),
            ("#E#", 0.5, Some("5E-1")),
            ("#E#", 6.666666666666667, Some("7E0")),
            ("#E#", 2.675, Some("3E0")),
            ("#E#", 0.125, Some("1E-1")),
            ("#E#", 1234.5, Some("1E3")),
            ("#E#", 1e-07, Some("1E-7")),
            ("#E#", 1e+22, Some("1E22")),
            ("#E#", 9.9999, Some("1E1")),
            ("#E#", 0.000123, Some("1E-4")),
            ("#E#", -0.0001, Some("-1E-4")),
            ("#E#", f64::NAN, None),          // upstream raises ValueError
            ("#E#", f64::NEG_INFINITY, None), // upstream raises OverflowError
            ("#E#", 5e-324, None),            // upstream raises ZeroDivisionError
            ("#E#", 99.995, Some("1E2")),
            ("0.0000000000", 0.0, Some("0.0000000000")),
            ("0.0000000000", -0.0, Some("0.0000000000")),
            ("0.0000000000", 2.5, Some("2.5000000000")),
            ("0.0000000000", -2.5, Some("-2.5000000000")),
            ("0.0000000000", 0.5, Some("0.5000000000")),
            ("0.0000000000", 6.666666666666667, Some("6.6666666667")),
            ("0.0000000000", 2.675, Some("2.6750000000")),
            ("0.0000000000", 0.125, Some("0.1250000000")),
            ("0.0000000000", 1234.5, Some("1234.5000000000")),
            ("0.0000000000", 1e-07, Some("0.0000001000")),
            (
                "0.0000000000",
                1e+22,
                Some("10000000000000000000000.0000000000"),
            ),
            ("0.0000000000", 9.9999, Some("9.9999000000")),
            ("0.0000000000", 0.000123, Some("0.0001230000")),
            ("0.0000000000", -0.0001, Some("-0.0001000000")),
            ("0.0000000000", f64::NAN, None), // upstream: 'nan'; caller prints str()
            ("0.0000000000", f64::NEG_INFINITY, None), // upstream: '-inf'; caller prints str()
            ("0.0000000000", 5e-324, Some("0.0000000000")),
            ("0.0000000000", 99.995, Some("99.9950000000")),
        ];
        for (spec, value, want) in cases {
            assert_eq!(
                format_number(spec, *value).as_deref(),
                *want,
                "format_number({spec:?}, {value:?})"
            );
        }
    }

    #[test]
    fn huge_precision_does_not_panic() {
        let spec = format!("0.{}", "0".repeat(5000));
        let out = format_number(&spec, 0.1).unwrap_or_default();
        assert_eq!(out.len(), 5002);
        assert!(out.starts_with("0.1000000000000000055511151231257827"));
        let sci = format!("0.{}E0", "#".repeat(3000));
        assert_eq!(format_number(&sci, 2.0).as_deref(), Some("2E0"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(spec in "[0#.eE,% x-]{0,12}", bits in proptest::num::u64::ANY) {
            let _ = format_number(&spec, f64::from_bits(bits));
        }
    }
}
