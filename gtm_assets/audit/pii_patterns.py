"""Patterns of personal data that must never appear past the raw zone: used by the blocking no_raw_pii
checks (as DuckDB regular expressions) and by the creative compliance check (as Python ones)."""

EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
IPV4_PATTERN = r"(^|[^0-9.])((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])($|[^0-9.])"
IPV6_PATTERN = r"(^|[^0-9A-Fa-f:])(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}(:[0-9A-Fa-f]{1,4}){1,6}|::([0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})($|[^0-9A-Fa-f:])"
PII_PATTERNS = {"email": EMAIL_PATTERN, "ipv4": IPV4_PATTERN, "ipv6": IPV6_PATTERN}
# Phone numbers matter in copy (not in the tables, whose digits are ids and amounts): 7+ digits with
# optional separators, optionally with a country code.
PHONE_PATTERN = r"(\+\d{1,3}[\s.-]?)?(\(?\d{2,4}\)?[\s.-]?){2,4}\d{3,4}"
