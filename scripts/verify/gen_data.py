#!/usr/bin/env python3
"""Regenerate rl/verify/data/* from the official libraries installed in the ifref oracle venv.

Usage: $IFREF/venv/bin/python scripts/verify/gen_data.py [OUT_DIR]
(IFREF defaults to ~/.cache/raif-ifref; set it up as ../shared/ifref/README.md says.)

What it writes (all derived from Apache-2.0 / MIT licensed package data, see data/README.md):
  punkt_english.txt    NLTK Punkt English parameters (punkt_tab/english), sections [abbrev] [colloc] [starters] [ortho]
  langdetect.txt.z     langdetect profiles (zlib): line 1 = languages in the oracle's load order,
                       line 2 = n_words (3 per language), then "gram<TAB>idx:freq,idx:freq..."
  langdetect_tables.txt  langdetect normalisation tables (messages.properties, unicode blocks)
  tagger.txt.z         NLTK averaged perceptron tagger (English) weights, pruned to the features that can
                       fire for the first token of a sentence (all IFBench needs), plus tagdict and classes
  syllapy.csv          syllapy's word -> syllable count table
  emoji.txt            code points c for which emoji.is_emoji(c) (single-character emoji)
  stopwords_en.txt     NLTK English stopwords
"""
import json, os, sys, zlib

IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))
sys.path.insert(0, IFREF)
import offline_shim  # noqa
import nltk

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../rl/verify/data")
os.makedirs(OUT, exist_ok=True)

def w(name, text, z=False):
    data = text.encode("utf-8")
    if z:
        data = zlib.compress(data, 9)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(name, len(data))

# --- Punkt
from nltk.tokenize.punkt import PunktTokenizer
p = PunktTokenizer("english")._params
lines = ["[abbrev]"] + sorted(p.abbrev_types)
lines += ["[colloc]"] + sorted(f"{a}\t{b}" for a, b in p.collocations)
lines += ["[starters]"] + sorted(p.sent_starters)
lines += ["[ortho]"] + sorted(f"{k}\t{v}" for k, v in p.ortho_context.items())
w("punkt_english.txt", "\n".join(lines) + "\n")

# --- langdetect
import langdetect
from langdetect import detector_factory as dfm
from langdetect.utils import ngram as ngm, unicode_block as ub, messages
pdir = dfm.PROFILES_DIRECTORY
langs, nwords, grams = [], [], {}
for fn in os.listdir(pdir):  # the order DetectorFactory.load_profile uses
    if fn.startswith("."):
        continue
    d = json.load(open(os.path.join(pdir, fn), encoding="utf-8"))
    idx = len(langs)
    langs.append(d["name"])
    nwords.append(d["n_words"])
    for g, f in d["freq"].items():
        if 1 <= len(g) <= 3:
            grams.setdefault(g, []).append(f"{idx}:{f}")
out = ["\t".join(langs), "\t".join(",".join(str(x) for x in n) for n in nwords)]
for g in sorted(grams):
    assert "\t" not in g and "\n" not in g
    out.append(g + "\t" + ",".join(grams[g]))
w("langdetect.txt.z", "\n".join(out) + "\n", z=True)
N = ngm.NGram
tab = ["LATIN1_EXCLUDE\t" + N.LATIN1_EXCLUDED, "TO_NORMALIZE_VI_CHARS\t" + N.TO_NORMALIZE_VI_CHARS,
       "DMARK_CLASS\t" + N.DMARK_CLASS]
for i, s in enumerate(N.NORMALIZED_VI_CHARS):
    tab.append(f"NORMALIZED_VI_CHARS_{i}\t{s}")
for cls in N.CJK_CLASS:
    tab.append("CJK\t" + cls)
names = {v: k for k, v in vars(ub).items() if k.startswith("UNICODE_") and isinstance(v, int)}
for name, start, end in ub._unicode_blocks:
    tab.append(f"BLOCK\t{names.get(name, name)}\t{start}\t{end}")
w("langdetect_tables.txt", "\n".join(tab) + "\n")

# --- perceptron tagger
from nltk.tag.perceptron import PerceptronTagger
t = PerceptronTagger()
fixed = {"bias", "i-1 tag -START-", "i-2 tag -START2-", "i tag+i-2 tag -START- -START2-",
         "i-1 word -START2-", "i-1 suffix T2-", "i-2 word -START-"}
prefixes = ("i suffix ", "i pref1 ", "i word ", "i-1 tag+i word -START- ", "i+1 word ", "i+1 suffix ", "i+2 word ")
classes = sorted(t.classes)
ci = {c: i for i, c in enumerate(classes)}
out = ["CLASSES\t" + "\t".join(classes)]
for word, tag in t.tagdict.items():
    out.append(f"D\t{word}\t{tag}")
for feat, ws in t.model.weights.items():
    if feat in fixed or feat.startswith(prefixes):
        assert "\t" not in feat and "\n" not in feat
        out.append("W\t" + feat + "\t" + " ".join(f"{ci[l]}:{repr(float(v))}" for l, v in ws.items()))
w("tagger.txt.z", "\n".join(out) + "\n", z=True)

# --- syllapy
import syllapy, importlib.resources
w("syllapy.csv", importlib.resources.files("syllapy").joinpath("data.csv").read_text(encoding="utf-8"))

# --- emoji (single code points)
import emoji
cps = sorted(ord(k) for k in emoji.EMOJI_DATA if len(k) == 1)
w("emoji.txt", "\n".join(f"{c:X}" for c in cps) + "\n")

# --- stopwords
w("stopwords_en.txt", "\n".join(nltk.corpus.stopwords.words("english")) + "\n")
