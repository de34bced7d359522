//! Sentence material for constructive answers, and exact re-implementations of the simple,
//! regex-level parts of the official checks that the generator uses to confirm its own
//! construction (counts of bullets, highlights, placeholders, digits, keywords, letters and
//! `\w+` words). The filler never contains commas, digits, apostrophes, quotes, brackets,
//! asterisks, hyphens or all-capital words, so constraint material is the only source of them.

use super::seeds::Kind;

/// Sentences any answer may use; `{t}` is the topic.
const GENERIC: &[&str] = &[
    "The heart of the matter is {t}.",
    "A clear goal makes {t} much easier to handle.",
    "Small steps taken early make a real difference here.",
    "It helps to start with what matters most and leave the rest for later.",
    "Good preparation saves time and avoids needless worry.",
    "Everyone involved should know what happens next.",
    "Simple choices often work better than clever ones.",
    "A short review at the end shows what went well and what to change.",
    "Patience and steady effort pay off with {t}.",
    "Clear words and a friendly tone keep people on board.",
    "The best plan is one that people can follow without help.",
    "Looking at {t} from the point of view of others reveals useful details.",
    "A little time spent on planning prevents most problems.",
    "Keeping notes makes it easy to see progress over time.",
    "Feedback from people nearby helps to improve the result.",
    "Each part should have a clear purpose and a clear owner.",
    "Checking the basics first avoids surprises later on.",
    "Careful thought about {t} leads to better results.",
    "Sharing the work makes the whole task lighter.",
    "A calm and practical approach suits {t} well.",
    "Good timing matters as much as good intentions.",
    "A quick sketch on paper often clears up muddled thinking.",
    "It is worth asking what success would look like in a month.",
    "Plain language helps every reader follow along.",
    "Trying one change at a time shows which change made the difference.",
    "Nobody has to get everything right on the first attempt.",
    "A friendly reminder now saves a hard conversation later.",
    "Most problems shrink once they are written down.",
    "The simplest version is usually the one worth building first.",
    "Asking a neighbour or a colleague can reveal a shortcut.",
];

fn kind_sentences(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Email => &[
            "I am writing about {t}.",
            "I would be grateful for a reply when you have a moment.",
            "Please let me know if a different time would suit you better.",
            "Thank you for your help with {t}.",
            "I am happy to share more details if that would help.",
            "Kind regards and thanks in advance.",
            "I hope this message finds you well.",
            "Could you confirm that this works on your side.",
            "I have attached nothing further but can send details on request.",
            "Thank you again for your patience.",
        ],
        Kind::Explain => &[
            "To understand {t} it helps to start with the basic idea.",
            "The main principle behind {t} is simple once you see it.",
            "An everyday example makes {t} easier to picture.",
            "Many people find {t} confusing at first but the logic is clear.",
            "In short {t} works because each step feeds the next.",
            "Scientists have studied {t} for a long time.",
            "Think of it as a chain of small causes.",
            "The effect is easy to observe at home.",
            "A diagram would show each stage clearly.",
            "Once the idea clicks the rest follows naturally.",
        ],
        Kind::Plan => &[
            "The plan for {t} begins with a clear list of goals.",
            "The first stage covers preparation and shopping.",
            "The middle stage is where most of the work happens.",
            "The final stage leaves room for rest and review.",
            "A simple timetable keeps {t} on track.",
            "A backup option is ready in case something changes.",
            "Each day has one main goal and one optional extra.",
            "Costs are kept low by sharing tasks.",
            "A short check in at midday keeps everyone aligned.",
            "The plan leaves some slack for surprises.",
        ],
        Kind::Summarise => &[
            "In brief the text is about {t}.",
            "The main point concerns {t}.",
            "The text also mentions what happens next.",
            "Readers should note the practical details.",
            "Overall the message is clear and useful.",
            "The key change affects the people involved.",
            "Nothing else in the text changes this picture.",
            "The tone of the text is calm and factual.",
            "A reader can act on this without further detail.",
            "The rest of the text adds background only.",
        ],
        Kind::Code => &[
            "The solution for {t} starts with a small function.",
            "First define the input and the expected output.",
            "Then handle the simple cases before the general one.",
            "Tests should cover empty input and unusual values.",
            "Clear names make the code easy to read.",
            "Finally measure the result and keep the code simple.",
            "Keep each function small and focused on one job.",
            "Print intermediate values while the logic settles.",
            "Handle bad input early and return a clear error.",
            "Comments should explain why rather than what.",
        ],
        Kind::Story => &[
            "The story of {t} began on a quiet morning.",
            "Nobody in the village expected what happened next.",
            "By evening the whole town was talking about it.",
            "There was a moment of doubt before the brave choice.",
            "In the end the adventure changed everything.",
            "Years later people still told the tale of {t}.",
            "The wind carried a faint song across the water.",
            "A small kindness turned out to matter most.",
            "Nobody said a word for a long moment.",
            "Then the sun came out from behind the clouds.",
        ],
        Kind::List => &[
            "Here are some ideas about {t}.",
            "Each idea is simple to try.",
            "Some ideas cost nothing at all.",
            "Pick the ones that fit your situation.",
            "Trying a few ideas at once works well.",
            "These suggestions about {t} come from common experience.",
            "Start with the easiest idea to build momentum.",
            "Mix quick wins with longer projects.",
            "Keep the list somewhere you will see it.",
            "Cross items off to see progress.",
        ],
        Kind::Compare => &[
            "Both options in {t} have real strengths.",
            "The first option is usually cheaper to start.",
            "The second option tends to be more flexible.",
            "Comfort and convenience also matter in {t}.",
            "The right choice depends on your needs.",
            "For many people a mix of both works best.",
            "Price is only one part of the picture.",
            "Long term costs can reverse the first impression.",
            "Personal taste plays a bigger role than people admit.",
            "Trying both for a week settles most doubts.",
        ],
        Kind::Advice => &[
            "My advice about {t} is to start small.",
            "You are not alone in facing {t}.",
            "Talk to someone you trust about how you feel.",
            "Set one realistic goal for the coming week.",
            "Notice what helps and do more of it.",
            "Be kind to yourself while you learn.",
            "Progress tends to come in small and uneven steps.",
            "Ask for help early rather than late.",
            "Write down what worked so you can repeat it.",
            "A short walk can reset a tired mind.",
        ],
        Kind::Describe => &[
            "The scene of {t} is full of life.",
            "Soft light falls across every surface.",
            "The air carries a faint and pleasant smell.",
            "Quiet voices mix with distant sounds.",
            "Every corner holds a small surprise.",
            "It is a place that stays in the memory.",
            "Colours shift slowly as the light changes.",
            "A gentle breeze moves through the space.",
            "Footsteps echo now and then.",
            "Everything seems to move at its own pace.",
        ],
        Kind::Persuade => &[
            "There are strong reasons to support {t}.",
            "The benefits of {t} reach everyone involved.",
            "The cost is small compared with the gain.",
            "Other places have already seen good results.",
            "Starting now makes the change easier later.",
            "I hope you will give {t} a fair chance.",
            "The change asks for little and gives a lot.",
            "People who tried it rarely went back.",
            "Waiting only makes the problem bigger.",
            "Small actions add up when many people join in.",
        ],
        Kind::Speech => &[
            "Thank you all for coming today to celebrate {t}.",
            "This moment belongs to everyone in this room.",
            "We owe a great deal to the people who made this possible.",
            "Let us remember how far we have come together.",
            "I am proud to stand here with all of you.",
            "Please raise your glasses to {t}.",
            "Tonight is a chance to say thank you properly.",
            "Every success here was a team effort.",
            "The road ahead looks bright because of you.",
            "Let us make the most of this evening together.",
        ],
    }
}

/// A kind-specific sentence bank with the topic filled in (kind sentences first).
pub fn sentence_bank(kind: Kind, topic: &str) -> Vec<String> {
    kind_sentences(kind)
        .iter()
        .chain(GENERIC.iter())
        .map(|s| {
            let s = s.replace("{t}", topic);
            capitalise_first(&s)
        })
        .collect()
}

/// The short profile's topic sentences, in the order a short answer uses them: one sentence
/// of the seed's kind that names the topic, then the kind's other sentences, then the rest of
/// the bank (each group shuffled), so a two-sentence answer opens on its topic and stays in
/// the register of its kind.
pub fn short_bank(kind: Kind, topic: &str, rng: &mut super::rng::Rng) -> Vec<String> {
    let fill = |s: &&str| capitalise_first(&s.replace("{t}", topic));
    let own = kind_sentences(kind);
    let mut named: Vec<String> = own.iter().filter(|s| s.contains("{t}")).map(fill).collect();
    let mut plain: Vec<String> = own
        .iter()
        .filter(|s| !s.contains("{t}"))
        .map(fill)
        .collect();
    let mut generic: Vec<String> = GENERIC.iter().map(fill).collect();
    rng.shuffle(&mut named);
    rng.shuffle(&mut plain);
    rng.shuffle(&mut generic);
    let mut out = Vec::with_capacity(named.len() + plain.len() + generic.len());
    let mut named = named.into_iter();
    out.extend(named.next());
    out.extend(plain);
    out.extend(named);
    out.extend(generic);
    out
}

/// Characters that constraint material owns: filler never contains them.
pub const RESERVED: &str = ",'\"[]()*-<>{}0123456789";

/// Whether a sentence may be used as filler: none of the reserved characters, no forbidden or
/// counted keyword, no all-capital word.
pub fn clean_filler(s: &str) -> bool {
    !s.contains(|c: char| RESERVED.contains(c))
        && !FORBIDDEN_POOL.iter().any(|w| contains_word_ci(s, w))
        && !KEYWORD_POOL.iter().any(|w| count_ci(s, w) > 0)
        && !s
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.chars().count() > 1 && py_is_upper(w))
}

/// For a summarising seed, the sentences of the given text (after the first colon) that are
/// clean filler: a summary draws on them.
pub fn passage_sentences(request: &str) -> Vec<String> {
    let Some((_, passage)) = request.split_once(':') else {
        return Vec::new();
    };
    passage
        .split_inclusive(". ")
        .map(|s| s.trim().to_string())
        .map(|s| if s.ends_with('.') { s } else { format!("{s}.") })
        .filter(|s| s.len() > 3 && clean_filler(s))
        .collect()
}

pub fn capitalise_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Words the generator may forbid: none appears in any filler sentence, seed topic or
/// constraint material.
pub const FORBIDDEN_POOL: &[&str] = &[
    "basically",
    "literally",
    "honestly",
    "awesome",
    "stuff",
    "thing",
    "very",
    "really",
    "actually",
    "just",
    "totally",
    "amazing",
    "obviously",
    "simply",
    "definitely",
    "super",
    "nice",
    "cool",
    "kind of",
    "sort of",
];

/// Keywords for frequency and multi-keyword counts: rare, and none is a substring of another
/// or of any filler word.
pub const KEYWORD_POOL: &[&str] = &[
    "zephyr", "quartz", "lantern", "meadow", "compass", "harbor", "violet", "maple", "orchid",
    "falcon", "pebble", "willow", "cobalt", "saffron", "juniper", "velvet", "thistle", "canyon",
    "glacier", "nectar", "tundra", "marble", "ginger", "kestrel", "lagoon",
];

/// Words for the keyword-in-sentence and word-position checks (also rare in filler).
pub const POSITION_WORDS: &[&str] = &[
    "bright", "steady", "gentle", "honest", "vivid", "modest", "brisk",
];

// ------------------------------------------------------------------------ exact counters

/// `RegexpTokenizer(r"\w+")` on ASCII text: runs of letters, digits and `_`.
pub fn count_words(text: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        let w = c.is_alphanumeric() || c == '_';
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
}

/// A word without the punctuation and spaces around it (IFBench's `strip(string.punctuation + " ")`).
pub fn strip_punct_space(w: &str) -> &str {
    w.trim_matches(|c: char| c.is_ascii_punctuation() || c == ' ')
}

/// IFEval's bullet count: lines matching `^\s*\*[^\*].*$` plus lines matching `^\s*-.*$`.
pub fn count_bullets(text: &str) -> usize {
    text.split('\n')
        .filter(|l| {
            let t = l.trim_start();
            let mut c = t.chars();
            match c.next() {
                Some('*') => matches!(c.next(), Some(x) if x != '*' && x != '\n'),
                Some('-') => true,
                _ => false,
            }
        })
        .count()
}

/// IFEval's placeholder count: `\[.*?\]` (no newlines inside).
pub fn count_placeholders(text: &str) -> usize {
    let mut n = 0;
    for line in text.split('\n') {
        let mut rest = line;
        while let Some(a) = rest.find('[') {
            match rest[a + 1..].find(']') {
                Some(b) => {
                    n += 1;
                    rest = &rest[a + 1 + b + 1..];
                }
                None => break,
            }
        }
    }
    n
}

/// IFEval's highlight count: `\*[^\n\*]*\*` with non-blank content, plus `\*\*[^\n\*]*\*\*`
/// with non-blank content.
pub fn count_highlights(text: &str) -> usize {
    fn scan(text: &str, delim: &str) -> usize {
        let mut n = 0;
        let mut i = 0;
        let b = text.as_bytes();
        while i < b.len() {
            if text[i..].starts_with(delim) {
                let start = i + delim.len();
                let mut j = start;
                while j < b.len() && b[j] != b'\n' && b[j] != b'*' {
                    j += 1;
                }
                if text[j..].starts_with(delim) {
                    if !text[start..j].trim().is_empty() {
                        n += 1;
                    }
                    i = j + delim.len();
                    continue;
                }
            }
            i += 1;
        }
        n
    }
    scan(text, "*") + scan(text, "**")
}

/// IFBench's number count: digit runs after removing ASCII punctuation.
pub fn count_numbers(text: &str) -> usize {
    let cleaned: String = text.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    let mut n = 0;
    let mut in_num = false;
    for c in cleaned.chars() {
        let d = c.is_ascii_digit();
        if d && !in_num {
            n += 1;
        }
        in_num = d;
    }
    n
}

/// Non-overlapping, case-insensitive occurrences of an alphabetic keyword (what
/// `re.findall(keyword, text, re.I)` and `text.lower().count(keyword.lower())` give for one).
pub fn count_ci(text: &str, keyword: &str) -> usize {
    let hay = text.to_lowercase();
    let needle = keyword.to_lowercase();
    if needle.is_empty() {
        return 0;
    }
    hay.matches(needle.as_str()).count()
}

/// Whole-word, case-insensitive presence (IFEval's forbidden words use `\bword\b`).
pub fn contains_word_ci(text: &str, word: &str) -> bool {
    let hay = text.to_lowercase();
    let needle = word.to_lowercase();
    let is_w = |c: char| c.is_alphanumeric() || c == '_';
    hay.match_indices(needle.as_str()).any(|(i, m)| {
        let before = hay[..i].chars().next_back().is_none_or(|c| !is_w(c));
        let after = hay[i + m.len()..].chars().next().is_none_or(|c| !is_w(c));
        before && after
    })
}

/// Python's `str.islower()` / `str.isupper()` on ASCII-cased text.
pub fn py_is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() {
            return false;
        }
        if c.is_lowercase() {
            cased = true;
        }
    }
    cased
}

pub fn py_is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Upper bound on sentences found by any splitter that only breaks after `.`, `!` or `?`.
pub fn max_sentences(text: &str) -> usize {
    text.chars()
        .filter(|c| matches!(c, '.' | '!' | '?'))
        .count()
        + 1
}
