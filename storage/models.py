"""The case store: members, staff, cases, their trail, relayed messages, the outbox, misses."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from storage.crypto import EncryptedJSON, EncryptedText, encrypted


def utcnow() -> datetime:
    return datetime.now(UTC)


class CaseKind(StrEnum):
    CONSULTATION = "consultation"  # 转人工: a question handed to staff
    APPLICATION = "application"  # a filed form


class CaseStatus(StrEnum):
    """已提交 → 已受理 → 待补件 ⇄ 办理中 → 已办结 / 已驳回; 已撤回 by the member before
    acceptance; 已结束 for a consultation ended with /close or by the member; 已过期关闭 for a
    case with no activity for the keeping time."""

    OPEN = "open"  # 已提交: filed, waiting for staff to accept it
    ACCEPTED = "accepted"  # 已受理: a caseworker has it
    IN_PROGRESS = "in_progress"  # 办理中
    WAITING_MEMBER = "waiting_member"  # 待补件: staff asked the member for materials
    COMPLETED = "completed"  # 已办结
    REJECTED = "rejected"  # 已驳回
    WITHDRAWN = "withdrawn"  # 已撤回
    CLOSED = "closed"  # 已结束: a consultation that ended
    # 已过期关闭: no activity for the keeping time; closed by the bot and emptied (bot.retention)
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = {
    CaseStatus.COMPLETED,
    CaseStatus.REJECTED,
    CaseStatus.WITHDRAWN,
    CaseStatus.CLOSED,
    CaseStatus.EXPIRED,
}


class Rating(StrEnum):
    """The member's rating of how a case was handled (回访)."""

    SATISFIED = "satisfied"  # 满意
    FAIR = "fair"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class StaffRole(StrEnum):
    HANDLER = "handler"  # acts on cases
    LEAD = "lead"  # also reassigns to a person and sees statistics
    ADMIN = "admin"  # also manages the roster and exports full data

    @property
    def rank(self) -> int:
        return list(StaffRole).index(self)

    def at_least(self, other: StaffRole) -> bool:
        return self.rank >= other.rank


ALL_DEPARTMENTS = "全部"  # a staffer of every department


class Actor(StrEnum):
    MEMBER = "member"
    STAFF = "staff"
    BOT = "bot"


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The last question the bot could not settle, so that 转人工 can hand it over.
    pending_question: str | None = Field(default=None, sa_type=EncryptedText)
    pending_question_at: datetime | None = None
    pending_duty: str | None = None  # the duty it was confidently routed to
    # 转人工 pressed with no question at hand: the next text is the question.
    awaiting_handoff: bool = False
    handoff_duty: str | None = None
    # What the member agreed to have remembered for the next application (name, phone, unit),
    # and when they agreed; /profile shows and deletes it.
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(EncryptedJSON))
    profile_consented_at: datetime | None = None
    blocked: bool = False
    # The case whose rating the member just gave: their next text is its optional comment.
    awaiting_comment_case: int | None = None
    # Flood control: a token bucket (how many messages the member may send at once now, as of
    # `flood_at`), and until when a flooding member's messages are set aside.
    flood_tokens: float | None = None
    flood_at: datetime | None = None
    flood_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class StaffMember(SQLModel, table=True):
    """The roster: who may act on cases, for which department, with which role."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    name: str
    department: str  # one of the catalogue's departments, or ALL_DEPARTMENTS
    role: StaffRole = StaffRole.HANDLER
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def covers(self, department: str | None) -> bool:
        """Whether this staffer acts for the department (a case of no department: anyone)."""
        return self.department == ALL_DEPARTMENTS or department in (None, self.department)


class CaseBase(SQLModel):
    kind: CaseKind
    duty_id: str | None = None
    department: str | None = None
    status: CaseStatus = CaseStatus.OPEN
    subject: str = Field(default="", sa_type=EncryptedText)  # the question, or the form's title


class Case(CaseBase, table=True):
    """A consultation or an application, from filing to its end.

    `version` makes each change conditional on nobody having changed it in between (two staff
    pressing 受理 at once): SQLAlchemy raises StaleDataError then, and the change is retried.
    """

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=0)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    number: str | None = Field(default=None, unique=True, index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    form_id: str | None = None
    # The draft it was filed from: unique, so that a double 提交 files one case.
    draft_id: int | None = Field(default=None, foreign_key="draft.id", unique=True)
    answers: dict[str, Any] | None = Field(default=None, sa_column=Column(EncryptedJSON))
    # The staff chat and the message there that stands for the case (the card).
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    card_message_id: int | None = None
    # How staff see the member on the card: their Telegram name (or 匿名反映).
    member_label: str | None = Field(default=None, sa_type=EncryptedText)
    # A burst of cases: the card waits, and the case is listed in the next digest instead.
    card_held: bool = False
    # The caseworker, once accepted (受理), and the handling deadline in working days.
    assignee_telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    # 待补件 since: the deadline does not run while the member is asked for materials.
    waiting_since: datetime | None = None
    # The last message between the member and staff: the member's texts go to the case for a
    # while after it.
    talked_at: datetime | None = None
    # 回访: the member's rating after 办结 or 驳回.
    rating: Rating | None = None
    rating_comment: str | None = Field(default=None, sa_type=EncryptedText)
    rated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class DraftStage(StrEnum):
    CONSENT = "consent"  # the privacy notice is shown, consent not yet given
    FILLING = "filling"
    REVIEW = "review"  # the summary is shown
    SUBMITTED = "submitted"
    DISCARDED = "discarded"  # cancelled, refused consent, or not eligible
    EXPIRED = "expired"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_DRAFT_STAGES


ACTIVE_DRAFT_STAGES = {DraftStage.CONSENT, DraftStage.FILLING, DraftStage.REVIEW}


class Draft(SQLModel, table=True):
    """An application being filled in: every validated answer is saved at once.

    `version` makes each save conditional on nobody having saved in between (two bot
    processes, or an album of photos arriving at once): SQLAlchemy raises StaleDataError then.
    """

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=0)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    member_id: int = Field(foreign_key="member.id", index=True)
    form_id: str
    stage: DraftStage = Field(default=DraftStage.CONSENT, index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON))
    # The field being asked; set while filling. `return_to_review` after changing one field.
    current_field: str | None = None
    # When the current question went out: a text sent before it is not its answer (a member
    # who typed their phone again and again while the bot was down).
    asked_at: datetime | None = None
    # The words of the last typed answer: the same words again as the next answer are
    # checked with the member first.
    last_answer: str | None = Field(default=None, sa_type=EncryptedText)
    # The last update (Telegram's update_id) whose text the draft has taken: handled again
    # after a crash (its effects stored, its mark as handled lost), it is not the next answer.
    last_update_id: int | None = Field(default=None, sa_type=BigInteger)
    return_to_review: bool = False
    consented_at: datetime | None = None
    # Separate, explicit consent to sensitive personal information (health), where asked.
    sensitive_consented_at: datetime | None = None
    # The version of the privacy notice each consent answered (bot.applications.privacy_version):
    # a draft whose notice has changed since is asked again before it is filed.
    consent_version: str | None = None
    sensitive_consent_version: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None


class Attachment(SQLModel, table=True):
    """A photo or file a member sent for a case, with our own copy of it: an application's
    upload (from its draft) or material sent later (补件, or in a consultation)."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    field_id: str  # the form's upload field, or SUPPLEMENT
    kind: str  # photo | document
    telegram_file_id: str
    telegram_file_unique_id: str
    # Where the member sent it, so that it can be copied to the staff chat as it is.
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int
    file_name: str | None = Field(default=None, sa_type=EncryptedText)
    mime_type: str | None = None
    # What the member wrote with it, shown to staff with the file.
    caption: str | None = Field(default=None, sa_type=EncryptedText)
    size: int
    sha256: str
    path: str  # relative to the files directory
    created_at: datetime = Field(default_factory=utcnow)


class CaseEvent(SQLModel, table=True):
    """The audit trail: who did what to a case, and when."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: Actor
    actor_telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    action: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON))


SUPPLEMENT = "__supplement__"  # Attachment.field_id of material sent after filing


class SearchKey(SQLModel, table=True):
    """What staff search a case by (name, unit, the question) as keyed hashes of its one- and
    two-character pieces, never as text (storage.search)."""

    __table_args__ = (Index("ix_searchkey_digest_case", "digest", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    digest: str


class CaseMessage(SQLModel, table=True):
    """A message sent for a case, so that a staff reply to it finds its case."""

    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # will never go through (the member blocked the bot)


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes someone: written with the change that causes it, sent after."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    text: str = Field(sa_type=EncryptedText)
    # Buttons may carry a remembered name or phone (使用已保存的：…): encrypted too.
    reply_markup: dict[str, Any] | None = Field(default=None, sa_column=Column(EncryptedJSON))
    reply_to_message_id: int | None = None
    # Set for a relayed photo or file: copyMessage of this message instead of the text.
    copy_from_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    copy_message_id: int | None = None
    # Set for a stored attachment: sent by its Telegram file id, with `text` as the caption.
    file_id: str | None = None
    file_kind: str | None = None  # photo | document
    # The case's card, rendered when it is sent: a new card, or an edit of the one there
    # (`edit_message_id`, or the case's own card in its staff chat).
    card: bool = False
    edit_message_id: int | None = None
    # Sent with protect_content (no forwarding or saving); never rerouted to another chat.
    protect: bool = False
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    # Kept with the case as a relay target (staff replies to it reach the member).
    track: bool = False
    # Who waits for it, lowest first (bot.pacing): 0 a member, 1 staff, 2 digests, reminders.
    priority: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    sent_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class InboxUpdate(SQLModel, table=True):
    """An update from Telegram, stored before Telegram is told it arrived: after a crash the
    ones not yet handled are handled at start-up, and one seen twice is handled once."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: dict[str, Any] = Field(sa_column=Column(EncryptedJSON, nullable=False))
    # Whose it is (the chat, else the user): one member's updates are handled in order.
    chat_key: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    received_at: datetime = Field(default_factory=utcnow)
    # The process handling it (its instance name) holds it until then; handled_at ends it.
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    handled_at: datetime | None = Field(default=None, index=True)


class StaffPrompt(SQLModel, table=True):
    """A question the bot asked a staffer in a staff chat (补件原因, 办结结果 …): their reply to
    it carries out the action."""

    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int
    case_id: int = Field(foreign_key="case.id", index=True)
    action: str
    staff_telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class MissReason(StrEnum):
    UNSURE = "unsure"
    OUT_OF_SCOPE = "out_of_scope"
    NONE_OF_THESE = "none_of_these"  # 都不是
    HANDOFF = "handoff"


class Miss(SQLModel, table=True):
    """A question the bot could not settle: the text only, nothing that identifies the member."""

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(sa_type=EncryptedText)
    reason: MissReason
    guess: str | None = None  # the duty the router leaned to, if any
    created_at: datetime = Field(default_factory=utcnow)


class ScheduledRun(SQLModel, table=True):
    """A scheduled job's run for one period (the digest of a day, the sweep of an hour): with
    several instances on one database, the one that records it first does it."""

    job: str = Field(primary_key=True)
    period: str = Field(primary_key=True)
    instance: str
    ran_at: datetime = Field(default_factory=utcnow)


# Every encrypted column, for `union-bot keys rotate`.
encrypted("member", "id", "pending_question", "profile")
encrypted("draft", "id", "answers", "last_answer")
encrypted("case", "id", "subject", "answers", "member_label", "rating_comment")
encrypted("caseevent", "id", "detail")
encrypted("outboxmessage", "id", "text", "reply_markup")
encrypted("attachment", "id", "caption", "file_name")
encrypted("inboxupdate", "update_id", "payload")
encrypted("miss", "id", "question")
