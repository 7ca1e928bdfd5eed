"""Offline, template-based ad and email copy with a rule-based compliance check (no LLM).

A brief is a dict with ``segment_name`` (required) and optionally ``description`` (free text,
quoted in the body when it fits), ``offer_type`` (discount, free_shipping, free_trial, bundle,
loyalty or any other label), ``key_figures`` (e.g. ``{"discount_pct": 20, "trial_days": 14,
"points_multiplier": 2}``) and ``deadline`` (e.g. "Sunday", used by urgent copy). The voice comes
from ``style``.
"""

from __future__ import annotations

import random
import re
from itertools import product

STYLES = ("professional", "playful", "urgent", "warm")
CHANNELS = ("email", "social", "display", "search")
HEADLINE_MAX = 40
BODY_MAX = 140
# Search ads are held to the tighter limits of responsive search ads (30 / 90 characters).
CHANNEL_LIMITS = {"email": (40, 140), "social": (40, 140), "display": (40, 140), "search": (30, 90)}
OPT_OUT_TEXT = "Unsubscribe anytime."
OPT_OUT_PATTERN = re.compile(r"unsubscribe|opt[ -]?out", re.IGNORECASE)
BANNED_PHRASES = (
    "guaranteed", "best ever", "risk-free", "risk free", "no risk", "miracle", "100% free",
    "lowest price ever", "once in a lifetime",
)  # fmt: skip
RULE_PENALTIES = {"banned_phrase": 0.3, "missing_opt_out": 0.4, "too_long": 0.2}

HEADLINES = {
    "professional": ["{Offer} for {segment}", "{segment}: {offer} this week", "Get {offer} today"],
    "playful": ["Psst, {segment}: {offer}!", "Treat yourself to {offer}", "{Offer} awaits!"],
    "urgent": ["Last chance: {offer}", "{Offer} ends {deadline}", "Hurry, {segment}: {offer}"],
    "warm": ["A thank-you for {segment}", "{Offer}, just for you", "Something special: {offer}"],
}
BODIES = {
    "professional": [
        "{description}Enjoy {offer} on your next order.",
        "Built for {segment}. {description}Claim {offer} while the offer runs.",
    ],
    "playful": [
        "{description}Go on, grab {offer} - you've earned it.",
        "Good news, {segment}! {description}{Offer} is waiting for you.",
    ],
    "urgent": [
        "{description}{Offer} ends {deadline}. Don't miss out.",
        "Only until {deadline}: {offer} for {segment}. {description}Act today.",
    ],
    "warm": [
        "{description}As a thank-you, enjoy {offer}.",
        "We're glad you're here, {segment}. {description}Here's {offer}, on us.",
    ],
}
CALLS_TO_ACTION = {
    "email": ["Claim my offer", "Shop now", "See the offer"],
    "social": ["Shop now", "Learn more", "Get the offer"],
    "display": ["Shop now", "Discover more", "Get the offer"],
    "search": ["Get the offer", "Shop now", "Learn more"],
}


def _check_choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    """Raise ValueError listing the valid values when ``value`` is not one of them."""
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid values: {', '.join(valid)}")


def _offer_phrase(offer_type: str, figures: dict) -> str:
    """Readable offer from its type and key figures, e.g. '20% off'."""
    if offer_type == "discount":
        return f"{figures['discount_pct']:g}% off" if "discount_pct" in figures else "a special discount"
    if offer_type == "free_trial":
        return f"a free {figures.get('trial_days', 14):g}-day trial"
    if offer_type == "loyalty":
        return f"{figures.get('points_multiplier', 2):g}x loyalty points"
    if offer_type == "bundle":
        return "bundle savings"
    if offer_type == "free_shipping":
        return "free shipping"
    return offer_type.replace("_", " ") if offer_type else "our latest picks"


def _sentences_that_fit(text: str, room: int) -> str:
    """Leading whole sentences of ``text`` (with a trailing space) that fit in ``room`` characters."""
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        candidate = f"{kept}{sentence} "
        if not sentence or len(candidate) > room:
            break
        kept = candidate
    return kept


def _trim_words(text: str, limit: int) -> str:
    """Cut at a word boundary so the text fits in ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: limit + 1].rsplit(" ", 1)[0].rstrip(",:;-")


def check_compliance(headline: str, body: str, call_to_action: str, *, channel: str) -> dict:
    """Score copy against the rules: banned superlatives, email opt-out text, length limits.

    Returns ``{"score": float in [0, 1], "failed_rules": [names]}``; each failed rule subtracts its
    penalty from 1 (banned phrase 0.3 each, missing opt-out 0.4, each over-length field 0.2).
    """
    _check_choice("channel", channel, CHANNELS)
    headline_max, body_max = CHANNEL_LIMITS[channel]
    text = f"{headline} {body} {call_to_action}".lower()
    failed = [f"banned_phrase:{phrase}" for phrase in BANNED_PHRASES if phrase in text]
    if channel == "email" and not OPT_OUT_PATTERN.search(body):
        failed.append("missing_opt_out")
    if len(headline) > headline_max:
        failed.append(f"headline_too_long:{len(headline)}>{headline_max}")
    if len(body) > body_max:
        failed.append(f"body_too_long:{len(body)}>{body_max}")
    penalty = sum(RULE_PENALTIES["too_long" if "too_long" in r else r.split(":")[0]] for r in failed)
    return {"score": round(max(0.0, 1.0 - penalty), 2), "failed_rules": failed}


def _most_distinct(combinations: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """First ``n`` combinations in order, preferring ones that reuse neither headline nor body."""
    chosen: list[tuple[str, str]] = []
    for max_shared in (0, 1, 2):
        for combo in combinations:
            if len(chosen) == n:
                return chosen
            shared = sum(any(combo[k] == c[k] for c in chosen) for k in (0, 1))
            if combo not in chosen and shared <= max_shared:
                chosen.append(combo)
    return chosen


def generate_copy(
    brief: dict, *, channel: str, style: str, n_variants: int = 2, seed: int = 0
) -> list[dict]:
    """Deterministic copy variants for a segment brief on one channel in one style.

    Each variant has ``variant``, ``channel``, ``style``, ``headline``, ``body``,
    ``call_to_action`` and ``compliance`` (see ``check_compliance``). Only templates that fit the
    channel's length limits are used (nothing is cut mid-sentence); the brief's description is
    quoted by whole sentences where room allows, and email bodies end with opt-out text. The same
    brief, channel, style and seed always give the same variants. Asking for more variants than
    there are distinct fitting headline/body pairs raises ValueError.
    """
    _check_choice("style", style, STYLES)
    _check_choice("channel", channel, CHANNELS)
    segment = str(brief.get("segment_name") or "").strip()
    if not segment:
        raise ValueError("brief needs a non-empty 'segment_name'")
    if n_variants < 1:
        raise ValueError(f"n_variants must be >= 1, got {n_variants}")

    offer = _offer_phrase(str(brief.get("offer_type") or ""), dict(brief.get("key_figures") or {}))
    fields = {
        "segment": segment,
        "offer": offer,
        "Offer": offer[:1].upper() + offer[1:],
        "deadline": str(brief.get("deadline") or "soon"),
    }
    headline_max, body_max = CHANNEL_LIMITS[channel]
    opt_out = f" {OPT_OUT_TEXT}" if channel == "email" else ""
    body_room = body_max - len(opt_out)
    description = str(brief.get("description") or "")

    # Templates that fit; the bare offer pads the choice when long names leave fewer than two.
    headlines = [h for h in (t.format(**fields) for t in HEADLINES[style]) if len(h) <= headline_max]
    if len(headlines) < 2:
        headlines.append(_trim_words(fields["Offer"], headline_max))
    bodies = []
    for template in BODIES[style]:
        core = template.format(**fields, description="")
        if len(core) <= body_room:
            quoted = _sentences_that_fit(description, body_room - len(core))
            bodies.append(template.format(**fields, description=quoted) + opt_out)
    if len(bodies) < 2:
        bodies.append(_trim_words(f"{fields['Offer']}.", body_room) + opt_out)
    combinations = list(product(dict.fromkeys(headlines), dict.fromkeys(bodies)))
    if n_variants > len(combinations):
        raise ValueError(
            f"only {len(combinations)} distinct variants fit this brief on {channel}, "
            f"asked for {n_variants}"
        )

    rng = random.Random(seed)
    rng.shuffle(combinations)
    calls = CALLS_TO_ACTION[channel]
    start = rng.randrange(len(calls))
    variants = []
    for i, (headline, body) in enumerate(_most_distinct(combinations, n_variants)):
        call_to_action = calls[(start + i) % len(calls)]
        variants.append(
            {
                "variant": i + 1,
                "channel": channel,
                "style": style,
                "headline": headline,
                "body": body,
                "call_to_action": call_to_action,
                "compliance": check_compliance(headline, body, call_to_action, channel=channel),
            }
        )
    return variants
