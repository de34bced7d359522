//! The 25 IFEval instructions (google-research `instruction_following_eval`), one file per
//! family, plus RAIF's `detectable_format:xml_format`.
pub mod case;
pub mod combination;
pub mod content;
pub mod format;
pub mod keywords;
pub mod language;
pub mod length;
pub mod punctuation;
pub mod startend;

/// Every IFEval id this crate implements (RAIF's additions included).
pub const IDS: &[&str] = &[
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "startend:quotation",
];

/// RAIF's additions to the IFEval set.
pub const RAIF_IDS: &[&str] = &["detectable_format:xml_format"];
