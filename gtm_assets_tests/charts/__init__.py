"""Charts as the UI shows them."""
