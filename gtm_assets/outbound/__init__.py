"""Calls that leave the machine: the LLM, the DSP, the ad platforms (one HTTP transport), notifications and speech."""
