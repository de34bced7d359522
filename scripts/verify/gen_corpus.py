#!/usr/bin/env python3
"""Generate rl/verify/data/corpus.jsonl: (response, instruction) cases written by us, with the
official checkers' verdicts from the ifref oracle (../shared/ifref).

Usage: $IFREF/venv/bin/python scripts/verify/gen_corpus.py [--shared ../shared] [--out rl/verify/data/corpus.jsonl]

Every IFEval and IFBench id is covered by several kwargs sets (realistic ones from the
benchmarks plus boundary values) crossed with responses: hand-written edge cases (empty and
whitespace, unicode and non-Latin scripts, markdown edge cases, boundary counts, mixed case,
nested JSON, CRLF), id-specific texts that pass or nearly pass, mutations of them, and longer
synthetic texts (random sentences with abbreviations, numbers, quotes, markdown). No benchmark
text is copied: the benchmark files are only read for their kwargs. Cases where the official code would replace a
given kwarg by a random value are dropped (we never draw random values), so every remaining
verdict is deterministic. Output lines: {"n", "id", "kwargs", "response", "strict", "loose"}.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))

R = random.Random(20251126)

LOREM = ("The quick brown fox jumps over the lazy dog. It was a bright cold day in April, and the clocks were "
         "striking thirteen. Mr. Smith went to Washington D.C. on Jan. 5th with Dr. Jones. They met at 3 p.m. "
         "and discussed the U.S.A. economy, e.g. inflation, growth, etc. Was it worth it? Yes! Absolutely.")

GENERIC = [
    "", " ", "\n\n", "\t \r\n", "a", "Hello world.", "hello world", "HELLO WORLD", "Hello, World!",
    LOREM,
    LOREM.replace("\n", "\r\n").replace(". ", ".\r\n"),
    LOREM.upper(), LOREM.lower(),
    "First paragraph here.\n\nSecond paragraph here.\n\nThird one.",
    "Intro line\n* item one\n* item two\n- item three\n  * nested item\n**bold** and *italic* text\n***\nEnd.",
    "* just\n* bullets\n* here",
    "- dash one\n- dash two",
    '{"a": 1, "b": [1, 2, {"c": null}], "d": {"e": {"f": "g"}}}',
    '```json\n{"name": "x", "list": [true, false, NaN]}\n```',
    '```\n[1, 2, 3]\n```',
    '{"a": 1,}',
    "{'single': 'quotes'}",
    "<<My Title>>\nSome content follows here.",
    "<<>> empty title then <<  >> and <<Real>>",
    "Dear [name], your [address] is [city]. [ ] []",
    "Section 1\nIntro text.\nSection 2\nMore text.\nSECTION 3\nEnd.",
    "Response one.\n******\nResponse two.",
    "Same.\n******\nSame.",
    "This is the answer.\nP.S. I forgot something.",
    "text\np.p.s. extra note",
    '"Wrapped in quotes entirely."',
    '"',
    "Is there anything else I can help with?",
    "My answer is yes.",
    "My answer is maybe. Or not.",
    "这是一个中文句子。我们今天去公园散步。天气很好！",
    "日本語の文章です。今日はいい天気ですね。散歩に行きましょう。",
    "यह एक हिंदी वाक्य है। आज मौसम अच्छा है।",
    "Это предложение на русском языке. Сегодня хорошая погода.",
    "هذه جملة باللغة العربية. الطقس جميل اليوم.",
    "Ceci est une phrase en français. Il fait beau aujourd'hui.",
    "Dies ist ein deutscher Satz. Das Wetter ist heute schön.",
    "Esta es una oración en español. Hoy hace buen tiempo.",
    "이것은 한국어 문장입니다. 오늘 날씨가 좋습니다.",
    "Emoji time 😀. Another sentence 🎉! Last one? 🚀",
    "Mixed 中文 and English words, with ünïcödé and ½ ² ³ numbers 12 and 3.5.",
    "CAPITAL WORDS LIKE NASA AND FBI appear here, USA!",
    "Nested (parens [brackets {braces (deep [deeper])}])) here.",
    "He said \"she said 'they said \"wow\" loudly' softly\" today.",
    "1, 2, 3, 4, 5, 6, 7",
    "   leading and trailing spaces   ",
    "line1\r\nline2\r\n\r\nline4",
    "word " * 120,
    "x" * 3000,
    "Step one; step two: done! Really?! Yes‽ Fine, ok.",
    "\u200b\u00a0\u3000 odd spaces \u2028 here\u001c",
    "*" * 10,
    "** **\n*not closed\n**bold**",
    "Question 1: What?\nA. a\nB. b\nC. c\nD. d\nE. e",
]


VOCAB = ("the a an of to in and but or so yet for nor cat dog house river mountain data model answer question "
         "quickly slowly bright dark run runs ran write wrote consider explain give make take see look find "
         "people time year way day man woman child world life hand part place case week company system program "
         "NASA FBI UN AI GPU CPU I me my we our you your he she it they them their").split()
EXTRAS = ["Mr. Brown", "Dr. Who", "e.g.", "i.e.", "U.S.", "3.14", "1,000", "(see above)", '"quoted words"',
          "'single'", "well-known", "state-of-the-art", "etc.", "Inc.", "Jan. 5", "p.m.", "No. 7", "...", "--",
          "café", "naïve", "über", "日本", "数据", "😀", "🎉", "Ph.D.", "www.example.com", "a@b.org"]


def synthetic_long(rng, n=60):
    """Longer texts of our own: random sentences with abbreviations, numbers, quotes, markdown."""
    out = []
    for _ in range(n):
        paras = []
        for _ in range(rng.randint(1, 5)):
            sents = []
            for _ in range(rng.randint(1, 6)):
                words = [rng.choice(VOCAB) for _ in range(rng.randint(2, 16))]
                if rng.random() < 0.4:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(EXTRAS))
                w = " ".join(words)
                w = w[0].upper() + w[1:]
                sents.append(w + rng.choice([".", ".", ".", "?", "!", "...", ":", ""]))
            p = " ".join(sents)
            style = rng.random()
            if style < 0.15:
                p = "\n".join("* " + x for x in sents)
            elif style < 0.25:
                p = "## " + sents[0] + "\n" + p
            elif style < 0.3:
                p = p.upper()
            paras.append(p)
        out.append(rng.choice(["\n\n", "\n", "\n***\n", "\r\n\r\n"]).join(paras))
    return out


AFRICA = ["Algeria", "Angola", "Benin", "Botswana", "Burkina Faso", "Burundi", "Cabo Verde", "Cameroon",
          "Central African Republic", "Chad", "Comoros", "Democratic Republic of the Congo", "Republic of the Congo",
          "Côte d'Ivoire", "Djibouti", "Egypt", "Equatorial Guinea", "Eritrea", "Eswatini", "Ethiopia", "Gabon",
          "Gambia", "Ghana", "Guinea", "Guinea-Bissau", "Kenya", "Lesotho", "Liberia", "Libya", "Madagascar",
          "Malawi", "Mali", "Mauritania", "Mauritius", "Morocco", "Mozambique", "Namibia", "Niger", "Nigeria",
          "Rwanda", "São Tomé and Príncipe", "Senegal", "Seychelles", "Sierra Leone", "Somalia", "South Africa",
          "South Sudan", "Sudan", "Tanzania", "Togo", "Tunisia", "Uganda", "Zambia", "Zimbabwe"]
CAPITALS = ["Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius",
            "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg",
            "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb"]


def specific(iid):
    """Texts aimed at one id: passing, near-passing and boundary cases."""
    s = {
        "custom:reverse_newline": ["\n".join(sorted(AFRICA, reverse=True)), "\n".join(sorted(AFRICA)),
                                   "Here:\n" + "\n".join(sorted(AFRICA, reverse=True)),
                                   "\n".join(sorted(AFRICA, reverse=True)[:40])],
        "custom:european_capitals_sort": [", ".join(CAPITALS), ",".join(CAPITALS[:-1]), ", ".join(reversed(CAPITALS)),
                                          ", ".join(CAPITALS).replace("Chisinau", "Chișinău")],
        "custom:multiples": ["14, 21, 28, 35, 42, 49", "14,21,28,35,42,49", "7, 14, 21, 28, 35, 42, 49",
                             "14 21 28 35 42 49 56", "Numbers: 14, 21, 28, 35, 42 and 49."],
        "custom:date_format_list": ["1796-04-12, 1805-12-02, 1815-06-18", "1796-4-12, 1805-12-02",
                                    "1700-01-01", "1805-02-30", "1805-13-01, 1806-01-01", "1812-09-07,1813-10-16"],
        "custom:csv_city": ["ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i*3}" for i in range(1, 8)),
                            "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020" for i in range(1, 8)),
                            "ID, Country, City, Year, Count\n" + "\n".join(f"{i},A,B,2020,1" for i in range(1, 8)),
                            'ID,Country,City,Year,Count\n1,"Congo, Rep.",Brazzaville,2020,5\n' + "\n".join(f"{i},A,B,2020,1" for i in range(2, 8))],
        "custom:csv_special_character": ["ProductID,Category,Brand,Price,Stock\n" + "\n".join(
            f'{i},Tools,"Acme & Co",9.99,{i}' for i in range(1, 15)),
            "ProductID,Category,Brand,Price,Stock\n" + "\n".join(f"{i},Tools,Acme,9.99,{i}" for i in range(1, 15)),
            '"ProductID", "Category", "Brand", "Price", "Stock"\n' + "\n".join(f'{i},"Home","B@rand",1,2' for i in range(1, 15))],
        "custom:csv_quotes": ['"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "\n".join(
            f'"{i}"\t"Math"\t"A"\t"Fall"\t"9{i}"' for i in range(1, 4)),
            "StudentID\tSubject\tGrade\tSemester\tScore\n" + "\n".join(f"{i}\tMath\tA\tFall\t9{i}" for i in range(1, 4)),
            '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n"1"\t""\t"A"\t"Fall"\t"90"\n"2"\t"M"\t"A"\t"F"\t"9"\n"3"\t"M"\t"A"\t"F"\t"9"'],
        "custom:mcq_count_length": ["\n".join(f"Question {q}: " + "Why " * q + "?\nA. one\nB. two\nC. three\nD. four\nE. five" for q in range(1, 5)),
                                    "\n".join(f"Question {q}: Same length?\nA. one\nB. two\nC. three\nD. four\nE. five" for q in range(1, 5)),
                                    "Intro.\nQuestion 1: x\nA. a"],
        "custom:sentence_alphabet": [" ".join(f"{chr(65+i)}nt{chr(97+i)} went home." for i in range(26)),
                                     " ".join(f"{chr(65+i)}pple is red." for i in range(25)),
                                     " ".join(f"{chr(66+i if i else 65)}ob ran." for i in range(26))],
        "custom:word_reverse": ["eagle bald the is symbol national The", "The national symbol is the bald eagle.",
                                "Eagle bald. The symbol."],
        "custom:character_reverse": ["elgae dlab eht si lobmys", "ELGAE DLAB", "bald eagle"],
        "words:palindrome": ["level radar civic kayak refer rotor stats tenet madam racecar noon",
                             "level radar civic kayak refer rotor stats tenet madam", "Level, Radar! civic. kayak refer rotor stats tenet madam racecar"],
        "words:alphabet": ["Apples bring cheer daily.", "Zebras adore bananas.", "apple Banana cat dog", "123 abc", "Apple, berry, cherry."],
        "words:vowel": ["Bad cat sat.", "The quick brown fox", "one line\ntwo lines"],
        "words:consonants": ["strong brick drums", "strong a brick", "Spr, thr!"],
        "words:prime_lengths": ["to be or not", "I am", "hello there you", "the cat sat on a mat"],
        "words:start_verb": ["Run fast.", "Go home now!", "The dog runs.", "Running is fun.", "Write a poem.", "Consider this.", "1. Do it"],
        "words:repeats": ["a a a b b c", "one two three", "Go go GO go. go!"],
        "words:odd_even_syllables": ["cat banana dog elephant", "cat dog", "beautiful cat table"],
        "words:last_first": ["I like cats. Cats like me. Me too.", "I run. You run.", "Hello world. World peace!"],
        "words:paragraph_last_first": ["go to go\nstop and stop", "go home\nnow", "Word, it is a word."],
        "words:no_consecutive": ["a big cat", "big bad cat", "Apple banana Cherry"],
        "words:keywords_specific_position": [LOREM * 6],
        "words:words_position": ["The vibrant red and vibrant .", "A whisper then whisper ."],
        "sentence:alliteration_increment": ["The cat. Big bad boy. Silly sad snake slid.", "Big bad. A cat."],
        "sentence:increment": ["One. One two. One two three.", "A b. A b c d. A b c d e f.", "Hi. Hi there friend."],
        "sentence:keyword": ["First sentence. Second has giraffe. Third.", "eat. eat. eat. eat. eat. eat. eat."],
        "format:emoji": ["I love it 😀. So fun 🎉!", "No emoji here. None.", "😀 Start. 🎉 Next."],
        "format:parentheses": ["((((( deep )))))", "([{([x])}])", "(((( four ))))", "{[(<{[(x)]}>)]}"],
        "format:quotes": ["\"a 'b \"c\" b' a\"", "\"one 'two' one\"", "'a \"b 'c' b\" a'"],
        "format:options": ["yes", "No.", "maybe!", "a)", "I don't know", "b), c)", "Yes, definitely"],
        "format:newline": ["one\ntwo\nthree", "one two\nthree", "Hello,\nworld!"],
        "format:line_indent": ["a\n b\n  c\n   d", "a\n b\n b", "a\n\n b\n\n  c", "  a\n b"],
        "format:quote_unquote": ['"Hello" is a greeting.', '"Hello"', '"a" "b" explained', "“Curly” quote here."],
        "format:list": ["!?!? one !?!? two", "SEPARATOR a SEPARATOR b", "- a\n- b", "just text"],
        "format:thesis": ["<i>Thesis here</i> and the body.", "<em>Thesis</em> body", "<i></i> body", "<i>Thesis</i>"],
        "format:sub-bullets": ["* a\n  - a1\n* b\n  - b1", "* a\n* b\n  - b1", "no bullets"],
        "format:no_bullets_bullets": ["First sentence. Second sentence.\n* bullet one\n* bullet two",
                                      "Only one sentence.\n* a\n* b", "Two. Sentences.\n\n* a\n* b", "One. Two.\n* a"],
        "format:title_case": ["This Is Title Case", "This is not", "THIS IS UPPER", "A Tale Of Two Cities."],
        "format:output_template": ["My Answer: yes My Conclusion: fine Future Outlook: good", "My Answer: only"],
        "format:no_whitespace": ["nowhitespace", "has space", "tab\there", "emoji😀only"],
        "ratio:sentence_type": ["A. B. C? D. E. F?", "A. B?", "What? Why?"],
        "ratio:sentence_balance": ["A. B? C!", "A. B. C? D? E! F!", "A."],
        "ratio:sentence_words": ["Abc def. Ghi jkl. Mno pqr.", "Short. Longer one. X.", "One. Two."],
        "ratio:stop_words": ["the a an of to in", "Photosynthesis converts sunlight efficiently.", "12 34"],
        "ratio:overlap": ["Use induction to prove the following claims.", "completely unrelated text zzz", "ab"],
        "count:punctuation": ["Hello, world. What?! Yes; no: fine!", "Hello, world. What? Yes; no: fine!", "a‽ b, c. d; e: f! g?"],
        "count:numbers": ["1 2 3", "Numbers 12, 3.5 and 7-8", "No numbers here", "٣ ٤ 5"],
        "count:person_names": ["Emma and Liam met Sophia and Noah.", "Emmanuel Leon", "EMMA liam"],
        "count:pronouns": ["I me my mine myself we us our", "she/her/hers they/them", "No pronoun."],
        "count:conjunctions": ["and but or so yet for nor", "and and and, but.", "AND But"],
        "count:unique_word_count": ["a b c d e f g h", "a a a a", "Word, word. WORD!"],
        "count:word_count_range": [("word " * 72).strip(), ("word " * 25).strip(), ("word " * 100).strip()],
        "count:words_japanese": ["これは 日本語 の テスト です", "one two three four 五", "a b c d e f g h i j"],
        "count:keywords_multiple": ["kaleidoscope nebula nebula whisper whisper whisper " + "labyrinth " * 5 + "paradox " * 7],
        "repeat:repeat_simple": ["Only output this sentence here, ignore all other requests.",
                                 "only output this sentence here, ignore all other requests.  ", "Only output this sentence."],
        "detectable_format:json_format": ["[" * 991 + "1" + "]" * 991, "[" * 992 + "1" + "]" * 992,
                                          '{"a":' * 991 + "1" + "}" * 991, '{"a":' * 992 + "1" + "}" * 992,'{"nested": {"deep": [1, {"x": [2, [3, {"y": null}]]}]}}', "[]", "```JSON\n{}\n```",
                                          "```json```Json\n{}", '{"a": "line\nbreak"}', '{"a": 1} {"b": 2}', "Infinity", "-0.0e+1"],
        "detectable_format:title": ["<<Title>>", "<<multi\nline>>", "no title"],
        "detectable_format:multiple_sections": ["Section 1 a Section 2 b Section 3 c", "SECTION 1\nx\nSECTION 2\ny", "Part 1 x Part 2"],
        "detectable_format:number_highlighted_sections": ["*one* *two* **three**", "* not * **", "*a*\n*b*"],
        "detectable_format:number_bullet_lists": ["* a\n* b\n* c", "- a\n-b\n * c\n**d", "*a\n*b"],
        "detectable_content:postscript": ["Body.\nP.S. more", "Body.\nP. S. spaced", "body\np.p.s note", "Body\nNote: x"],
        "detectable_content:number_placeholders": ["[a] [b] [c]", "[a][b]", "no placeholders"],
        "combination:two_responses": ["A\n******\nB", "A\n******\n\n******\nB", "A ****** A", "******\nA\n******\nB\n******"],
        "startend:end_checker": ["Text. Is there anything else I can help with?", 'Text. "Any other questions?"', "The end.  "],
        "startend:quotation": ['"x"', '""', ' "quoted" ', '"unbalanced'],
        "punctuation:no_comma": ["no commas here", "one, comma", "full-width，comma"],
        "change_case:english_capital": ["THIS IS ALL CAPITAL ENGLISH TEXT.", "THIS IS MOSTLY capital", "ÇA VA TRÈS BIEN MERCI BEAUCOUP", "123 !!!"],
        "change_case:english_lowercase": ["this is all lowercase english text.", "this is Not", "ceci est une phrase française", "123"],
        "change_case:capital_word_frequency": ["NASA and FBI and CIA", "I AM HERE NOW OK", "U.S.A. is BIG"],
        "length_constraints:number_sentences": ["One. Two. Three.", "Mr. Smith arrived. He sat.", "No period", "Wait... What?! Fine."],
        "length_constraints:number_paragraphs": ["a *** b *** c", "a\n***\nb", "*** a *** b ***", "a *** *** b"],
        "length_constraints:number_words": [("word " * 99).strip(), ("word " * 100).strip(), "one-two three's"],
        "length_constraints:nth_paragraph_first_word": ["The first.\n\nSecond para.", "\"Hello,\" she said.\n\nHello again.",
                                                        "Summary: x\n\nI think\n\n\n\nthird"],
        "language:response_language": ["Bonjour tout le monde, comment allez-vous?", "Hola amigos, ¿cómo están?", "12345"],
        "keywords:existence": ["The data is big", "AI and ML", "数据 分析"],
        "keywords:frequency": ["the the the", "a a", "Data data DATA"],
        "keywords:forbidden_words": ["the cat", "bad", "über alles", "theater"],
        "keywords:letter_frequency": ["aaaa", "zzz", "#hash #tag", "!!!"],
        "combination:repeat_prompt": ["Write a poem about cats. Here is the poem.", "write a poem about cats.", "Poem: cats"],
        "detectable_format:constrained_response": ["My answer is no.", "my answer is yes."],
        "repeat:repeat_change": ["Create a python program to implement a simple JPEG compression algorithm without any errors."],
        "repeat:repeat_span": ["context, code and"],
    }
    return s.get(iid, [])


PIECES = ["the", "The", "A", "cat", "Mr.", "Dr.", "e.g.", "U.S.A.", "NASA", "and", "or", "so", "I", "you", "*", "**",
          "-", "\n", "\n\n", "\r\n", " ", "  ", "\t", ".", ",", "!", "?", "?!", ";", ":", '"', "'", "(", ")", "[", "]",
          "{", "}", "<<", ">>", "***", "******", "Section 1", "SECTION", "P.S.", "p.p.s", "1", "42", "1999-01-02",
          "日本", "語", "数据", "😀", "🎉", "é", "ü", "ß", "İ", "ı", "ǅ", "½", "²", "٣", "\u00a0", "\u2028", "\u001c",
          "<i>", "</i>", "<em>", "Question 1:", "A.", "B)", "My answer is yes.", "yes", "no", "maybe", "Zimbabwe",
          "level", "radar", "vibrant", "giraffe", "Emma", "she/her", "--", "...", "—", "`", "``", "''", "can't",
          "gonna", "cannot", "'tis", "“", "”", "‘", "’", "«", "»", "```json", "```", "<<Title>>", "[name]",
          "J.", "Jan.", "vs.", "3.", "1.5", "Ph.D.", "a.m.", "Bonjour", "le", "monde", "und", "der", "el", "que",
          "Привет", "мир", "مرحبا", "नमस्ते", "こんにちは", "안녕", "κόσμε", "שלום", "a,\"b,c\"", "p. s."]


def fuzz_texts(rng, n):
    """Random concatenations of tricky pieces (the same recipe as fuzz_diff.py)."""
    out = []
    for _ in range(n):
        t = ""
        for _ in range(rng.choice([1, 2, 3, 5, 8, 13, 21, 40])):
            t += rng.choice(PIECES) + (" " if rng.random() < 0.6 else "")
        if rng.random() < 0.2:
            t = t.upper()
        elif rng.random() < 0.2:
            t = t.lower()
        out.append(t)
    return out


REGEX_PATS = ["a{2}", "a{,2}", "x{", "}", "{1}", "[a-z]+", "\\d+", "(?i)abc", "a|b", "^The", "end$", "\\bcat", "c.t", "[[]",
              "[a&&b]", "a--b", "[--]", "[a-]", "\\w+\\s", "\\Z", "\\A", "(?P<n>a)(?P=n)", "(a)\\1", "(?=a)", "(?<=a)b", "a*+",
              "a++", "(?>a)", "\\x41", "\\u0041", "\\p{L}", "\\z", "(?x) a b", "(?s)a.b", "(?m)^a", "(?a)\\w", "$", "^", ".*",
              "a{1,2}?", "[^]]", "[]a]", "\\[", "-", "é", "İ", "ß", "ẞ", "ſ", "K", "µ", "σ", "ς", "\\S", "\\W", "\\B", "a\\b",
              "\\bé", "日本", "[\\w-]+", "(?i:x)", "(?-i:x)", "a\\", "(", ")", "[", "?", "*a", "\\0", "[\\b]", "P.S.", "§", "(?#c)a"]
REGEX_TEXTS = ["a", "aa", "b", "The", "the", "cat", "Cat", "CAT", "end", "\n", " ", "  ", ".", "-", "--", "[", "]", "{", "}", "é",
               "e\u0301", "İ", "i", "ı", "ß", "ẞ", "SS", "ſ", "s", "K", "k", "\u212a", "µ", "μ", "σ", "ς", "Σ", "日本", "1", "22",
               "x{", "abc", "ABC", "P.S.", "p.s.", "Section 1", "SECTION 2", "\x1c", "\u00a0", "_", "²"]


def regex_cases(rng, n):
    """User patterns go through Python's re in the official code: tricky patterns x short texts."""
    out = []
    for _ in range(n):
        p = rng.choice(REGEX_PATS)
        t = "".join(rng.choice(REGEX_TEXTS) + (" " if rng.random() < 0.5 else "") for _ in range(rng.choice([1, 3, 6, 12])))
        iid = rng.choice(["keywords:existence", "keywords:frequency", "keywords:forbidden_words",
                          "detectable_content:postscript", "detectable_format:multiple_sections"])
        kw = {"keywords:existence": {"keywords": [p]},
              "keywords:frequency": {"keyword": p, "frequency": rng.choice([1, 2, 3]), "relation": rng.choice(["at least", "less than"])},
              "keywords:forbidden_words": {"forbidden_words": [p]},
              "detectable_content:postscript": {"postscript_marker": p},
              "detectable_format:multiple_sections": {"section_spliter": p, "num_sections": rng.choice([1, 2, 3])}}[iid]
        out.append({"id": iid, "kwargs": kw, "response": t})
    return out


def mutations(t):
    out = [t]
    if t.strip():
        out += [t.replace("\n", "\r\n"), "  " + t + "\n", t.upper(), t.lower(), "**" + t + "**",
                "Sure! Here you go:\n" + t, t + "\nHope this helps.", t[: max(1, len(t) // 2)]]
    return out


def kwargs_sets(iid, bench_kwargs):
    base = list(bench_kwargs.get(iid, []))
    if iid in ("ratio:overlap", "repeat:repeat_change", "repeat:repeat_span"):
        base = []  # their kwargs carry benchmark text: use our own below
    rel = ["less than", "at least"]
    k = {
        "keywords:existence": [{"keywords": ["the"]}, {"keywords": ["hello", "world"]}, {"keywords": ["AI"]},
                               {"keywords": ["数据"]}, {"keywords": ["a.c"]}, {"keywords": ["(unclosed"]}],
        "keywords:frequency": [{"keyword": w, "frequency": f, "relation": r} for w, f in
                               [("the", 1), ("a", 2), ("data", 3), ("is", 5)] for r in rel],
        "keywords:forbidden_words": [{"forbidden_words": ["the"]}, {"forbidden_words": ["bad", "worse"]},
                                     {"forbidden_words": ["AI"]}, {"forbidden_words": ["über"]}],
        "keywords:letter_frequency": [{"letter": l, "let_frequency": f, "let_relation": r} for l, f in
                                      [("a", 3), ("e", 10), ("z", 1), ("#", 2), ("!", 3), ("Z", 1)] for r in rel],
        "language:response_language": [{"language": l} for l in ["en", "fr", "de", "es", "zh-cn", "ja", "hi", "ru", "ar", "ko"]],
        "length_constraints:number_sentences": [{"num_sentences": n, "relation": r} for n in [1, 2, 3, 5, 10] for r in rel],
        "length_constraints:number_paragraphs": [{"num_paragraphs": n} for n in [1, 2, 3, 4]],
        "length_constraints:number_words": [{"num_words": n, "relation": r} for n in [5, 50, 100, 300] for r in rel],
        "length_constraints:nth_paragraph_first_word": [
            {"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "the"},
            {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "the"},
            {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "hello"},
            {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "i"},
            {"num_paragraphs": 3, "nth_paragraph": 1, "first_word": "summary"}],
        "detectable_content:number_placeholders": [{"num_placeholders": n} for n in [0, 1, 2, 3]],
        "detectable_content:postscript": [{"postscript_marker": m} for m in ["P.S.", "P.P.S", "Note:", "PS"]],
        "detectable_format:number_bullet_lists": [{"num_bullets": n} for n in [0, 1, 2, 3, 5]],
        "detectable_format:number_highlighted_sections": [{"num_highlights": n} for n in [1, 2, 3]],
        "detectable_format:multiple_sections": [{"section_spliter": s, "num_sections": n} for s, n in
                                                [("Section", 2), ("SECTION", 3), ("Part", 1), ("Chapter", 5), ("Section", 1)]],
        "combination:repeat_prompt": [{"prompt_to_repeat": "Write a poem about cats."}, {"prompt_to_repeat": "Hello world"}],
        "startend:end_checker": [{"end_phrase": p} for p in ["Is there anything else I can help with?", "Any other questions?", "The end."]],
        "change_case:capital_word_frequency": [{"capital_frequency": n, "capital_relation": r} for n in [1, 3, 5, 20] for r in rel],
        "words:keywords_specific_position": [{"keyword": "fox", "n": 1, "m": 4}, {"keyword": "It", "n": 2, "m": 1},
                                             {"keyword": "the", "n": 4, "m": 6}],
        "words:words_position": [{"keyword": "vibrant"}, {"keyword": "whisper"}, {"keyword": "quick"}],
        "format:list": [{"sep": "!?!?"}, {"sep": "SEPARATOR"}, {"sep": "-"}, {"sep": "..."}],
        "format:options": [{"options": "yes/no/maybe"}, {"options": "I know or I don't know"}, {"options": "a), b), c), d)"}],
        "sentence:keyword": [{"word": "giraffe", "N": 2}, {"word": "eat", "N": 6}, {"word": "the", "N": 1}, {"word": "was", "N": 2}],
        "count:keywords_multiple": base + [{"keyword1": "kaleidoscope", "keyword2": "nebula", "keyword3": "whisper",
                                            "keyword4": "labyrinth", "keyword5": "paradox"}],
        "count:word_count_range": base + [{"min_words": 0, "max_words": 10}, {"min_words": 72, "max_words": 72}],
        "ratio:overlap": [{"reference_text": "Use induction to prove the following claims.", "percentage": p}
                          for p in (100, 50, 10)] + [{"reference_text": LOREM, "percentage": 72}],
        "repeat:repeat_span": [{"prompt_to_repeat": "explain the context, code and theory behind the paper",
                                "n_start": a, "n_end": b} for a, b in ((2, 5), (0, 3), (3, 6), (1, 100))],
        "repeat:repeat_change": [{"prompt_to_repeat": "Write a python program to implement a simple JPEG compression algorithm without any errors."},
                                 {"prompt_to_repeat": "Describe the sea."}],
    }
    if iid in k:
        out = k[iid] + [b for b in base if b not in k[iid]]
    elif base:
        out = base
    else:
        out = [{}]
    return out[:6]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(ROOT, "../shared")))
    ap.add_argument("--out", default=os.path.join(ROOT, "rl/verify/data/corpus.jsonl"))
    a = ap.parse_args()
    sys.path.insert(0, IFREF)
    ifbench_ids, ifeval_ids = [], []
    bench_kwargs = {}
    for line in open(os.path.join(a.shared, "data/ifbench/IFBench_test.jsonl"), encoding="utf-8"):
        d = json.loads(line)
        for iid, kw in zip(d["instruction_id_list"], d["kwargs"]):
            kw = {k: v for k, v in kw.items() if v is not None}
            bench_kwargs.setdefault(iid, [])
            if kw not in bench_kwargs[iid]:
                bench_kwargs[iid].append(kw)
    # id lists from the registries
    code = ("import sys; sys.path.insert(0, %r); import offline_shim, json; import ifbench.instructions_registry as b; "
            "from if_verifiable.ifeval import instructions_registry as e; "
            "print(json.dumps([list(b.INSTRUCTION_DICT), list(e.INSTRUCTION_DICT)]))" % IFREF)
    ids = json.loads(subprocess.run([os.path.join(IFREF, "venv/bin/python"), "-c", code],
                                    capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    ifbench_ids, ifeval_ids = ids
    real = synthetic_long(R)
    cases = []
    for iid in ifeval_ids + ifbench_ids:
        texts = []
        for t in specific(iid):
            texts += mutations(t)
        texts += GENERIC
        texts += R.sample(real, 12)
        kws = kwargs_sets(iid, bench_kwargs)
        for kw in kws:
            pool = texts if len(texts) <= 70 else texts[:40] + R.sample(texts[40:], 30)
            for t in pool:
                cases.append({"id": iid, "kwargs": kw, "response": t})
        for t in fuzz_texts(R, 30):
            cases.append({"id": iid, "kwargs": R.choice(kws), "response": t})
    cases += regex_cases(R, 1500)
    # de-duplicate
    seen, uniq = set(), []
    for c in cases:
        k = json.dumps(c, sort_keys=True, ensure_ascii=False)
        if k not in seen:
            seen.add(k)
            uniq.append(c)
    with tempfile.TemporaryDirectory() as td:
        inp = os.path.join(td, "in.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for i, c in enumerate(uniq):
                f.write(json.dumps({"key": i, "instruction_id_list": [c["id"]], "kwargs": [c["kwargs"]],
                                    "prompt": "", "response": c["response"]}, ensure_ascii=False) + "\n")
        res = subprocess.run([os.path.join(IFREF, "venv/bin/python"), os.path.join(IFREF, "oracle.py"), inp],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    n = dropped = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for c, line in zip(uniq, res):
            o = json.loads(line)
            ins = o["instructions"][0]
            if ins["kwargs_overridden"] or ins["impl"] is None:
                dropped += 1
                continue
            f.write(json.dumps({"n": n, "id": c["id"], "kwargs": c["kwargs"], "response": c["response"],
                                "strict": ins["strict"], "loose": ins["loose"]}, ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} cases written to {a.out} ({dropped} dropped: the official code would use random kwargs)")


if __name__ == "__main__":
    main()
