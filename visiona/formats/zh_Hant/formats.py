# One date-and-time format for Traditional Chinese pages (and Django admin): 2026年12月1日 20:22.
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = DATE_FORMAT
