"""Reports and exports built from a wave's estimates: PDFs for officials, tables for analysts.

Pure of the web layer: every builder takes plain data (``WaveResults`` and a ``ReportMeta``)
and returns bytes; ``surveyapp.services.reports`` gathers the data, caches and serves them.
"""

from .district import build_district_pdf
from .model import ReportError, ReportMeta, ReportOptions, WarningRules, WaveHistory
from .street import build_street_pdf
from .wording import ReportLanguageError, report_language

__all__ = [
    "ReportError",
    "ReportLanguageError",
    "ReportMeta",
    "ReportOptions",
    "WarningRules",
    "WaveHistory",
    "build_district_pdf",
    "build_street_pdf",
    "report_language",
]
