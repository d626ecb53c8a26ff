# One date-and-time format for English pages (and Django admin): 1 Dec 2026, 20:22.
# Short and long are the same on purpose: every page shows a time one way.
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
