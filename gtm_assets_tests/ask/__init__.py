"""`gtm ask` and the executive report."""
