"""Writing one ad set's copy: the LLM when one is configured, the offline copywriter otherwise or as the
fallback, and the compliance check on every variant either way.

The LLM gets the brief (no segment label), the format's fields and limits, and the brand guide's
voice, banned phrases, disclaimers and claims policy; its answer must match the format's JSON schema.
LLM variants that come back red or amber are kept (red is recorded as blocked, never shipped; amber waits
for a human approval) and the offline copywriter fills the ad set up to the number of green variants asked
for, so a bad answer never leaves a campaign without ads. Every variant records which generator wrote it and why the LLM was not
used when it was not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gtm_assets.models.creative import GREEN, BrandGuide, ComplianceResult, CopyBrief, Format, check_creative, write_offline
from gtm_assets.outbound.llm import LLMCall, LLMClient, LLMConfigurationError, LLMError

COPY_SYSTEM_PROMPT = (
    "You write advertising copy for the brand described in `brand_guide`, in the format described in "
    '`format`. Answer with JSON only, matching the schema you are given: {"variants": [ ... ]}, each '
    "variant an object with exactly the format's fields. Respect every character or word limit, include "
    "every required disclaimer verbatim, follow the voice and the brief's do and don't lists, use no "
    "banned phrase, make no claim or number that the offer or the guide does not support, and address "
    "the reader as a person: never name a segment, cohort, persona or cluster."
)


@dataclass
class WrittenVariant:
    copy: dict
    generator: str  # "llm" or "offline"
    fallback_reason: str | None
    compliance: ComplianceResult


@dataclass
class WrittenAdSet:
    variants: list[WrittenVariant]
    calls: list[LLMCall] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _request(brief: CopyBrief, fmt: Format, guide: BrandGuide, n_variants: int) -> dict:
    return {
        "brief": brief.as_prompt(),
        "format": {
            "name": fmt.name,
            "description": fmt.description,
            "fields": [
                {
                    "name": f.name,
                    **({"items": f.count} if f.count else {}),
                    **({"max_characters": f.max_chars} if f.max_chars else {}),
                    **({"max_words": f.max_words} if f.max_words else {}),
                    **({"min_words": f.min_words} if f.min_words else {}),
                }
                for f in fmt.fields
            ],
        },
        "offer": {
            "wording": guide.offer_phrase(brief.offer_type, brief.offer_figures),
            "terms": guide.offer_terms(brief.offer_type),
        },
        "brand_guide": guide.prompt_sections(fmt.name),
        "variants": n_variants,
    }


def write_ad_set_copy(
    llm: LLMClient,
    brief: CopyBrief,
    fmt: Format,
    guide: BrandGuide,
    *,
    n_variants: int,
    seed: int,
    internal_labels: tuple[str, ...],
) -> WrittenAdSet:
    """``n_variants`` green variants for one ad set, plus any red or amber LLM variants, each with
    its compliance result. LLMConfigurationError propagates: a misconfigured LLM is a clear failure."""

    def checked(copy: dict, generator: str, reason: str | None) -> WrittenVariant:
        result = check_creative(copy, fmt, guide=guide, offer_figures=brief.offer_figures, internal_labels=internal_labels)
        return WrittenVariant(copy, generator, reason, result)

    written = WrittenAdSet([])
    reason = None
    if llm.enabled:
        try:
            call = llm.call_json(
                COPY_SYSTEM_PROMPT,
                _request(brief, fmt, guide, n_variants),
                schema=fmt.json_schema(n_variants),
                name=f"{fmt.name}_copy",
            )
            written.calls.append(call)
            written.variants = [checked(v, "llm", None) for v in call.data["variants"][:n_variants]]
        except LLMConfigurationError:
            raise
        except LLMError as error:
            reason = str(error)
            written.failures.append(reason)
    ready = [v for v in written.variants if v.compliance.light == GREEN]
    if len(ready) < n_variants:
        if written.variants and reason is None:
            reason = (
                f"{len(written.variants) - len(ready)} LLM variant(s) not green (red is blocked, amber waits for an "
                "approval); offline copy fills the ad set"
            )
        offline = write_offline(brief, fmt, guide, n_variants=n_variants - len(ready), seed=seed)["variants"]
        written.variants += [checked(v, "offline", reason) for v in offline]
    return written
