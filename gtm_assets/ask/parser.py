"""Rule-based reading of a question: its intent and entities (channels, percentages, amounts,
periods, personas, cohorts, and for budget scenarios the spend changes), in the structure of
``schema.intent_schema``. Stdlib only, so a rules-only `gtm ask` starts fast.

Steps: lowercase; number words before a unit become digits ("two weeks" -> "2 weeks"); typos are
corrected word by word against the known words; periods are taken out; channel, persona, cohort and
purchase-channel mentions are replaced by placeholders; budget changes are read clause by clause;
each intent scores the keyword patterns it matches, and entities add weight (a spend change makes a
scenario, a persona makes a persona question, a past period turns "what drives" into "what drove").
A question that scores nothing is ``unknown``.
"""

from __future__ import annotations

import re

from gtm_assets.ask import periods
from gtm_assets.ask.schema import INTENTS, UNKNOWN, empty_entities
from gtm_assets.ask.vocabulary import Vocabulary, correct, known_words, tokens, typo_targets, unique

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "couple of": 2, "few": 3,
}  # fmt: skip
_NUMBER_WORD = re.compile(
    r"\b("
    + "|".join(sorted((w for w in NUMBER_WORDS if w not in {"a", "an"}), key=len, reverse=True))
    + r")\b(?=\s+(?:percent|per cent|%|days?|weeks?|months?|quarters?|years?|fortnights?))"
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b|pct\b)")
_MONEY = re.compile(
    r"[$€£]\s*(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|million)?\b"
    r"|\b(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|million|dollars|usd|eur|euros|bucks)\b"
)
_BARE_BY = re.compile(r"\bby\s+(\d[\d,]*(?:\.\d+)?)\b(?!\s*(?:%|percent|per\s+cent|pct))")
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}
_PLACEHOLDER = re.compile(r"<(c|p|h|b)(\d+)>")
_CLAUSES = re.compile(r"\s*(?:(?<!\d),|,(?!\d{3})|;|\band then\b|\bthen\b|\band\b|\bplus\b|\bbut\b|\balso\b)\s*")

DOWN = re.compile(r"\b(?:cut|cuts|cutting|reduce[ds]?|reducing|reduction|decrease[ds]?|lower|lowered|trim|slash|less|drop|"
                  r"shrink|scale back|pull back|remove|fewer|minus|down)\b")  # fmt: skip
UP = re.compile(r"\b(?:increase[ds]?|increasing|raise[ds]?|boost(?:ed)?|grow|more|add|adding|up|invest|bump|extra|"
                r"plus|top up)\b")  # fmt: skip
OFF = re.compile(r"\b(?:pause[ds]?|pausing|stop(?:ped)?|turn(?:ed)? off|switch(?:ed)? off|shut (?:off|down)|kill(?:ed)?|"
                 r"cancel(?:led)?|eliminate[ds]?|zero out|go dark)\b")  # fmt: skip
MULTIPLIERS = ((re.compile(r"\bdouble[ds]?\b|\bdoubling\b"), 100.0), (re.compile(r"\btriple[ds]?\b"), 200.0),
               (re.compile(r"\bhalve[ds]?\b|\bhalving\b|\bby half\b|\bin half\b"), -50.0))  # fmt: skip
MOVE = re.compile(r"\b(?:move|moving|shift|shifting|reallocate|transfer|redirect|put|take)\b")

# (pattern, weight) per intent. Patterns run on the corrected text with entities replaced by placeholders.
INTENT_PATTERNS: dict[str, list[tuple[str, float]]] = {
    "roi": [(r"\broi\b|\broas\b", 3), (r"\breturn on (?:ad )?(?:spend|investment)\b", 3), (r"\breturns?\b", 1.5),
            (r"\bpay(?:s|ing)? (?:off|back)\b|\bpayback\b", 2), (r"\bbang for\b", 2), (r"\befficien", 2),
            (r"\bworth (?:it|the)\b", 2), (r"\bper (?:dollar|euro|unit)\b", 2), (r"\bprofitab", 2),
            (r"\bperform(?:s|ing|ance)?\b", 1.5), (r"\bbest[- ]performing\b", 1)],
    "saturation": [(r"\bsaturat", 4), (r"\bdiminishing\b", 3), (r"\bheadroom\b", 3), (r"\broom to (?:grow|scale)\b", 3),
                   (r"\bmaxed(?: out)?\b", 3), (r"\bplateau", 3), (r"\bmarginal\b", 3),
                   (r"\bmarginal (?:roi|roas|returns?)\b", 2), (r"\bscale (?:up|further)\b", 3),
                   (r"\bcapacity\b", 2), (r"\bnext dollar\b", 3), (r"\bspend more\b", 1)],
    "contribution": [(r"\bcontribut", 3), (r"\bdrives?\b|\bdriving\b|\bdrivers?\b", 2), (r"\bincremental\b", 2),
                     (r"\bshare of (?:revenue|sales)\b", 3), (r"\battribut", 2), (r"\bcredit\b", 1), (r"\bimpact\b", 1),
                     (r"\bgenerat", 1.5), (r"\bbrings? in\b", 2), (r"\bresponsible for\b", 2),
                     (r"\bhow much (?:revenue|sales)\b", 1.5), (r"\bbreak ?down\b|\bdecompos", 1.5), (r"\bcomes? from\b", 1.5)],
    "drivers": [(r"\bdrove\b", 3), (r"\bwhy (?:did|was|were|is|are|has)\b", 2.5), (r"\bwhat happened\b", 2.5),
                (r"\bexplain\b", 2), (r"\btrends?\b", 2.5), (r"\bchanged?\b|\bchanges\b", 1),
                (r"\b(?:drop|dip|spike|jump|decline|fell|fall|rose|rise|grew|growth|slump|surge)(?:s|ed|ped)?\b", 1.5),
                (r"\bso (?:strong|weak|good|bad)\b", 1.5)],
    "forecast": [(r"\bforecasts?\b", 4), (r"\bpredict", 3), (r"\bproject(?:ed|ion|ions)?\b", 3), (r"\bwill\b", 1.5),
                 (r"\bexpect", 2), (r"\boutlook\b", 3), (r"\bupcoming\b|\bcoming\b", 1), (r"\bgoing to\b", 1),
                 (r"\bfuture\b", 2)],
    "persona": [(r"\bpersonas?\b", 3), (r"\bsegments?\b", 3), (r"\bcohorts?\b", 3), (r"\baudiences?\b", 3),
                (r"\bcustomer (?:groups?|types?)\b", 3), (r"\bwho (?:respond|buy|convert|engage)s?\b", 2),
                (r"\bwhich (?:customers|group|groups|people)\b", 2), (r"\brespond(?:s|ing)?\b", 1.5),
                (r"\bresponse rates?\b", 2.5), (r"\bbriefs?\b", 2.5), (r"\btarget\b", 1.5), (r"\bwho are\b", 1.5)],
    "allocation": [(r"\b(?:re)?allocat", 3), (r"\brecommend", 3), (r"\boptim", 3), (r"\bbudget (?:plan|split|mix)\b", 3),
                   (r"\bmedia mix\b", 2), (r"\bhow should (?:we|i) (?:spend|split|allocate|invest)", 3),
                   (r"\bwhere should (?:we|i) (?:put|spend|invest)", 3), (r"\bbest (?:mix|split)\b", 3),
                   (r"\brebalanc", 3), (r"\bsplit\b", 1.5), (r"\bour money\b", 1.5),
                   (r"\b(?:get|gets|deserves?|receive) (?:more|less) (?:budget|money|spend)\b", 4),
                   (r"\bmore budget\b|\bless budget\b", 3), (r"\bnext (?:dollar|euro|pound)s?\b.*\bgo\b", 4),
                   (r"\bwhere should\b.*\bgo\b", 3), (r"\bhow would you (?:split|spend|allocate|divide|invest)\b", 4),
                   (r"\bwhat should (?:we|i) do with (?:the|our) budget\b", 4), (r"\b(?:shift|move) (?:money|budget)\b", 2)],
    "identification": [(r"\breliab", 4), (r"\btrust", 4), (r"\bidentif", 4), (r"\bconfiden", 3), (r"\baccura", 3),
                       (r"\bcredib", 3), (r"\buncertain", 3), (r"\bbelieve\b", 2), (r"\bhow sure\b", 3), (r"\bestimates?\b", 1.5),
                       (r"\bcan (?:we|i) (?:rely|act) on\b", 4), (r"\bsolid\b", 1.5), (r"\bbiased?\b", 2)],
    "experiment": [(r"\bexperiments?\b", 4), (r"\blift tests?\b", 4), (r"\bholdouts?\b", 4), (r"\bgeo[- ]?(?:tests?|holdouts?)\b", 4),
                   (r"\btests?\b", 2), (r"\btest next\b|\bto test\b", 2), (r"\bhow long\b", 1.5),
                   (r"\bswitch[- ]?off tests?\b", 4), (r"\bpower analysis\b", 3)],
    "customer_value": [(r"\blifetime value\b|\bltv\b|\bclv\b", 6), (r"\bmost valuable\b", 5), (r"\bvaluable customers?\b", 5),
                       (r"\bcustomers?\b.*\bworth\b|\bworth of (?:a|our) customers?\b", 6), (r"\bhigh[- ]value\b", 4),
                       (r"\b(?:best|top) customers\b", 4), (r"\bstill buying\b", 3)],
    "summary": [(r"\bexecutive\b|\bexec\b", 4), (r"\bsummar", 4), (r"\boverview\b", 4), (r"\bhow are we doing\b", 4),
                (r"\bhow(?:'s| is) (?:it|business|marketing|everything) going\b", 4), (r"\btl ?;? ?dr\b", 4),
                (r"\bbig picture\b", 4), (r"\bkey (?:numbers|figures|takeaways|metrics)\b", 4), (r"\bbrief me\b", 4),
                (r"\bheadlines?\b", 2), (r"\bstate of\b", 2), (r"\bhighlights\b", 3), (r"\bboard\b", 1.5),
                (r"\bwhat should (?:i|we|the \w+|our \w+) know\b", 4), (r"\b(?:cmo|ceo|cfo|leadership)\b", 1.5)],
}  # fmt: skip
_COMPILED = {intent: [(re.compile(p), w) for p, w in patterns] for intent, patterns in INTENT_PATTERNS.items()}
# Words the patterns use: typos are corrected towards these and the vocabulary's words.
KEYWORDS = frozenset(
    [
        "roi",
        "roas",
        "valuable",
        "lifetime",
        "ltv",
        "clv",
        "return",
        "returns",
        "investment",
        "payback",
        "efficient",
        "efficiency",
        "worth",
        "dollar",
        "profitable",
        "perform",
        "performs",
        "performing",
        "performance",
        "saturated",
        "saturation",
        "diminishing",
        "headroom",
        "room",
        "grow",
        "scale",
        "maxed",
        "plateau",
        "marginal",
        "capacity",
        "contribute",
        "contributes",
        "contribution",
        "drive",
        "drives",
        "driving",
        "drivers",
        "driver",
        "incremental",
        "share",
        "attribution",
        "attribute",
        "credit",
        "impact",
        "generate",
        "generates",
        "responsible",
        "revenue",
        "sales",
        "breakdown",
        "decomposition",
        "drove",
        "explain",
        "trend",
        "trends",
        "change",
        "changed",
        "drop",
        "decline",
        "growth",
        "forecast",
        "forecasts",
        "predict",
        "prediction",
        "projected",
        "projection",
        "expect",
        "expected",
        "outlook",
        "upcoming",
        "coming",
        "future",
        "persona",
        "personas",
        "segment",
        "segments",
        "cohort",
        "cohorts",
        "audience",
        "audiences",
        "customers",
        "customer",
        "respond",
        "responds",
        "response",
        "brief",
        "briefs",
        "target",
        "allocate",
        "allocation",
        "reliable",
        "reliability",
        "trust",
        "trusted",
        "trustworthy",
        "identified",
        "identify",
        "confident",
        "confidence",
        "accurate",
        "accuracy",
        "estimate",
        "estimates",
        "experiment",
        "experiments",
        "test",
        "tests",
        "holdout",
        "holdouts",
        "recommend",
        "recommended",
        "recommendation",
        "optimal",
        "optimise",
        "optimize",
        "budget",
        "split",
        "rebalance",
        "executive",
        "summary",
        "summarise",
        "summarize",
        "overview",
        "highlights",
        "headline",
        "headlines",
        "cut",
        "reduce",
        "decrease",
        "increase",
        "raise",
        "boost",
        "double",
        "triple",
        "halve",
        "pause",
        "stop",
        "move",
        "shift",
        "reallocate",
        "quarter",
        "month",
        "week",
        "year",
        "tomorrow",
        "next",
        "last",
        "previous",
        "percent",
        "spend",
        "money",
        "happens",
        "happened",
    ]
)
# Intent words long and distinctive enough to be reached by a typo ("forcast", "saturaton").
TYPO_KEYWORDS = frozenset(
    [
        "forecast",
        "forecasts",
        "saturated",
        "saturation",
        "contribution",
        "contribute",
        "executive",
        "summary",
        "summarise",
        "summarize",
        "persona",
        "personas",
        "allocation",
        "allocate",
        "experiment",
        "experiments",
        "reliable",
        "identified",
        "trustworthy",
        "recommend",
        "recommended",
        "recommendation",
        "diminishing",
        "incremental",
        "prediction",
        "predict",
        "projection",
        "projected",
        "attribution",
        "efficiency",
        "efficient",
        "decomposition",
        "marginal",
        "headroom",
        "overview",
        "response",
        "segment",
        "segments",
        "cohort",
        "cohorts",
        "audience",
        "audiences",
        "revenue",
        "percent",
        "quarter",
    ]
)
_HELP = re.compile(r"^\s*(?:help|\?|what can (?:you|i) (?:do|ask)\??|commands)\s*$")


def normalize(text: str, vocabulary: Vocabulary) -> str:
    """Lowercase, number words before units as digits, possessives dropped, typos corrected."""
    text = " ".join(text.lower().replace("’", "'").split())
    text = re.sub(r"'s\b", "", text)
    text = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(1)]), text)
    text = re.sub(r"\b(?:a|an)\s+(?=(?:day|week|month|quarter|year)\b)", "1 ", text)
    words = re.split(r"([a-z]+(?:[-'][a-z]+)*)", text)
    words[1::2] = correct(words[1::2], known_words(vocabulary, KEYWORDS), typo_targets(vocabulary, TYPO_KEYWORDS))
    return "".join(words)


def _placeholders(text: str, vocabulary: Vocabulary) -> tuple[str, list[tuple[str, str]]]:
    """Replace channel (c), persona (p), cohort (h) and purchase-channel (b) mentions by <kN>
    placeholders, longest phrases first; return the text and the mentions in index order."""
    mentions: list[tuple[str, str]] = []
    kinds = (("c", vocabulary.channels), ("p", vocabulary.personas), ("h", vocabulary.cohorts),
             ("b", vocabulary.purchase_channels))  # fmt: skip
    phrases = []
    for kind, synonyms in kinds:
        for canonical, words in synonyms.items():
            for phrase in {canonical.lower(), *words, *(w.replace("-", " ") for w in words)}:
                phrases.append((" ".join(tokens(phrase)), kind, canonical))
    for phrase, kind, canonical in sorted(phrases, key=lambda p: -len(p[0])):
        if not phrase:
            continue
        body = r"[\s-]+".join(re.escape(word) for word in phrase.split())
        pattern = re.compile(rf"(?<![\w<>-]){body}(?![\w>-])")

        def swap(_match: re.Match, kind=kind, canonical=canonical) -> str:
            mentions.append((kind, canonical))
            return f" <{kind}{len(mentions) - 1}> "

        text = pattern.sub(swap, text)
    return " ".join(text.split()), mentions


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _amounts(text: str) -> list[tuple[int, float]]:
    found = []
    for match in _MONEY.finditer(text):
        value, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        found.append((match.start(), _number(value) * _SCALE.get(unit or "", 1.0)))
    return found


def _clause_change(clause: str, mentions: list[tuple[str, str]]) -> dict:
    """What one clause says: its channels, direction (+1/-1), magnitude and whether it moves spend."""
    channels = [(m.start(), mentions[int(m.group(2))][1]) for m in _PLACEHOLDER.finditer(clause) if m.group(1) == "c"]
    percent = _PERCENT.search(clause)
    money = _amounts(clause)
    bare = _BARE_BY.search(clause)
    magnitude = None
    if percent:
        magnitude = ("percent", float(percent.group(1)))
    elif money:
        magnitude = ("amount", money[0][1])
    elif bare:
        magnitude = ("amount", _number(bare.group(1)))
    direction = None
    for pattern, multiple in MULTIPLIERS:
        if pattern.search(clause):
            magnitude, direction = ("percent", abs(multiple)), (1 if multiple > 0 else -1)
    if direction is None and OFF.search(clause):
        magnitude, direction = ("percent", 100.0), -1
    if direction is None:
        down, up = DOWN.search(clause), UP.search(clause)
        if down and (not up or down.start() < up.start()):
            direction = -1
        elif up:
            direction = 1
    source = re.search(r"\bfrom\s+(?:the\s+)?<c(\d+)>", clause)
    target = re.search(r"\b(?:to|into|towards|onto|on)\s+(?:the\s+)?<c(\d+)>", clause)
    of_source = re.search(r"\bof\s+(?:the\s+|our\s+)?<c(\d+)>", clause)
    move = None
    if len(channels) >= 2 and target and (source or (MOVE.search(clause) and of_source)):
        origin = mentions[int((source or of_source).group(1))][1]
        move = (origin, mentions[int(target.group(1))][1])
    return {"channels": [c for _, c in channels], "direction": direction, "magnitude": magnitude, "move": move}


def scenario_changes(text: str, mentions: list[tuple[str, str]]) -> list[dict]:
    """Spend changes, clause by clause: a clause without a verb takes the previous clause's
    direction and one without a figure the next clause's ("cut TV and radio by 10%")."""
    clauses = [c for c in _CLAUSES.split(text) if c.strip()]
    moves = re.search(r"\bfrom\s+(?:the\s+)?<c\d+>", text) or (
        MOVE.search(text) and re.search(r"\bof\s+(?:the\s+|our\s+)?<c\d+>.*\b(?:to|into|onto)\s+(?:the\s+)?<c\d+>", text)
    )
    if not moves:
        parts = [_clause_change(c, mentions) for c in clauses]
    else:  # a move names two channels across "and"-free text: read it whole
        parts = [_clause_change(text, mentions)]
    for i, part in enumerate(parts):
        if part["direction"] is None and i > 0:
            part["direction"] = parts[i - 1]["direction"]
        if part["magnitude"] is None:
            later = [p["magnitude"] for p in parts[i + 1 :] if p["magnitude"]]
            part["magnitude"] = later[0] if later else None
    changes = []
    for part in parts:
        if part["magnitude"] is None:
            continue
        kind, value = part["magnitude"]
        if part["move"]:
            changes.append({"from": part["move"][0], "to": part["move"][1], kind: value})
            continue
        if part["direction"] is None:
            continue
        for channel in part["channels"]:
            changes.append({"channel": channel, kind: part["direction"] * value})
    return changes


def parse(question: str, vocabulary: Vocabulary | None = None) -> dict:
    """The intent and entities of ``question``: ``{"intent", "entities", "parser": "rules"}``."""
    vocabulary = vocabulary or Vocabulary()
    entities = empty_entities()
    if _HELP.match(question.lower()):
        return {"intent": UNKNOWN, "entities": entities, "parser": "rules"}
    text = normalize(question, vocabulary)
    found_periods, compare, text = periods.extract(text)
    text, mentions = _placeholders(text, vocabulary)
    by_kind = {k: unique([name for kind, name in mentions if kind == k]) for k in "cphb"}
    entities.update(
        channels=by_kind["c"],
        personas=by_kind["p"],
        cohorts=by_kind["h"],
        purchase_channels=by_kind["b"],
        periods=found_periods,
        compare=compare or "previous",
        percentages=[float(m.group(1)) for m in _PERCENT.finditer(text)],
    )
    changes = scenario_changes(text, mentions)
    amounts = [value for _, value in _amounts(text)]
    amounts += [c.get("amount") and abs(c["amount"]) for c in changes if "amount" in c and abs(c["amount"]) not in amounts]
    entities.update(changes=changes, amounts=amounts)
    entities["percentages"] = [int(p) if p.is_integer() else p for p in entities["percentages"]]
    entities["amounts"] = [int(a) if float(a).is_integer() else a for a in entities["amounts"]]
    return {"intent": classify(text, entities), "entities": entities, "parser": "rules"}


def classify(text: str, entities: dict) -> str:
    """The intent with the highest score (ties: the order of INTENTS); ``unknown`` when none scores."""
    scores = {intent: sum(w for p, w in patterns if p.search(text)) for intent, patterns in _COMPILED.items()}
    past = [p for p in entities["periods"] if p["kind"] != "next"]
    future = [p for p in entities["periods"] if p["kind"] == "next"]
    if entities["changes"]:
        scores["scenario"] = scores.get("scenario", 0) + 5
    if re.search(r"\bwhat if\b|\bwhat happens\b|\bwhat would happen\b|\bscenario\b|\bsimulat", text):
        scores["scenario"] = scores.get("scenario", 0) + (2 if entities["changes"] else 0.5)
    if entities["personas"] or entities["cohorts"]:
        scores["persona"] += 3
    if entities["purchase_channels"] and scores["persona"]:
        scores["persona"] += 1  # "online", "in store" qualify a persona question; alone they are none
    if future:
        scores["forecast"] += 3
    if past:
        # a past period turns "what drives revenue" into "what drove it in that period"
        scores["drivers"] += 2 + scores["contribution"] + (1 if scores["drivers"] else 0)
    if scores["drivers"] and not past and scores["drivers"] < 2.5:
        scores["drivers"] = 0  # a bare "change"/"drop" is not a period question
    best = max(scores.values())
    if best <= 0:
        if entities["channels"]:
            return "roi"
        if entities["personas"] or entities["cohorts"]:
            return "persona"
        if past:
            return "drivers"
        return UNKNOWN
    order = [*INTENTS, "scenario"]
    return min((i for i, s in scores.items() if s == best), key=lambda i: order.index(i))
