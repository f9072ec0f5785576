"""German text normalisation for the search index: the same terms at index and at query time.

Both search back ends (SQLite FTS5 and PostgreSQL full-text search) are fed the terms made
here, so that they agree on what matches:

1. split into words at everything that is not a letter or digit (underscores too, so the
   column ``pm10_wert`` gives ``pm10`` and ``wert``);
2. lower-case (``casefold``: ``ß`` becomes ``ss``);
3. stem with the Snowball German stemmer, which also reads ``ae``/``oe``/``ue`` as umlauts and
   drops the umlaut at the end: "Bäume", "baeume" and "Baum" all give ``baum``,
   "Überschwemmung" and "ueberschwemmung" give ``uberschwemm``;
4. strip any remaining accent (``é`` → ``e``) and drop stop words (articles, pronouns,
   prepositions and other function words, German and a few English).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]

_WORD = re.compile(r"[^\W_]+")
_STEMMER: Any = snowballstemmer.stemmer("german")
MAX_QUERY_TERMS = 20

# Function words that carry no meaning in a search. Compared after stemming and folding, so
# each is listed as the stemmer leaves it (``dies``, not ``dieser``).
_STOP_SOURCE = """
aber all allem allen aller alles als also am an ander andere anderem anderen anderer anderes
auch auf aus bei beim bin bis bist da damit dann das dass dein deine deinem deinen deiner dem
den denn der des dessen dich die dies diese diesem diesen dieser dieses dir doch dort du durch
ein eine einem einen einer eines einig einige einigem einigen einiger einiges er es etwas euch
euer eure fur gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen
ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem
jenen jener jenes jetzt kann kein keine keinem keinen keiner keines konnen konnte machen man
manche manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit muss
musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner seines
selbst sich sie sind so solche solchem solchen solcher solches soll sollte sondern sonst um
und uns unser unsere unserem unseren unserer unseres unter viel vom von vor wahrend war waren
warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden wie wieder
will wir wird wirst wo wollen wollte wurde wurden zu zum zur zwar zwischen uber
anderm anderr dazu einmal derselbe derselben denselben desselben demselben dieselbe dieselben
dasselbe alle andern anders deines derer eurem euren eurer eures unse unsem unsen unses
a an and are as at be by for from in is it of on or the to with
"""


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65_536)
def term(word: str) -> str:
    """The index term of one word (already split out of a text)."""
    return _fold(_STEMMER.stemWord(word.casefold()))


STOP_TERMS = frozenset(term(w) for w in _STOP_SOURCE.split()) | frozenset(
    _fold(w) for w in _STOP_SOURCE.split()
)


def terms(text: str) -> list[str]:
    """The index terms of ``text``, in order, stop words left out."""
    found = (term(w) for w in _WORD.findall(text))
    return [t for t in found if t and t not in STOP_TERMS]


def index_text(*texts: str | None) -> str:
    """The terms of ``texts`` as one space-separated string, as the back ends index it."""
    return " ".join(t for text in texts if text for t in terms(text))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a search query, in order (at most :data:`MAX_QUERY_TERMS`)."""
    seen: dict[str, None] = {}
    for t in terms(text):
        seen.setdefault(t, None)
    return list(seen)[:MAX_QUERY_TERMS]


def sort_key(title: str) -> str:
    """A title as it sorts: case, umlauts and accents folded ("Ärger" sorts with "Aerger")."""
    text = title.casefold()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, plain)
    return " ".join(_fold(text).split())[:500]
