"""The exit codes of ``visiona``, shared by every command: a CI step can trust them.

0 only on success. The pre-flight check (check.py) uses the same numbers.
"""

OK = 0
# The server refused what was asked (e.g. a job already running), or the job or
# deployment ended failed.
FAILURE = 1
# Bad input: usage, a missing or unreadable file, a pre-flight blocker, an unknown id.
BAD_INPUT = 2
# No token, or one that is invalid, expired, revoked or lacks the scope.
AUTH = 3
# The server or the network failed (5xx, timeout, unreachable).
SERVER = 4
# visiona run: the run completed, and an --expect expectation failed (the CI gate).
EXPECTATION = 5
# Ctrl-C.
INTERRUPTED = 130
