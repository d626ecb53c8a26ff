"""ONNX pre-flight: a streaming scan of the model and its verdict for a Kneron chip.

One implementation for the ``visiona`` command line (``scan_file``) and the server's
upload proxy (``Scanner`` fed with the bytes as they pass). No Django here.

    summary = scan_file("model.onnx")            # or Scanner().feed(...) / .finish()
    report = check(summary, "KL720")              # report.blockers, report.warnings
    print(format_report(report))
"""

from visiona_client.preflight.rules import Finding, Report, blockers, check, chip_code
from visiona_client.preflight.scanner import Scanner, scan_file
from visiona_client.preflight.summary import OnnxSummary, ValueInfo
from visiona_client.preflight.text import format_report

__all__ = [
    "Finding",
    "OnnxSummary",
    "Report",
    "Scanner",
    "ValueInfo",
    "blockers",
    "check",
    "chip_code",
    "format_report",
    "scan_file",
]
