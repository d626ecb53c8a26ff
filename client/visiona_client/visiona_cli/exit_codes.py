"""Exit codes of ``visiona``, shared by every command (a CI step can trust them)."""

OK = 0
FAILED = 1  # a failure the server reported, or the job failed
BAD_INPUT = 2  # usage, a file, a pre-flight blocker
AUTH = 3  # no, invalid or expired token
SERVER = 4  # the server or the network
INTERRUPTED = 130
