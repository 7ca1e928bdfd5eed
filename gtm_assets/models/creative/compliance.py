"""Layered compliance checks for one creative, each finding with its layer, rule, severity and detail.

Layers: format limits (the platform would reject the ad), brand guide (banned phrases, required
disclaimers), claims (outcome promises, absolute superlatives, numbers the offer or the guide does not
substantiate), protected characteristics and special ad categories (housing, credit and employment
rules forbid targeting or excluding people by age, sex, race, religion, national origin, family status,
disability or orientation), a toxicity lexicon, personal data in copy, and internal segment labels
(copy speaks to people, never about them). A red finding blocks the creative from any payload; an amber
one ships only with a recorded human approval; green ships.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gtm_assets.audit.pii_patterns import EMAIL_PATTERN, IPV4_PATTERN, IPV6_PATTERN, PHONE_PATTERN
from gtm_assets.models.creative.brand_guide import BrandGuide
from gtm_assets.models.creative.formats import Format

RED, AMBER, GREEN = "red", "amber", "green"
PENALTY = {RED: 0.35, AMBER: 0.1}

PROTECTED_TERMS = {
    "age": r"elderly|seniors?|retirees|young people|youngsters|millennials|boomers|gen ?z|under \d\d|over \d\d|\d\d\+|years old",
    "sex": r"men only|women only|ladies only|for (?:men|women|ladies|guys)\b|males?|females?",
    "race or ethnicity": r"caucasians?|african[- ]americans?|hispanics?|latin[oa]s?|asians?|whites only|blacks? only",
    "religion": r"christians?|muslims?|jews|jewish|hindus?|buddhists?|atheists?",
    "national origin": r"immigrants?|foreigners?|native[- ]born|citizens only|nationals only",
    "family status": r"no kids|no children|childless|singles only|married couples|pregnant",
    "disability": r"disabled|disabilit(?:y|ies)|handicapped|wheelchair",
    "sexual orientation": r"gay|lesbian|straight people|lgbtq?\+?",
}
EXCLUSION = r"only for|just for|not for|exclusively for|ideal for|perfect for|reserved for|no \w+ allowed|not open to"
SPECIAL_CATEGORIES = {
    "housing": r"apartments?|rent(?:al|ing)?|mortgages?|real estate|home loans?|landlords?|tenants?",
    "credit": r"loans?|credit cards?|financing|credit scores?|apr|lending|pre-?approved",
    "employment": r"hiring|job openings?|vacanc(?:y|ies)|careers? at|salary|apply for (?:the|this) (?:job|role|position)",
}
TOXIC = (
    r"idiots?|stupid|dumb|losers?|shut up|morons?|hate|damn|hell|crap|sucks?|ugly|fat|lazy|pathetic|"
    r"worthless|trash|scum|freaks?"
)
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Finding:
    layer: str
    rule: str
    severity: str
    detail: str

    def as_dict(self) -> dict:
        return {"layer": self.layer, "rule": self.rule, "severity": self.severity, "detail": self.detail}


@dataclass
class ComplianceResult:
    findings: list[Finding] = field(default_factory=list)

    @property
    def light(self) -> str:
        severities = {f.severity for f in self.findings}
        return RED if RED in severities else AMBER if AMBER in severities else GREEN

    @property
    def score(self) -> float:
        return round(max(0.0, 1.0 - sum(PENALTY[f.severity] for f in self.findings)), 2)

    @property
    def reasons(self) -> list[str]:
        return [f"{f.severity}: {f.layer}/{f.rule}: {f.detail}" for f in self.findings]


def _words(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)


_PROTECTED = {name: _words(p) for name, p in PROTECTED_TERMS.items()}
_SPECIAL = {name: _words(p) for name, p in SPECIAL_CATEGORIES.items()}
_EXCLUSION = _words(EXCLUSION)
_TOXIC = _words(TOXIC)
_PII = {
    "email": re.compile(EMAIL_PATTERN),
    "ipv4": re.compile(IPV4_PATTERN),
    "ipv6": re.compile(IPV6_PATTERN),
    "phone": re.compile(PHONE_PATTERN),
}


def _labelled(fmt: Format, copy: dict) -> list[tuple[str, str]]:
    """(where, text) for every text of a variant, e.g. ('headlines[3]', '...')."""
    out = []
    for f in fmt.fields:
        value = copy.get(f.name)
        if value is None:
            continue
        if f.count is not None:
            out += [(f"{f.name}[{i + 1}]", str(v)) for i, v in enumerate(value)]
        else:
            out.append((f.name, str(value)))
    return out


def check_creative(
    copy: dict,
    fmt: Format,
    *,
    guide: BrandGuide,
    offer_figures: dict | None = None,
    internal_labels: tuple[str, ...] = (),
) -> ComplianceResult:
    """Every finding for one copy variant of ``fmt`` (see the module docstring for the layers)."""
    result = ComplianceResult()
    add = result.findings.append
    texts = _labelled(fmt, copy)
    whole = " ".join(text for _, text in texts)
    lowered = whole.lower()

    missing = [f.name for f in fmt.fields if not copy.get(f.name)]
    for name in missing:
        add(Finding("format", "missing_field", RED, f"{name} is empty"))
    for f in fmt.fields:
        if copy.get(f.name):
            for problem in f.limit_violations(copy[f.name]):
                add(Finding("format", "length", RED, problem))

    for phrase in guide.banned_phrases:
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
            add(Finding("brand", "banned_phrase", RED, f"'{phrase}'"))
    for disclaimer in guide.disclaimers(fmt.name):
        # Spoken formats need the disclaimer in every script; others anywhere in the ad.
        scripts = [text for _, text in texts] if fmt.spoken else [whole]
        if any(disclaimer.lower() not in script.lower() for script in scripts):
            add(Finding("brand", "missing_disclaimer", RED, f"'{disclaimer}'"))

    policy = guide.claims_policy
    for promise in policy.get("outcome_promises", []):
        if promise.lower() in lowered:
            add(Finding("claims", "outcome_promise", RED, f"'{promise}'"))
    for word in policy.get("superlatives", []):
        if re.search(rf"(?<![\w#]){re.escape(word.lower())}(?!\w)", lowered):
            add(Finding("claims", "superlative", AMBER, f"'{word}' needs substantiation on file"))
    allowed = guide.substantiated_numbers() | {f"{v:g}" for v in (offer_figures or {}).values() if isinstance(v, int | float)}
    allowed |= {n for d in guide.disclaimers(fmt.name) for n in NUMBER.findall(d)}
    for where, text in texts:
        for number in NUMBER.findall(text):
            if number.replace(",", "") not in allowed:
                add(
                    Finding(
                        "claims",
                        "unsubstantiated_number",
                        AMBER,
                        f"'{number}' in {where} is not backed by the offer or the guide",
                    )
                )

    protected = {name for name, pattern in _PROTECTED.items() if pattern.search(whole)}
    special = {name for name, pattern in _SPECIAL.items() if pattern.search(whole)}
    for name in sorted(protected):
        if _EXCLUSION.search(whole):
            add(Finding("targeting", "protected_class_targeting", RED, f"targets or excludes by {name}"))
        elif special:
            add(
                Finding(
                    "targeting",
                    "protected_class_in_special_category",
                    RED,
                    f"{name} mentioned in a {', '.join(sorted(special))} ad",
                )
            )
        else:
            add(Finding("targeting", "protected_class_mention", AMBER, f"mentions {name}: review targeting rules"))
    for name in sorted(special):
        add(Finding("targeting", "special_ad_category", AMBER, f"{name} ad: restricted targeting rules apply"))

    for match in sorted({m.group(0).lower() for m in _TOXIC.finditer(whole)}):
        add(Finding("toxicity", "lexicon", RED, f"'{match}'"))
    for kind, pattern in _PII.items():
        if pattern.search(whole):
            add(Finding("pii", kind, RED, f"{kind} pattern in copy"))
    for label in internal_labels:
        if label and re.search(rf"(?<!\w){re.escape(label.lower())}(?!\w)", lowered):
            add(Finding("audience", "internal_label", RED, f"names the internal segment label '{label}'"))
    return result
