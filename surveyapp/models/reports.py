"""Background jobs started from the officials' portal (ZIP of all street reports, exports)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

JOB_STATES = ("queued", "running", "done", "failed")


class ReportJob(db.Model):
    """One background job: what it makes, for whom, how far it is, where its file is."""

    __tablename__ = "report_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "zip" or "responses"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    result_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0
