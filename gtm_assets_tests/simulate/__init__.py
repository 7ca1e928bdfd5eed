"""The simulator and the worlds the truth tests draw."""
