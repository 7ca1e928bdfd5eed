"""Creative formats per channel with the limits the platforms enforce, and the JSON schema of a
format's copy variants (the one output shape of the offline copywriter and of the LLM).

Limits: Google responsive search ads take up to 15 headlines of at most 30 characters and up to 4
descriptions of at most 90; Meta feed ads show about 125 characters of primary text and a headline of
at most 40; Google responsive display ads take a short headline of 30, a long headline of 90 and a
description of 90; e-mail subjects are cut at about 60 characters in most inboxes; spoken spots are
read at about 2.5 words a second, so a 15 s script has at most 38 words and a 30 s script at most 75.
"""

from __future__ import annotations

from dataclasses import dataclass

WORDS_PER_SECOND = 2.5


@dataclass(frozen=True)
class Field:
    """One copy field: text with a character (or spoken-word) limit, or a list of ``count`` texts."""

    name: str
    max_chars: int | None = None
    max_words: int | None = None
    min_words: int | None = None
    count: int | None = None  # a list of exactly this many texts when set

    def limit_violations(self, value) -> list[str]:
        """Why ``value`` breaks this field's limits (empty when it fits)."""
        texts = value if self.count is not None else [value]
        problems = []
        if self.count is not None and len(texts) != self.count:
            problems.append(f"{self.name}: {len(texts)} items, needs {self.count}")
        for i, text in enumerate(texts):
            where = f"{self.name}[{i + 1}]" if self.count is not None else self.name
            if self.max_chars is not None and len(text) > self.max_chars:
                problems.append(f"{where}: {len(text)} characters > {self.max_chars}")
            words = len(text.split())
            if self.max_words is not None and words > self.max_words:
                problems.append(f"{where}: {words} words > {self.max_words} ({self.max_words / WORDS_PER_SECOND:.0f} s)")
            if self.min_words is not None and words < self.min_words:
                problems.append(f"{where}: {words} words < {self.min_words} (too short to fill the spot)")
        return problems


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    fields: tuple[Field, ...]
    spoken: bool = False

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def texts(self, copy: dict) -> list[str]:
        """Every text of a variant of this format, in field order."""
        out = []
        for f in self.fields:
            value = copy.get(f.name)
            if value is None:
                continue
            out += list(value) if f.count is not None else [value]
        return out

    def json_schema(self, n_variants: int) -> dict:
        """Schema of ``{"variants": [...]}`` with at least ``n_variants`` complete variants. Lengths are
        not in the schema: over-length copy is kept and blocked by the compliance check, never trimmed."""
        properties, required = {}, []
        for f in self.fields:
            text = {"type": "string", "minLength": 1}
            properties[f.name] = {"type": "array", "items": text, "minItems": f.count, "maxItems": f.count} if f.count else text
            required.append(f.name)
        return {
            "type": "object",
            "required": ["variants"],
            "properties": {
                "variants": {
                    "type": "array",
                    "minItems": n_variants,
                    "items": {"type": "object", "required": required, "properties": properties},
                }
            },
        }


SPOT_15S_WORDS = int(15 * WORDS_PER_SECOND)
SPOT_30S_WORDS = int(30 * WORDS_PER_SECOND)

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "search_rsa",
            "responsive search ad: 15 headlines, 4 descriptions",
            (Field("headlines", max_chars=30, count=15), Field("descriptions", max_chars=90, count=4)),
        ),
        Format(
            "social",
            "social feed ad: primary text, headline, call to action",
            (Field("primary_text", max_chars=125), Field("headline", max_chars=40), Field("call_to_action", max_chars=20)),
        ),
        Format(
            "display",
            "responsive display ad: short and long headline, description",
            (
                Field("short_headline", max_chars=30),
                Field("long_headline", max_chars=90),
                Field("description", max_chars=90),
                Field("call_to_action", max_chars=20),
            ),
        ),
        Format(
            "email",
            "e-mail: subject, preheader, body, call to action",
            (
                Field("subject", max_chars=60),
                Field("preheader", max_chars=100),
                Field("body", max_chars=600),
                Field("call_to_action", max_chars=25),
            ),
        ),
        Format(
            "spoken",
            "TV / CTV / radio spot: a 15 s and a 30 s spoken script",
            (
                Field("script_15s", max_words=SPOT_15S_WORDS, min_words=20),
                Field("script_30s", max_words=SPOT_30S_WORDS, min_words=45),
            ),
            spoken=True,
        ),
        Format("print", "print ad: headline and body", (Field("headline", max_chars=60), Field("body", max_chars=400))),
        Format(
            "cold_email",
            "cold e-mail to a B2B prospect, written for the reader's role",
            (Field("subject", max_chars=60), Field("body", max_chars=700)),
        ),
    )
}


def format_for_channel(channel: str, channel_formats: dict[str, str]) -> Format:
    """The format a channel's creatives use (brand guide ``channel_formats``, matched case-insensitively)."""
    by_lower = {name.lower(): fmt for name, fmt in channel_formats.items()}
    name = by_lower.get(channel.lower())
    if name is None:
        raise ValueError(
            f"channel {channel!r} has no creative format: add it to channel_formats in the brand guide "
            f"(formats: {', '.join(FORMATS)})"
        )
    if name not in FORMATS:
        raise ValueError(f"brand guide maps channel {channel!r} to unknown format {name!r} (formats: {', '.join(FORMATS)})")
    return FORMATS[name]
