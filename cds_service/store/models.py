"""SQLAlchemy tables: cards issued, feedback on them, and JWT ids seen (replay cache).

No PHI: patients appear only as a salted hash, and no token is ever stored.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CardIssued(Base):
    __tablename__ = "cards_issued"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    indicator: Mapped[str] = mapped_column(String(16))
    service_id: Mapped[str] = mapped_column(String(64))
    hook_instance: Mapped[str] = mapped_column(String(128))
    patient_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Site governance (issue 13) and audit (issue 12); store.migrations adds them to older databases.
    status: Mapped[str] = mapped_column(String(16), default="issued", server_default="issued")  # | silent | suppressed
    repeats_card: Mapped[str] = mapped_column(String(64), default="", server_default="")  # suppressed: the answered card
    fact_refs: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON list of "Type/id"
    evidence_fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")


class FeedbackItem(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("fingerprint", name="uq_feedback_fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # sha256 of the canonical JSON of the item + service: the same feedback posted twice is stored once
    fingerprint: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    card_uuid: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[str] = mapped_column(Text, default="")  # comma-separated suggestion uuids
    override_system: Mapped[str] = mapped_column(String(256), default="")
    override_code: Mapped[str] = mapped_column(String(128), default="")
    override_display: Mapped[str] = mapped_column(String(512), default="")
    user_comment: Mapped[str] = mapped_column(Text, default="")
    outcome_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenJwt(Base):
    __tablename__ = "seen_jwt"
    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_seen_jwt"), Index("ix_seen_jwt_expires", "expires_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(512))
    jti: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lockout(Base):
    """A clinician answered a patient-view card: the same rule, patient and evidence stay quiet for the
    rule's lockout days after `locked_at` (days read from the site file at query time)."""

    __tablename__ = "lockouts"
    __table_args__ = (UniqueConstraint("patient_hash", "rule_id", "evidence_fingerprint", name="uq_lockout"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_hash: Mapped[str] = mapped_column(String(64), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    evidence_fingerprint: Mapped[str] = mapped_column(String(64))
    card_uuid: Mapped[str] = mapped_column(String(64))  # the card answered
    outcome: Mapped[str] = mapped_column(String(16))
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
