"""The words `gtm ask` knows: channels with their synonyms, personas, cohorts and purchase channels,
and a matcher that finds them in a question, misspellings included.

Matching is on lowercase word tokens. Typos are corrected first, word by word, to a keyword one edit
away (two for long words; "serach" -> "search", "carrer" -> "career", "forcast" -> "forecast");
ordinary English words one edit from a keyword ("ratio" ~ "radio", "location" ~ "allocation") are
left alone. Then exact phrases are
found, longest first, so "connected tv" is CTV, not TV. Stdlib only: the rules path must start fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CHANNEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "TV": ("tv", "television", "linear tv", "linear television", "tv ads", "telly", "broadcast"),
    "CTV": ("ctv", "connected tv", "connected television", "ott", "streaming tv", "streaming"),
    "Search": ("search", "paid search", "sem", "ppc", "google ads", "adwords", "search ads", "google"),
    "Social": ("social", "paid social", "social media", "facebook", "meta", "instagram", "tiktok", "linkedin"),
    "Display": ("display", "banner", "banners", "programmatic", "display ads"),
    "Email": ("email", "e-mail", "emails", "newsletter", "newsletters", "crm"),
    "Radio": ("radio", "audio", "podcast", "podcasts"),
    "Print": ("print", "newspaper", "newspapers", "magazine", "magazines"),
}
PERSONA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Champions": ("champions", "champion", "champs", "loyal customers", "loyalists", "vips"),
    "Premium-but-Quiet": ("premium-but-quiet", "premium but quiet", "quiet premium", "premium quiet", "premium"),
    "Deal-Responsive": ("deal-responsive", "deal responsive", "deal seekers", "deal-seekers", "bargain hunters",
                        "deal hunters"),
    "Hard-to-Convert": ("hard-to-convert", "hard to convert", "non-responders", "unresponsive"),
}  # fmt: skip
COHORT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Young Professionals": ("young professionals", "young professional", "young pros", "youngest"),
    "Mid-Career": ("mid-career", "mid career", "midcareer", "middle-aged", "middle aged"),
    "Established": ("established",),
    "Legacy": ("legacy", "oldest customers", "seniors"),
}
# Where customers buy (marketing_campaign.csv's purchase columns): persona questions only.
PURCHASE_CHANNEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "web": ("web", "online", "website"),
    "catalog": ("catalog", "catalogue", "mail order"),
    "store": ("store", "in-store", "in store", "stores", "retail"),
    "deals": ("deals", "discounts", "coupons"),
}
# Ordinary English words one typo away from a keyword whose correction would change the meaning
# ("ratio" -> radio, "location" -> allocation, "audit" -> audio). Found by running the corrector over
# a 73k-word English dictionary; inflections that correct harmlessly ("forecasted") are not listed.
COMMON_WORDS = frozenset(
    [
        "ratio",
        "radii",
        "audit",
        "audi",
        "point",
        "paint",
        "pint",
        "sprint",
        "location",
        "local",
        "royal",
        "median",
        "medial",
        "medic",
        "personal",
        "project",
        "projects",
        "protected",
        "protection",
        "rejected",
        "rejection",
        "prosecuted",
        "production",
        "reduction",
        "situation",
        "situated",
        "retain",
        "detail",
        "spreading",
        "treating",
        "stressing",
        "steaming",
        "dreaming",
        "teaming",
        "manner",
        "banned",
        "banker",
        "execution",
        "execute",
        "executing",
        "coefficient",
        "score",
        "scores",
        "store",
        "stores",
        "have",
        "tell",
        "quite",
        "quit",
    ]
)
# Synonyms too short or too common to be reached by a typo: matched only when spelled exactly.
EXACT_ONLY = frozenset({"store", "stores", "telly", "quiet", "champs", "media"})
MIN_FUZZY_CHARS = 4
MIN_TARGET_CHARS = 5
LONG_TARGET_CHARS = 9  # targets this long tolerate two edits
TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass
class Vocabulary:
    """Canonical names and their synonyms for each kind of entity. ``from_names`` adds the names a
    warehouse actually holds (a channel the defaults do not know is matched by its own name)."""

    channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CHANNEL_SYNONYMS))
    personas: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(PERSONA_SYNONYMS))
    cohorts: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(COHORT_SYNONYMS))
    purchase_channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(PURCHASE_CHANNEL_SYNONYMS))

    @classmethod
    def from_names(cls, *, channels=(), personas=(), cohorts=()) -> Vocabulary:
        """The default vocabulary restricted to, and extended by, the names in a warehouse (when given)."""
        vocabulary = cls()
        for kind, names in (("channels", channels), ("personas", personas), ("cohorts", cohorts)):
            names = [n for n in names if n]
            if not names:
                continue
            known = getattr(vocabulary, kind)
            by_lower = {k.lower(): k for k in known}
            setattr(vocabulary, kind, {n: known.get(by_lower.get(n.lower(), ""), ()) + (n.lower(),) for n in names})
        return vocabulary


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (hyphenated words and apostrophes kept inside a token)."""
    return TOKEN.findall(text.lower())


def known_words(vocabulary: Vocabulary, extra: frozenset[str]) -> frozenset[str]:
    """Every word of every synonym phrase, plus ``extra`` (the intent keywords)."""
    words = set(extra)
    for kind in (vocabulary.channels, vocabulary.personas, vocabulary.cohorts, vocabulary.purchase_channels):
        for canonical, phrases in kind.items():
            for phrase in (canonical, *phrases):
                words.update(tokens(phrase))
                words.update(tokens(phrase.replace("-", " ")))
    return frozenset(words)


def typo_targets(vocabulary: Vocabulary, keywords: frozenset[str]) -> list[str]:
    """The words a typo may be corrected to: the vocabulary's words and ``keywords`` of at least
    MIN_TARGET_CHARS letters, except the EXACT_ONLY ones."""
    words = known_words(vocabulary, keywords)
    return sorted(w for w in words if len(w) >= MIN_TARGET_CHARS and w.isalpha() and w not in EXACT_ONLY)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap two neighbours), or
    ``limit + 1`` as soon as it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, previous = None, list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def correct(words: list[str], known: frozenset[str], targets: list[str]) -> list[str]:
    """Each unknown alphabetic word of at least MIN_FUZZY_CHARS letters replaced by the nearest
    target one edit away (two for long targets), unless it is one of COMMON_WORDS."""
    corrected = []
    for word in words:
        if word in known or word in COMMON_WORDS or len(word) < MIN_FUZZY_CHARS or not word.isalpha():
            corrected.append(word)
            continue
        best, best_distance = word, 3
        for target in targets:
            limit = 2 if len(target) >= LONG_TARGET_CHARS else 1
            distance = edit_distance(word, target, min(limit, best_distance - 1))
            if distance <= limit and distance < best_distance:
                best, best_distance = target, distance
        corrected.append(best)
    return corrected


def unique(names: list[str]) -> list[str]:
    """Names in first-mention order, without repeats."""
    return list(dict.fromkeys(names))
