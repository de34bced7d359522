//! RAIF's additions and the "no random values" rule (no official oracle exists for these).

use raif_verify::registry::{all_ids, build, evaluate, family, Family};
use raif_verify::BuildError;
use serde_json::{json, Map, Value};

fn kw(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn registry_has_every_official_id() {
    let ids = all_ids();
    assert_eq!(
        ids.iter()
            .filter(|i| family(i) == Some(Family::IfEval))
            .count(),
        25
    );
    assert_eq!(
        ids.iter()
            .filter(|i| family(i) == Some(Family::IfBench))
            .count(),
        58
    );
    assert_eq!(family("detectable_format:xml_format"), Some(Family::Raif));
    assert_eq!(family("nope:nothing"), None);
}

#[test]
fn chinese_relations() {
    let at_least = kw(json!({"num_words": 3, "relation": "至少"}));
    let less = kw(json!({"num_words": 3, "relation": "少于"}));
    assert!(
        evaluate(
            "length_constraints:number_words",
            &at_least,
            "one two three"
        )
        .strict
    );
    assert!(!evaluate("length_constraints:number_words", &less, "one two three").strict);
    assert!(evaluate("length_constraints:number_words", &less, "one two").strict);
    let k = kw(json!({"keyword": "cat", "frequency": 2, "relation": "至少"}));
    assert!(evaluate("keywords:frequency", &k, "cat and CAT").strict);
    let bad = kw(json!({"num_words": 3, "relation": "more than"}));
    assert!(matches!(
        build("length_constraints:number_words", &bad),
        Err(BuildError::Invalid { .. })
    ));
}

#[test]
fn xml_format() {
    let e = Map::new();
    let ok = evaluate(
        "detectable_format:xml_format",
        &e,
        "```xml\n<root a=\"1\"><item>x &amp; y</item><empty/></root>\n```",
    );
    assert!(ok.strict, "{}", ok.reason);
    let bad = evaluate(
        "detectable_format:xml_format",
        &e,
        "<root><item></root></item>",
    );
    assert!(!bad.strict);
    assert!(bad.reason.contains("closes"), "{}", bad.reason);
    assert!(!evaluate("detectable_format:xml_format", &e, "just text").strict);
}

#[test]
fn missing_kwargs_are_errors_not_random_values() {
    for (id, k) in [
        ("keywords:existence", json!({})),
        (
            "keywords:frequency",
            json!({"keyword": "x", "relation": "at least"}),
        ),
        (
            "length_constraints:number_words",
            json!({"num_words": 3, "relation": null}),
        ),
        (
            "repeat:repeat_span",
            json!({"prompt_to_repeat": "a b c", "n_start": 0}),
        ),
        ("format:options", json!({})),
        ("count:keywords_multiple", json!({"keyword1": "a"})),
    ] {
        match build(id, &kw(k)) {
            Err(BuildError::Missing { name, .. }) => assert!(!name.is_empty()),
            Err(e) => panic!("{id}: expected a missing-kwarg error, got {e}"),
            Ok(_) => panic!("{id}: built without a required kwarg"),
        }
    }
    // given zero is used as given (the official code would draw a random n_start)
    let r = evaluate(
        "repeat:repeat_span",
        &kw(json!({"prompt_to_repeat": "a b c d", "n_start": 0, "n_end": 2})),
        "A b",
    );
    assert!(r.strict, "{}", r.reason);
}

#[test]
fn reasons_are_short_and_specific() {
    let r = evaluate("punctuation:no_comma", &Map::new(), "one, two, three");
    assert_eq!(r.reason, "2 commas found, first at char 3");
    let r = evaluate("detectable_format:json_format", &Map::new(), "{\"a\": }");
    assert!(
        r.reason.starts_with("not valid JSON: Expecting value"),
        "{}",
        r.reason
    );
}
