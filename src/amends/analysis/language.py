"""A light language guess: the writing system first, then common function words for Latin script."""

from __future__ import annotations

import re
from collections import Counter

UNDETERMINED = "und"

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and is are was were to of in it you my i that this for not with have has "
        "be on at your me but what they we can do don't would will no just so been from",
        "es": "el la los las de que y en un una es por con para no se su al lo como más pero "
        "mi muy ya está son fue tiene hay yo me esto porque cuando todo nada",
        "fr": "le la les de des et est un une que qui en du pour pas ne je vous il elle au "
        "avec ce cette mon ma mes sur sont été avoir mais très plus nous c'est j'ai",
        "de": "der die das und ist nicht ich sie es ein eine zu den mit von auf für sich dem "
        "auch wie aber noch wurde habe hat bin mein meine kein keine war sind",
        "it": "il la di che e è un una per non sono mi ho con del della le gli ma come più "
        "questo anche lo ci ha io nel molto sempre",
        "pt": "o a os as de que e do da em um uma para com não é no na se por mais meu minha "
        "ao foi está são muito já eu tem isso",
        "nl": "de het een en van is dat niet ik je op te zijn met voor er maar ook als dit "
        "heb was wat bij nog geen mijn naar",
        "sv": "och att det är en som på för av med jag inte har den till om var ett men de "
        "så mig min kan också",
        "da": "og at det er en som på for af med jeg ikke har den til om var et men de så "
        "mig min kan også",
        "pl": "i w na nie się to że z jest do jak ale co mnie mi po za już tak jestem być "
        "przez czy",
        "tr": "ve bir bu da de için ile ne ben çok mi var değil gibi ama daha sonra olarak benim",
    }.items()
}

_LANGS_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words:
        _LANGS_OF[_word] = (*_LANGS_OF.get(_word, ()), _lang)

# scripts that map to one language, checked by character ranges
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when there is too little to tell."""
    sample = text[:1000]
    letters = _LETTER.findall(sample)
    if not letters:
        return UNDETERMINED
    for lang, pattern in _SCRIPTS:
        if len(pattern.findall(sample)) >= max(2, len(letters) // 4):
            if lang == "ru" and _UKRAINIAN.search(sample):
                return "uk"
            return lang
    hits: Counter[str] = Counter()
    for word in _WORD.findall(sample.lower()):
        langs = _LANGS_OF.get(word)
        if langs:
            hits.update(langs)
    if not hits:
        return UNDETERMINED
    best, n = hits.most_common(1)[0]
    # English is the default on a desk: a tie or a single stray word is not enough to leave it
    if best != "en" and (n < 2 or n <= hits["en"]):
        return "en" if hits["en"] else UNDETERMINED
    return best
