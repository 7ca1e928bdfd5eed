"""Spoken scripts as audio. Backends, in order: the LLM resource's speech model (OpenAI /audio/speech)
when one is configured, else espeak-ng (Debian package, offline) when it is installed, else none: the
creative then carries its scripts only and says so."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from gtm_assets.outbound.llm import LLMClient, LLMError


@dataclass(frozen=True)
class Audio:
    path: str | None
    duration_seconds: float | None
    backend: str  # "openai_speech", "espeak-ng" or "none"
    note: str | None = None


def _duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return round(wav.getnframes() / float(wav.getframerate()), 2)


def available_backend(llm: LLMClient) -> str:
    if llm.enabled and llm.speech_model:
        return "openai_speech"
    if shutil.which("espeak-ng"):
        return "espeak-ng"
    return "none"


def synthesize(text: str, path: Path, llm: LLMClient) -> Audio:
    """Write ``text`` as a WAV file at ``path`` with the first available backend."""
    backend = available_backend(llm)
    if backend == "none":
        return Audio(None, None, "none", "no text-to-speech backend (install espeak-ng or configure GTM_LLM_SPEECH_MODEL)")
    path.parent.mkdir(parents=True, exist_ok=True)
    if backend == "openai_speech":
        try:
            path.write_bytes(llm.speech(text))
            return Audio(str(path), _duration(path), backend)
        except (LLMError, wave.Error, EOFError) as error:
            note = f"speech model failed ({error}); espeak-ng used instead"
            if not shutil.which("espeak-ng"):
                return Audio(None, None, "none", note.replace("espeak-ng used instead", "no offline backend"))
            backend = "espeak-ng"
    else:
        note = None
    completed = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], capture_output=True, text=True, timeout=60
    )
    if completed.returncode != 0 or not path.exists():
        return Audio(None, None, "none", f"espeak-ng failed: {completed.stderr.strip()[:200]}")
    return Audio(str(path), _duration(path), backend, note)
