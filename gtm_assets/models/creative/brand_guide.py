"""The brand guide (data/brand_guide.yaml): voice, banned phrases, required disclaimers per format,
claims policy, offer wording and terms, channel formats, the broadcast brief and B2B roles."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

REQUIRED_KEYS = ("brand", "voice", "banned_phrases", "required_disclaimers", "claims_policy", "offers",
                 "channel_formats", "broadcast_brief", "b2b")  # fmt: skip


class BrandGuideError(ValueError):
    """The brand guide file is missing, unreadable or lacks a section."""


@dataclass(frozen=True)
class BrandGuide:
    brand: str
    website: str
    what_we_sell: str
    products: tuple[str, ...]
    voice: dict
    banned_phrases: tuple[str, ...]
    required_disclaimers: dict[str, tuple[str, ...]]
    claims_policy: dict
    offers: dict[str, dict]
    channel_formats: dict[str, str]
    broadcast_brief: dict
    b2b: dict
    sha256: str

    def disclaimers(self, format_name: str) -> tuple[str, ...]:
        return self.required_disclaimers.get(format_name, ())

    def offer_phrase(self, offer_type: str, figures: dict) -> str:
        offer = self.offers.get(offer_type)
        if offer is None:
            return offer_type.replace("_", " ")
        try:
            return offer["phrase"].format(**{k: f"{v:g}" if isinstance(v, int | float) else v for k, v in figures.items()})
        except KeyError as missing:
            raise BrandGuideError(
                f"offer {offer_type!r} phrase needs figure {missing} (brief figures: {sorted(figures)})"
            ) from None

    def offer_terms(self, offer_type: str) -> str:
        return self.offers.get(offer_type, {}).get("terms", "")

    def substantiated_numbers(self) -> set[str]:
        return {str(n) for n in self.claims_policy.get("substantiated_numbers", [])}

    def prompt_sections(self, format_name: str) -> dict:
        """The parts of the guide an LLM needs to write one format's copy."""
        return {
            "brand": self.brand,
            "website": self.website,
            "what_we_sell": self.what_we_sell,
            "products": list(self.products),
            "voice": self.voice,
            "banned_phrases": list(self.banned_phrases),
            "required_disclaimers": list(self.disclaimers(format_name)),
            "claims_policy": {
                "superlatives_need_approval": self.claims_policy.get("superlatives", []),
                "never_promise": self.claims_policy.get("outcome_promises", []),
                "numbers_allowed_besides_the_offer": sorted(self.substantiated_numbers()),
            },
        }


def load_brand_guide(path: Path) -> BrandGuide:
    """Read and check the brand guide; BrandGuideError names the file and the missing section."""
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as error:
        raise BrandGuideError(f"{path}: cannot read the brand guide ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise BrandGuideError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BrandGuideError(f"{path}: expected a mapping of sections")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise BrandGuideError(f"{path}: missing section(s) {', '.join(missing)}")
    return BrandGuide(
        brand=str(data["brand"]),
        website=str(data.get("website", "")),
        what_we_sell=str(data.get("what_we_sell", "")),
        products=tuple(str(p) for p in data.get("products", [])) or ("essentials",),
        voice=dict(data["voice"]),
        banned_phrases=tuple(str(p).lower() for p in data["banned_phrases"]),
        required_disclaimers={k: tuple(v or ()) for k, v in data["required_disclaimers"].items()},
        claims_policy=dict(data["claims_policy"]),
        offers=dict(data["offers"]),
        channel_formats=dict(data["channel_formats"]),
        broadcast_brief=dict(data["broadcast_brief"]),
        b2b=dict(data["b2b"]),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
