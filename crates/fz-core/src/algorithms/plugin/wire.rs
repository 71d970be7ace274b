//! The values of the plugin protocol: what fz sends (ranges, points,
//! objectives as JSON) and what it accepts back (designs, analyses).
//!
//! Pure conversions, no process and no file.

use crate::algorithms::{json_number, Analysis, Objective, Point, Ranges};
use serde_json::{Map, Value as Json};

/// `input_vars`: name → `[min, max]`.
pub fn ranges(r: &Ranges) -> Json {
    Json::Object(
        r.iter()
            .map(|(k, (lo, hi))| {
                (
                    k.clone(),
                    Json::Array(vec![json_number(*lo), json_number(*hi)]),
                )
            })
            .collect(),
    )
}

/// `X`: a list of name → number maps.
pub fn points(x: &[Point]) -> Json {
    Json::Array(
        x.iter()
            .map(|p| {
                Json::Object(
                    p.iter()
                        .map(|(k, v)| (k.clone(), json_number(*v)))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// `Y`: numbers, lists of numbers, or `null` for missing values.
pub fn objectives(y: &[Objective]) -> Json {
    Json::Array(y.iter().map(Objective::to_json).collect())
}

/// The points of a design reply: a list of name → number maps (`null`
/// counts as an empty design, as upstream stops on any falsy answer).
/// Numeric strings are accepted; anything else is an error saying which
/// point and variable.
pub fn design(reply: &Json) -> Result<Vec<Point>, String> {
    let items = match reply {
        Json::Null => return Ok(Vec::new()),
        Json::Array(items) => items,
        other => return Err(format!("returned {}, not a list of points", kind(other))),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Json::Object(map) = item else {
                return Err(format!(
                    "returned {} as point {}, not a name → value map",
                    kind(item),
                    i + 1
                ));
            };
            map.iter()
                .map(|(k, v)| match number(v) {
                    Some(x) => Ok((k.clone(), x)),
                    None => Err(format!(
                        "returned {} for '{k}' in point {}, not a number",
                        short(v),
                        i + 1
                    )),
                })
                .collect()
        })
        .collect()
}

/// The analysis of a reply: `text`, `html` (strings; other values as their
/// JSON text) and `data` (a map; another value is kept under `value`).
/// `null` is no analysis; a reply that is not a map is an error.
pub fn analysis(reply: &Json) -> Result<Option<Analysis>, String> {
    let map = match reply {
        Json::Null => return Ok(None),
        Json::Object(map) => map,
        other => return Err(format!("returned {}, not a dict", kind(other))),
    };
    let text = |key: &str| match map.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let data = match map.get("data") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(d)) => d.clone(),
        Some(other) => Map::from_iter([("value".to_string(), other.clone())]),
    };
    Ok(Some(Analysis {
        text: text("text"),
        html: text("html"),
        data,
    }))
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "None",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a dict",
    }
}

fn short(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        other => crate::template::interp::truncate(&other.to_string(), 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_carry_plain_json() {
        let r: Ranges = [("x".to_string(), (0.0, 1.0))].into_iter().collect();
        assert_eq!(ranges(&r), json!({"x": [0.0, 1.0]}));
        let p: Point = [("x".to_string(), 0.1), ("z".to_string(), 5.0)]
            .into_iter()
            .collect();
        assert_eq!(points(&[p]).to_string(), r#"[{"x":0.1,"z":5.0}]"#);
        let y = [
            Objective::Single(1.5),
            Objective::Missing,
            Objective::Multi(vec![1.0, f64::NAN]),
        ];
        assert_eq!(objectives(&y), json!([1.5, null, [1.0, null]]));
    }

    #[test]
    fn designs_and_their_errors() {
        let d = design(&json!([{"x": 0.5, "y": "2"}, {"x": 1}])).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0]["y"], 2.0);
        assert_eq!(d[1]["x"], 1.0);
        assert_eq!(design(&json!(null)), Ok(vec![]));
        assert_eq!(
            design(&json!({"x": 1})),
            Err("returned a dict, not a list of points".into())
        );
        assert_eq!(
            design(&json!([{"x": 1}, [1, 2]])),
            Err("returned a list as point 2, not a name → value map".into())
        );
        assert_eq!(
            design(&json!([{"x": "abc"}])),
            Err("returned \"abc\" for 'x' in point 1, not a number".into())
        );
        assert_eq!(
            design(&json!([{"x": null}])),
            Err("returned None for 'x' in point 1, not a number".into())
        );
    }

    #[test]
    fn analyses_keep_text_html_and_data() {
        let a = analysis(&json!({"text": "t", "html": "<p>", "data": {"n": 3}, "other": 1}))
            .unwrap()
            .unwrap();
        assert_eq!(a.text.as_deref(), Some("t"));
        assert_eq!(a.html.as_deref(), Some("<p>"));
        assert_eq!(a.data["n"], json!(3));
        let a = analysis(&json!({"text": 2, "data": [1]})).unwrap().unwrap();
        assert_eq!(
            (a.text.as_deref(), &a.data["value"]),
            (Some("2"), &json!([1]))
        );
        assert_eq!(analysis(&json!(null)), Ok(None));
        assert_eq!(
            analysis(&json!("x")),
            Err("returned a string, not a dict".into())
        );
    }
}
