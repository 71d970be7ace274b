//! Property tests of the template engine: parsing never panics, and text
//! without substitutions compiles to itself, byte for byte.

use fz_core::model::Syntax;
use fz_core::template::compile::render;
use fz_core::template::parse::parse;
use indexmap::IndexMap;
use proptest::prelude::*;

fn syntaxes() -> Vec<Syntax> {
    vec![
        Syntax::default(),
        Syntax {
            var_delim: Some(('{', '}')),
            ..Syntax::default()
        },
        Syntax {
            var_prefix: "$".into(),
            formula_prefix: "$".into(),
            var_delim: Some(('{', '}')),
            formula_delim: Some(('(', ')')),
            ..Syntax::default()
        },
        Syntax {
            var_prefix: "VAR".into(),
            formula_prefix: "=".into(),
            comment: "//".into(),
            var_delim: None,
            formula_delim: Some(('|', '|')),
            legacy_prefix: None,
        },
    ]
}

/// Text rich in template syntax characters.
fn template_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("$".to_string()),
            Just("@".to_string()),
            Just("?".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("~".to_string()),
            Just(";".to_string()),
            Just("|".to_string()),
            Just("#@".to_string()),
            Just("#@:".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("é".to_string()),
            "[a-z_0-9 ]{0,4}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for syntax in syntaxes() {
            let t = parse(text.clone(), &syntax);
            let _ = render(&t, &IndexMap::new()).finish("f", None);
        }
    }

    #[test]
    fn text_without_substitution_compiles_to_itself(text in template_text()) {
        for syntax in syntaxes() {
            let t = parse(text.clone(), &syntax);
            // With no case values and no defaults nothing may change; formulas
            // left unevaluated keep their text.
            if t.var_refs().iter().any(|v| v.default.is_some()) {
                continue;
            }
            let (out, _) = render(&t, &IndexMap::new()).finish("f", None);
            prop_assert_eq!(&out, &text);
        }
    }

    #[test]
    fn plain_templates_are_detected_and_identical(text in "[^$@?#]{0,200}") {
        let t = parse(text.clone(), &Syntax::default());
        prop_assert!(t.is_plain());
        let mut vars = IndexMap::new();
        vars.insert("x".to_string(), fz_core::Value::Int(1));
        let (out, _) = render(&t, &vars).finish("f", None);
        prop_assert_eq!(out, text);
    }
}
