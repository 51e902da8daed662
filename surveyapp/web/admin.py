"""Administrators' pages: the audit log."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..auth import roles_required
from ..services import audit

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    """Show the latest audit events, optionally of one action."""
    action = request.args.get("action") or None
    return render_template("admin/audit.html", events=audit.recent(500, action), action=action)


@bp.route("/audit.csv")
@roles_required("admin")
def audit_csv():
    """Download the whole audit log as CSV."""
    audit.record("audit_exported", "audit.csv", commit=True)
    return Response(
        audit.export_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )
