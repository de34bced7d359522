//! Ports of the NLTK pieces the official checkers call: the Punkt sentence tokenizer with its
//! English parameters (`nltk.sent_tokenize`), the improved Treebank word tokenizer
//! (`nltk.word_tokenize`), `RegexpTokenizer(r"\w+")` word counting, the English stop-word
//! list and the averaged-perceptron POS tagger (first token only).
//!
//! NLTK 3.10 runs its regexes on the third-party `regex` module, whose `\w`, `\s`, `\d` are the
//! Unicode classes that Rust's `regex` crate uses; those patterns are written here directly.
//! The two contraction lists that NLTK compiles with stdlib `re` go through [`crate::py`].
//!
//! One file per part: `words` (word counting, stop words), `punkt` (sentences), `treebank` (word
//! tokens) and `tagger`.

mod punkt;
mod tagger;
#[cfg(test)]
mod tests;
mod treebank;
mod words;

pub use punkt::{sent_spans, sent_tokenize};
pub use tagger::first_pos_tag;
pub use treebank::{
    for_each_word_token, treebank_tokenize, with_sentence_memo, word_tokenize, word_tokenize_head,
    word_tokenize_tail,
};
pub use words::{count_stopwords, count_words, stopwords, word_tokens};
