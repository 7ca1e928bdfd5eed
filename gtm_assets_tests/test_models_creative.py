"""Tests for the offline template copy generator and its compliance check."""

import pytest

from gtm_assets.models.creative import (
    CHANNELS,
    STYLES,
    check_compliance,
    generate_copy,
)

BRIEF = {
    "segment_name": "Lapsed high spenders",
    "description": "Customers who spent over 1,000 last year but have not ordered in 90 days. "
    "They respond to premium bundles.",
    "tone": "warm",
    "offer_type": "discount",
    "key_figures": {"discount_pct": 20, "avg_order_value": 85.0},
    "deadline": "Sunday",
}


def test_generation_is_deterministic():
    first = generate_copy(BRIEF, channel="email", style="urgent", n_variants=3, seed=7)
    assert first == generate_copy(BRIEF, channel="email", style="urgent", n_variants=3, seed=7)
    assert len({(v["headline"], v["body"]) for v in first}) == 3
    others = [generate_copy(BRIEF, channel="email", style="urgent", n_variants=3, seed=s) for s in range(5)]
    assert any(o != first for o in others)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("style", STYLES)
def test_lengths_and_clean_copy(channel, style):
    long_name = dict(BRIEF, segment_name="Enterprise procurement managers in EMEA and APAC")
    for brief in (BRIEF, long_name):
        for variant in generate_copy(brief, channel=channel, style=style, n_variants=2, seed=1):
            assert 0 < len(variant["headline"]) <= 40
            assert 0 < len(variant["body"]) <= 140
            if channel == "search":
                assert len(variant["headline"]) <= 30 and len(variant["body"]) <= 90
            assert "20% off" in variant["headline"] + variant["body"]
            assert variant["call_to_action"]
            assert variant["compliance"] == {"score": 1.0, "failed_rules": []}
            if channel == "email":
                assert variant["body"].endswith("Unsubscribe anytime.")


def test_injected_banned_phrase_lowers_score_and_is_listed():
    risky = dict(BRIEF, description="Guaranteed savings. The best ever deal.")
    clean = generate_copy(BRIEF, channel="social", style="professional", n_variants=2, seed=0)
    flagged = generate_copy(risky, channel="social", style="professional", n_variants=2, seed=0)
    quoted = [v for v in flagged if "Guaranteed" in v["body"]]
    assert quoted
    for variant in quoted:
        assert variant["compliance"]["score"] < min(v["compliance"]["score"] for v in clean)
        assert "banned_phrase:guaranteed" in variant["compliance"]["failed_rules"]
        assert "banned_phrase:best ever" in variant["compliance"]["failed_rules"]


def test_compliance_rules():
    result = check_compliance("Risk-free upgrade", "Switch today.", "Shop now", channel="email")
    assert result["failed_rules"] == ["banned_phrase:risk-free", "missing_opt_out"]
    assert result["score"] == pytest.approx(0.3)
    too_long = check_compliance("x" * 41, "y" * 141, "Go", channel="display")
    assert too_long["failed_rules"] == ["headline_too_long:41>40", "body_too_long:141>140"]
    assert too_long["score"] == pytest.approx(0.6)


def test_unknown_style_or_channel_lists_valid_values():
    with pytest.raises(ValueError, match="valid values: professional, playful, urgent, warm"):
        generate_copy(BRIEF, channel="email", style="sarcastic")
    with pytest.raises(ValueError, match="valid values: email, social, display, search"):
        generate_copy(BRIEF, channel="tv", style="warm")
    with pytest.raises(ValueError, match="segment_name"):
        generate_copy({"offer_type": "discount"}, channel="email", style="warm")
