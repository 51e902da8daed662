"""Reports and exports built from a wave's estimates: PDFs for officials, tables for analysts.

Pure of the web layer: every builder takes plain data (``WaveResults`` and a ``ReportMeta``)
and returns bytes; ``surveyapp.services.reports`` gathers the data, caches and serves them.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use (PEP 562): ``surveyapp.reports.cells`` is imported by the estimate
# command, which must start without the PDF builders (and scipy, which they pull in).
_WHERE = {
    "build_district_pdf": "district",
    "ReportError": "model",
    "ReportMeta": "model",
    "ReportOptions": "model",
    "WarningRules": "model",
    "WaveHistory": "model",
    "build_street_pdf": "street",
    "ReportLanguageError": "wording",
    "report_language": "wording",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
