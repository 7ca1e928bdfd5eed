"""The offline copywriter: deterministic copy variants in every format, written from a brief's offer,
tone and objective and the brand guide (products, offer wording, required disclaimers).

It has the same output shape as the LLM (``{"variants": [...]}``, see ``Format.json_schema``), so the
creative library treats both alike. Variants differ by angle (lead with the offer, a product, or the
everyday benefit) and by the tone's wording; nothing is cut mid-sentence, and the copy never names the
audience's segment: a brief carries no segment label at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gtm_assets.models.creative.brand_guide import BrandGuide
from gtm_assets.models.creative.formats import Format

TONES = ("warm", "professional", "playful", "urgent")
ANGLES = ("offer", "product", "benefit")
ROLES = ("sales", "marketing", "c_suite")


@dataclass(frozen=True)
class CopyBrief:
    """What the copy is for. ``audience`` is a plain description of the readers (no segment label)."""

    audience: str
    responds_to: str
    tone: str
    offer_type: str
    offer_figures: dict = field(default_factory=dict)
    objective: str = "conversion"
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    role: str | None = None

    def as_prompt(self) -> dict:
        return {
            "audience": self.audience, "responds_to": self.responds_to, "tone": self.tone,
            "offer_type": self.offer_type, "offer_figures": self.offer_figures, "objective": self.objective,
            "do": list(self.do), "dont": list(self.dont), **({"reader_role": self.role} if self.role else {}),
        }  # fmt: skip


# Wording by tone: an opener sentence, short headlines (<= 30 characters) and calls to action.
VOICE = {
    "warm": {
        "openers": ["A little thank-you from us", "Something good for your week", "Made for the way you live"],
        "headlines": ["Made for Everyday Life", "A Little Something for You", "Good Things, Well Made"],
        "ctas": ["See what's new", "Find yours", "Take a look"],
        "closer": "We'd love to see you back.",
    },
    "professional": {
        "openers": ["Quality essentials, fairly priced", "Well made and built to last", "Essentials that do the job"],
        "headlines": ["Well Made, Built to Last", "Quality Essentials", "Essentials That Do the Job"],
        "ctas": ["Shop the range", "View the collection", "Learn more"],
        "closer": "Order online in minutes.",
    },
    "playful": {
        "openers": ["Treat yourself, you've earned it", "Go on, take a peek", "Your next favourite thing is here"],
        "headlines": ["Go On, Treat Yourself", "Your Next Favourite Thing", "Take a Peek Inside"],
        "ctas": ["Grab the deal", "Treat yourself", "Take a peek"],
        "closer": "Happy browsing!",
    },
    "urgent": {
        "openers": ["This week only", "Only a few days left", "Don't miss this one"],
        "headlines": ["This Week Only", "Only a Few Days Left", "Don't Miss This One"],
        "ctas": ["Shop this week", "Claim it today", "Shop now"],
        "closer": "The offer runs until Sunday.",
    },
}
GENERIC_HEADLINES = [
    "Shop Everyday Essentials", "Gear for Every Season", "Built for Everyday Use", "New Season Arrivals",
    "Order Online Today", "Home and Outdoor Essentials", "Free Returns in 30 Days", "Easy 30-Day Returns",
    "Essentials, Done Right", "Shop the New Range",
]  # fmt: skip


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title(text: str) -> str:
    small = {"a", "an", "and", "at", "for", "in", "of", "on", "or", "the", "to"}
    words = text.split()
    return " ".join(w if (i and w.lower() in small) or w[:1].isdigit() else _cap(w) for i, w in enumerate(words))


def _fit(candidates: list[str], limit: int) -> str:
    """The first candidate within ``limit`` characters (the last, shortest one is always short)."""
    for text in candidates:
        if len(text) <= limit:
            return text
    return min(candidates, key=len)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


class _Writer:
    def __init__(self, brief: CopyBrief, guide: BrandGuide, seed: int):
        if brief.tone not in VOICE:
            raise ValueError(f"unknown tone {brief.tone!r}; tones: {', '.join(TONES)}")
        self.brief, self.guide = brief, guide
        self.rng = random.Random(seed)
        self.voice = VOICE[brief.tone]
        self.offer = guide.offer_phrase(brief.offer_type, brief.offer_figures)
        self.terms = guide.offer_terms(brief.offer_type)
        products = list(guide.products)
        self.rng.shuffle(products)
        self.products = products

    def offer_on(self, product: str) -> str:
        """The offer applied to a product: '20% off trail runners', 'free shipping on trail runners'."""
        if self.offer.endswith(" off"):
            return f"{self.offer} {product}"
        return f"{self.offer} {'of' if self.brief.offer_type == 'free_trial' else 'on'} {product}"

    def pick(self, items: list[str], i: int) -> str:
        return items[i % len(items)]

    def lead(self, angle: str, i: int) -> str:
        """The variant's first sentence, by angle."""
        product = self.pick(self.products, i)
        if angle == "offer":
            return f"{_cap(self.offer_on(product))} and more"
        if angle == "product":
            return f"Meet our {product}, now with {self.offer}"
        return f"{self.pick(self.voice['openers'], i)}: {self.offer_on('everyday essentials')}"

    def disclaimers(self, format_name: str) -> str:
        return " ".join(self.guide.disclaimers(format_name))

    # --- formats -------------------------------------------------------------------------------

    def search_rsa(self, angle: str, i: int) -> dict:
        offer = _title(self.offer)
        brand = self.guide.brand
        own = [offer, f"{offer} Today", f"{offer} at {brand}", f"Get {offer}", brand, f"{brand} Official Site"]
        own += [f"Shop {_title(p)}" for p in self.products] + self.voice["headlines"] + GENERIC_HEADLINES
        if angle == "product":
            own = own[4:] + own[:4]
        headlines = list(dict.fromkeys(h for h in own if len(h) <= 30))
        start = i % 3
        headlines = headlines[start:] + headlines[:start]
        products = ", ".join(self.products[:2])
        descriptions = [
            _fit([f"{_cap(self.offer_on(products))} and more. {self.terms}", f"{_cap(self.offer_on(products))}."], 90),
            _fit(
                [f"{self.pick(self.voice['openers'], i)}. Shop {self.guide.website} today.", f"Shop {self.guide.website} today."],
                90,
            ),
            _fit(
                [
                    f"Everyday {self.products[2]} and {self.products[3]}, made to be used. {self.voice['closer']}",
                    f"Everyday {self.products[2]}, made to be used.",
                ],
                90,
            ),
            _fit(["Free returns within 30 days. Order online in minutes.", "Free returns within 30 days."], 90),
        ]
        return {"headlines": headlines[:15], "descriptions": descriptions}

    def social(self, angle: str, i: int) -> dict:
        tail = self.disclaimers("social")
        lead = _sentence(self.lead(angle, i))
        primary = _fit(
            [f"{lead} {self.terms} {tail}", f"{lead} {tail}", f"{_cap(self.offer_on('everyday essentials'))}. {tail}"], 125
        )
        headline = _fit([_title(self.offer_on(self.pick(self.products, i))), _title(self.offer)], 40)
        return {"primary_text": primary, "headline": headline, "call_to_action": self.pick(self.voice["ctas"], i)}

    def display(self, angle: str, i: int) -> dict:
        tail = self.disclaimers("display")
        short = _fit([_title(self.offer), self.pick(self.voice["headlines"], i)], 30)
        long = _fit([f"{_title(self.lead(angle, i))}", _title(self.offer_on("everyday essentials"))], 90)
        description = _fit(
            [
                f"{self.pick(self.voice['openers'], i + 1)}. {self.terms} {tail}",
                f"{_cap(self.offer)} at {self.guide.website}. {tail}",
                tail,
            ],
            90,
        )
        return {
            "short_headline": short,
            "long_headline": long,
            "description": description,
            "call_to_action": self.pick(self.voice["ctas"], i),
        }

    def email(self, angle: str, i: int) -> dict:
        product = self.pick(self.products, i)
        subject = _fit([f"{_cap(self.lead(angle, i))}", _cap(self.offer_on(product)), _cap(self.offer)], 60)
        preheader = _fit([f"{self.pick(self.voice['openers'], i + 1)}. {self.terms}", self.terms or self.voice["closer"]], 100)
        body = " ".join([
            _sentence(self.pick(self.voice["openers"], i)),
            f"Right now you get {self.offer_on(product)}, {self.products[(i + 1) % len(self.products)]} and the rest "
            f"of our everyday range at {self.guide.website}.",
            self.terms, self.voice["closer"], self.disclaimers("email"),
        ])  # fmt: skip
        return {
            "subject": subject,
            "preheader": preheader,
            "body": body.strip(),
            "call_to_action": self.pick(self.voice["ctas"], i),
        }

    def spoken(self, angle: str, i: int) -> dict:
        tail = self.disclaimers("spoken")
        product = self.pick(self.products, i)
        brand = self.guide.brand
        # Sentences are added until the 15 s script fills at least 20 words (it stays under 38).
        sentences = [_sentence(self.lead(angle, i)), f"Only at {brand}.", tail]
        extra = [_sentence(self.pick(self.voice["openers"], i)), self.voice["closer"], f"Find us at {self.guide.website}."]
        while len(" ".join(sentences).split()) < 20 and extra:
            sentences.insert(-1, extra.pop(0))
        short = " ".join(sentences)
        long = " ".join([
            _sentence(self.pick(self.voice["openers"], i)),
            f"At {brand} we make everyday essentials, from {product} to {self.products[(i + 1) % len(self.products)]}, "
            "built to be used and made to last.",
            f"Right now you get {self.offer}.", self.terms, self.voice["closer"],
            f"Find us at {self.guide.website}.", tail,
        ])  # fmt: skip
        return {"script_15s": short, "script_30s": long.replace("  ", " ")}

    def print(self, angle: str, i: int) -> dict:
        headline = _fit([_title(self.lead(angle, i)), _title(self.offer)], 60)
        body = " ".join([
            _sentence(self.pick(self.voice["openers"], i)),
            f"Everyday {self.pick(self.products, i)} and {self.products[(i + 1) % len(self.products)]}, built to be used "
            f"and made to last, now with {self.offer}.", self.terms, f"Visit {self.guide.website}.",
            self.disclaimers("print"),
        ])  # fmt: skip
        return {"headline": headline, "body": body}

    def cold_email(self, angle: str, i: int) -> dict:
        role = self.brief.role or "sales"
        roles = self.guide.b2b.get("roles", {})
        if role not in roles:
            raise ValueError(f"unknown B2B role {role!r}; the brand guide defines: {', '.join(roles)}")
        pain, value = roles[role]["pain"], roles[role]["value"]
        subject = (
            _fit([f"{_cap(value)}", f"{self.guide.brand} for your team"], 60)
            if angle != "offer"
            else _fit([f"{_cap(self.guide.b2b.get('offer', 'team kits'))}", f"{self.guide.brand} for teams"], 60)
        )
        body = " ".join([
            "Hi,",
            f"many teams tell us the hard part is {pain}.",
            f"{self.guide.brand} offers {self.guide.b2b.get('offer', 'team kits')}: {value}.",
            "Would a short call next week be useful? I can send a sample kit first.",
            self.disclaimers("cold_email"),
        ])  # fmt: skip
        return {"subject": subject, "body": body}


def write_offline(brief: CopyBrief, fmt: Format, guide: BrandGuide, *, n_variants: int = 2, seed: int = 0) -> dict:
    """``{"variants": [...]}``: ``n_variants`` distinct copy variants of ``fmt`` for ``brief``.

    Deterministic for the same brief, format, guide and seed. Variant k takes angle k of the rotation
    that starts at the seed, so the two A/B variants lead differently."""
    if n_variants < 1:
        raise ValueError(f"n_variants must be >= 1, got {n_variants}")
    writer = _Writer(brief, guide, seed)
    make = getattr(writer, fmt.name)
    start = seed % len(ANGLES)
    variants, seen = [], set()
    i = 0
    while len(variants) < n_variants and i < 12 * n_variants:
        variant = make(ANGLES[(start + i) % len(ANGLES)], i)
        key = repr(sorted(variant.items()))
        if key not in seen:
            seen.add(key)
            variants.append(variant)
        i += 1
    if len(variants) < n_variants:
        raise ValueError(f"only {len(variants)} distinct {fmt.name} variants for this brief, asked for {n_variants}")
    return {"variants": variants}
