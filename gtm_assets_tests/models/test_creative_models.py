"""The offline copywriter, the channel formats and every layer of the compliance check, on hand-built copy."""

import itertools
import json
from pathlib import Path

import pytest

from gtm_assets.models.creative import (
    AMBER,
    FORMATS,
    GREEN,
    RED,
    ROLES,
    TONES,
    BrandGuideError,
    CopyBrief,
    check_creative,
    load_brand_guide,
    write_offline,
)  # fmt: skip
from gtm_assets_tests.conftest import REPO

GUIDE = load_brand_guide(REPO / "data" / "brand_guide.yaml")
OFFERS = {"discount": {"discount_pct": 20}, "free_shipping": {}, "free_trial": {}, "loyalty": {"points_multiplier": 2},
          "bundle": {}}  # fmt: skip
LABELS = ("Champions", "Mid-Career", "Legacy", "Deal Seekers & Web Shoppers")


def _brief(tone="warm", offer="discount", role=None) -> CopyBrief:
    return CopyBrief(
        audience="1,200 web users who buy often",
        responds_to="recognition",
        tone=tone,
        offer_type=offer,
        offer_figures=OFFERS[offer],
        role=role,
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_offline_copy_is_green_in_every_format_tone_and_offer(fmt):
    for tone, offer, seed in itertools.product(TONES, OFFERS, range(3)):
        brief = _brief(tone, offer, role=ROLES[seed % len(ROLES)])
        variants = write_offline(brief, FORMATS[fmt], GUIDE, n_variants=2, seed=seed)["variants"]
        assert len(variants) == 2 and variants[0] != variants[1]
        for variant in variants:
            result = check_creative(variant, FORMATS[fmt], guide=GUIDE, offer_figures=brief.offer_figures, internal_labels=LABELS)
            assert result.light == GREEN, (tone, offer, result.reasons)


def test_search_ads_have_fifteen_short_headlines_and_four_descriptions():
    copy = write_offline(_brief(), FORMATS["search_rsa"], GUIDE, n_variants=2)["variants"]
    for variant in copy:
        assert len(variant["headlines"]) == 15 and len(set(variant["headlines"])) == 15
        assert all(len(h) <= 30 for h in variant["headlines"])
        assert len(variant["descriptions"]) == 4 and all(len(d) <= 90 for d in variant["descriptions"])


def test_spoken_scripts_fit_fifteen_and_thirty_seconds():
    for tone in TONES:
        for variant in write_offline(_brief(tone), FORMATS["spoken"], GUIDE, n_variants=2)["variants"]:
            assert 20 <= len(variant["script_15s"].split()) <= 37
            assert 45 <= len(variant["script_30s"].split()) <= 75
            assert all("Terms apply, see shop.example.com." in variant[k] for k in ("script_15s", "script_30s"))


def test_copy_varies_with_channel_offer_and_tone_not_only_a_swapped_label():
    texts = {
        (offer, tone): json.dumps(write_offline(_brief(tone, offer), FORMATS["social"], GUIDE, n_variants=1)["variants"][0])
        for offer in OFFERS
        for tone in TONES
    }
    assert len(set(texts.values())) == len(texts)
    email = write_offline(_brief(), FORMATS["email"], GUIDE, n_variants=1)["variants"][0]
    assert "Unsubscribe anytime." in email["body"] and "20% off" in email["subject"] + email["body"]


def test_cold_email_is_written_for_the_readers_role():
    bodies = {
        role: write_offline(_brief(role=role), FORMATS["cold_email"], GUIDE, n_variants=1)["variants"][0]["body"]
        for role in ROLES
    }
    for role, body in bodies.items():
        assert GUIDE.b2b["roles"][role]["pain"] in body and 'Reply "no thanks"' in body
    assert len(set(bodies.values())) == 3


def test_the_writer_is_deterministic():
    first = write_offline(_brief("playful"), FORMATS["display"], GUIDE, n_variants=3, seed=5)
    assert first == write_offline(_brief("playful"), FORMATS["display"], GUIDE, n_variants=3, seed=5)


SOCIAL = FORMATS["social"]
CLEAN = {
    "primary_text": "20% off trail runners this week. Terms apply.",
    "headline": "20% Off Trail Runners",
    "call_to_action": "Shop now",
}


@pytest.mark.parametrize(
    ("change", "layer", "rule", "severity"),
    [
        ({"headline": "Guaranteed comfort, all day"}, "brand", "banned_phrase", RED),
        ({"primary_text": "20% off trail runners this week."}, "brand", "missing_disclaimer", RED),
        ({"headline": "The best trail runners"}, "claims", "superlative", AMBER),
        ({"headline": "Save 35% on trail runners"}, "claims", "unsubstantiated_number", AMBER),
        ({"headline": "Results in days or it's free"}, "claims", "outcome_promise", RED),
        (
            {"primary_text": "Trail runners, perfect for seniors only. Terms apply."},
            "targeting",
            "protected_class_targeting",
            RED,
        ),
        ({"primary_text": "Our team includes wheelchair users. Terms apply."}, "targeting", "protected_class_mention", AMBER),
        (
            {"primary_text": "Low APR financing for retirees. Terms apply."},
            "targeting",
            "protected_class_in_special_category",
            RED,
        ),
        ({"primary_text": "Apartments to rent near the trail. Terms apply."}, "targeting", "special_ad_category", AMBER),
        ({"headline": "Only idiots pay full price"}, "toxicity", "lexicon", RED),
        ({"primary_text": "Questions? Write to help@northbound.example. Terms apply."}, "pii", "email", RED),
        ({"primary_text": "Call +1 415 555 0199 today. Terms apply."}, "pii", "phone", RED),
        ({"headline": "Hello, Champions!"}, "audience", "internal_label", RED),
        ({"headline": "A headline that is far too long for a feed ad slot"}, "format", "length", RED),
        ({"call_to_action": ""}, "format", "missing_field", RED),
    ],
)
def test_each_compliance_layer_catches_its_violation(change, layer, rule, severity):
    result = check_creative({**CLEAN, **change}, SOCIAL, guide=GUIDE, offer_figures={"discount_pct": 20}, internal_labels=LABELS)
    assert any((f.layer, f.rule, f.severity) == (layer, rule, severity) for f in result.findings), result.reasons
    assert result.light == severity and result.score < 1


def test_clean_copy_is_green_and_a_black_beanie_is_not_a_protected_class():
    assert check_creative(CLEAN, SOCIAL, guide=GUIDE, offer_figures={"discount_pct": 20}, internal_labels=LABELS).light == GREEN
    beanie = {**CLEAN, "headline": "The Black Merino Beanie"}
    assert check_creative(beanie, SOCIAL, guide=GUIDE, offer_figures={"discount_pct": 20}).light == GREEN


def test_brand_guide_errors_name_the_file_and_section(tmp_path):
    broken = tmp_path / "guide.yaml"
    broken.write_text("brand: X\nvoice: {}\n")
    with pytest.raises(BrandGuideError, match=r"guide.yaml: missing section\(s\) banned_phrases"):
        load_brand_guide(broken)
    with pytest.raises(BrandGuideError, match="cannot read"):
        load_brand_guide(Path(tmp_path / "missing.yaml"))
