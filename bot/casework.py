"""Case handling (办理): who may act, the lifecycle, deadlines, the card, and who is told what.

A case moves 已提交 → 已受理 → 待补件 ⇄ 办理中 → 已办结 / 已驳回 (已撤回 by the member before
acceptance; 已结束 for a consultation). Every step checks the staffer against the roster, checks
the transition, records an event, and writes what the member and the staff chat are owed into
the outbox in the same transaction. The card in the staff chat is rendered from the case when
it is sent, so it always shows the current status, caseworker and deadline.

No Telegram here: the handlers call these functions and send what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import texts
from bot.cards import MESSAGE_LIMIT, Act, CaseViews, Refusal, status_label
from bot.consultations import relay_to_staff
from bot.replies import (
    Button,
    Reply,
    escape,
    inline_keyboard,
)
from bot.workdays import CHINA
from knowledge.forms import FieldType, display, mask_numbers
from storage.cases import (
    card_message_id,
    enqueue,
    member_of,
    open_cases,
    record_audit,
    record_event,
)
from storage.models import (
    FINAL_STATUSES,
    SUPPLEMENT,
    Actor,
    Attachment,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Member,
    Rating,
    StaffMember,
    StaffRole,
    utcnow,
)
from storage.staff import roster, staff_member

CB_RATE = "rate"  # rate:<case id>:<1|2|3|skip>
CB_SUPPLIED = "sup"  # sup:<case id>
CB_END_TALK = "talk"  # talk:<case id>
# A member's texts go to an application's case this long after staff last wrote to them.
TALK_WINDOW = timedelta(hours=48)
COMMENT_LIMIT = 500
RATINGS = {"1": Rating.SATISFIED, "2": Rating.FAIR, "3": Rating.UNSATISFIED}

_e = escape


# Acts that need words from the staffer first: they reply to the bot's prompt.
PROMPTED = {Act.MORE, Act.DONE, Act.REJECT, Act.NOTE}


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[CaseStatus]
    target: CaseStatus
    kinds: frozenset[CaseKind] = frozenset(CaseKind)


_ANY_KIND = frozenset(CaseKind)
_APPLICATIONS = frozenset({CaseKind.APPLICATION})
_CONSULTATIONS = frozenset({CaseKind.CONSULTATION})
S = CaseStatus
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({S.OPEN}), S.ACCEPTED),
    "more": Transition(frozenset({S.ACCEPTED, S.IN_PROGRESS}), S.WAITING_MEMBER, _APPLICATIONS),
    "supplied": Transition(frozenset({S.WAITING_MEMBER}), S.IN_PROGRESS, _APPLICATIONS),
    "done": Transition(frozenset({S.ACCEPTED, S.IN_PROGRESS, S.WAITING_MEMBER}), S.COMPLETED),
    "reject": Transition(
        frozenset({S.ACCEPTED, S.IN_PROGRESS, S.WAITING_MEMBER}), S.REJECTED, _APPLICATIONS
    ),
    "withdraw": Transition(frozenset({S.OPEN}), S.WITHDRAWN, _APPLICATIONS),
    "close": Transition(frozenset({S.OPEN, S.ACCEPTED, S.IN_PROGRESS}), S.CLOSED, _CONSULTATIONS),
    # A staff reply: a consultation's first one starts it; an accepted application is underway.
    "reply": Transition(frozenset({S.OPEN, S.ACCEPTED}), S.IN_PROGRESS),
}
# The event each transition records (the others: the status it reaches).
_EVENT = {
    "accept": "accepted",
    "more": "materials_requested",
    "supplied": "materials_supplied",
    "reply": "in_progress",
}
# Acts a handler may do only on a case of their own (the assignee's); leads and admins may too.
ASSIGNEE_ONLY = {"more", "done", "reject", "close", "transfer"}
# The staff-chat word for a status a double press finds the case in already.


class Casework(CaseViews):
    """The case rules; handlers translate updates into these calls."""

    # -------------------------------------------------------------- filing

    def file(self, session: Session, case: Case, *, member_label: str, now: datetime) -> None:
        """A new case: its deadline, and its card for the staff chat (or a place in the next
        digest, when the chat has had its fill of cards this hour)."""
        assert case.staff_chat_id is not None
        case.member_label = member_label
        case.due_at = self.calendar.deadline(case.created_at, self.time_limit(case))
        if case.kind is CaseKind.CONSULTATION:
            case.talked_at = now
        case.card_held = self._cards_this_hour(session, case, now) >= self.settings.cards_per_hour
        session.add(case)
        if not case.card_held:
            self.post_card(session, case)

    @staticmethod
    def _cards_this_hour(session: Session, case: Case, now: datetime) -> int:
        """Cards of the other cases filed in the case's chat in the last hour (a card's later
        edits are not new messages in the chat)."""
        count = session.exec(
            select(func.count())
            .select_from(Case)
            .where(Case.staff_chat_id == case.staff_chat_id)
            .where(Case.id != case.id)
            .where(col(Case.card_held).is_(False))
            .where(col(Case.created_at) > now - timedelta(hours=1))
        ).one()
        return int(count)

    def post_card(self, session: Session, case: Case) -> None:
        """Owe the case's staff chat its card: a new one, or the current one brought up to date."""
        assert case.staff_chat_id is not None
        case.card_held = False
        session.add(case)
        enqueue(session=session, chat_id=case.staff_chat_id, text="", case=case, card=True)

    def update_card(self, session: Session, case: Case) -> None:
        """The card shows the change (a card still waiting for the digest shows it when posted)."""
        if not case.card_held:
            self.post_card(session, case)

    # -------------------------------------------------------------- authority

    def staffer(self, session: Session, telegram_id: int) -> StaffMember:
        found = staff_member(session=session, telegram_id=telegram_id)
        if found is None:
            raise Refusal(texts.STAFF_NOT_ON_ROSTER)
        return found

    def authorize(
        self, session: Session, telegram_id: int, case: Case, action: str | None = None
    ) -> StaffMember:
        """The staffer who may do `action` to `case`, or a Refusal that says why not."""
        staffer = self.staffer(session, telegram_id)
        if not staffer.covers(case.department):
            raise Refusal(
                texts.STAFF_OTHER_DEPARTMENT.format(
                    number=case.number,
                    department=_e(case.department or texts.UNKNOWN_DEPARTMENT),
                    own=_e(staffer.department),
                )
            )
        if action == Act.REASSIGN and not staffer.role.at_least(StaffRole.LEAD):
            raise Refusal(texts.STAFF_LEAD_ONLY)
        if (
            action in ASSIGNEE_ONLY
            and case.assignee_telegram_id not in (None, staffer.telegram_id)
            and not staffer.role.at_least(StaffRole.LEAD)
        ):
            names = {s.telegram_id: s.name for s in roster(session=session)}
            raise Refusal(
                texts.STAFF_NOT_ASSIGNEE.format(
                    number=case.number,
                    name=_e(names.get(case.assignee_telegram_id or 0, texts.STAFF_SOMEONE)),
                )
            )
        return staffer

    @staticmethod
    def check(case: Case, action: str) -> Transition:
        """The transition `action` makes, or a Refusal: illegal here, or done already."""
        transition = TRANSITIONS[action]
        if case.status in transition.sources and case.kind in transition.kinds:
            return transition
        if case.status is transition.target:
            state = texts.STAFF_ALREADY_STATES.get(case.status.value, status_label(case))
            raise Refusal(texts.STAFF_ALREADY.format(number=case.number, state=state))
        raise Refusal(
            texts.STAFF_ILLEGAL.format(
                number=case.number,
                status=status_label(case),
                action=texts.STAFF_ACTIONS.get(action, action),
            )
        )

    def _move(
        self,
        session: Session,
        case: Case,
        action: str,
        *,
        actor: Actor,
        actor_id: int | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        transition = self.check(case, action)
        case.status = transition.target
        now = utcnow()
        if transition.target is S.ACCEPTED or (
            transition.target is S.IN_PROGRESS and case.accepted_at is None
        ):
            case.accepted_at = case.accepted_at or now
        if transition.target in FINAL_STATUSES:
            case.closed_at = now
        record_event(
            session=session,
            case=case,
            actor=actor,
            actor_telegram_id=actor_id,
            action=_EVENT.get(action, transition.target.value),
            detail=detail,
        )

    # -------------------------------------------------------------- staff acts

    def accept(self, session: Session, case: Case, telegram_id: int) -> str:
        staffer = self.authorize(session, telegram_id, case, Act.ACCEPT)
        self._move(
            session, case, "accept", actor=Actor.STAFF, actor_id=telegram_id, detail=_by(staffer)
        )
        case.assignee_telegram_id = staffer.telegram_id
        self._tell_accepted(session, case)
        self._brief_caseworker(session, case, staffer)
        self.update_card(session, case)
        return texts.STAFF_ACCEPTED.format(
            number=case.number, name=_e(staffer.name), due=self._due_text(case)
        )

    def _tell_accepted(self, session: Session, case: Case) -> None:
        accepted = (
            texts.MEMBER_ACCEPTED_CONSULTATION
            if case.kind is CaseKind.CONSULTATION
            else texts.MEMBER_ACCEPTED
        )
        self.tell_member(
            session,
            case,
            accepted.format(
                title=self._title(case), number=case.number, department=self._department(case)
            ),
        )

    def transfer(
        self, session: Session, case: Case, telegram_id: int, department: str | None
    ) -> str:
        staffer = self.authorize(session, telegram_id, case, Act.TRANSFER)
        if case.status in FINAL_STATUSES:
            raise Refusal(self._illegal(case, "transfer"))
        if department == case.department:
            raise Refusal(
                texts.STAFF_SAME_DEPARTMENT.format(
                    number=case.number, department=_e(department or texts.UNKNOWN_DEPARTMENT)
                )
            )
        old_chat, old_card = case.staff_chat_id, case.card_message_id
        case.department = department
        case.status = S.OPEN
        case.assignee_telegram_id = None
        case.accepted_at = None
        case.staff_chat_id = self.settings.staff_chat_for(department)
        record_event(
            session=session,
            case=case,
            actor=Actor.STAFF,
            actor_telegram_id=telegram_id,
            action="transferred",
            detail={**_by(staffer), "department": department or texts.UNKNOWN_DEPARTMENT},
        )
        if old_chat is not None and old_card is not None and old_chat != case.staff_chat_id:
            # The old card says where the case went, without buttons.
            enqueue(
                session=session,
                chat_id=old_chat,
                text="",
                case=case,
                card=True,
                edit_message_id=old_card,
            )
            case.card_message_id = None
        self.tell_member(
            session,
            case,
            texts.MEMBER_TRANSFERRED.format(
                title=self._title(case), number=case.number, department=self._department(case)
            ),
        )
        self.post_card(session, case)
        return texts.STAFF_TRANSFERRED.format(
            number=case.number, department=_e(department or texts.UNKNOWN_DEPARTMENT)
        )

    def reassign(self, session: Session, case: Case, telegram_id: int, roster_id: int) -> str:
        """A lead gives the case to someone of its department (`roster_id`: their roster entry;
        Telegram ids outgrow what button data carries safely)."""
        staffer = self.authorize(session, telegram_id, case, Act.REASSIGN)
        if case.status in FINAL_STATUSES:
            raise Refusal(self._illegal(case, "reassign"))
        assignee = session.get(StaffMember, roster_id)
        if assignee is None or not assignee.covers(case.department):
            raise Refusal(texts.STAFF_NOT_ON_ROSTER)
        if case.status is S.OPEN:
            self._move(
                session,
                case,
                "accept",
                actor=Actor.STAFF,
                actor_id=telegram_id,
                detail={**_by(staffer), "assignee": assignee.name},
            )
            self._tell_accepted(session, case)
        record_event(
            session=session,
            case=case,
            actor=Actor.STAFF,
            actor_telegram_id=telegram_id,
            action="reassigned",
            detail={**_by(staffer), "assignee": assignee.name},
        )
        case.assignee_telegram_id = assignee.telegram_id
        self._brief_caseworker(session, case, assignee)
        self.update_card(session, case)
        return texts.STAFF_REASSIGNED.format(number=case.number, name=_e(assignee.name))

    def prepare(self, session: Session, case: Case, telegram_id: int, act: Act) -> StaffMember:
        """Before a prompt for words is shown: may this staffer do `act` to this case now?"""
        staffer = self.authorize(session, telegram_id, case, act.value)
        if act is not Act.NOTE:
            self.check(case, act.value)
        return staffer

    def with_words(
        self, session: Session, case: Case, telegram_id: int, act: Act, words: str
    ) -> str:
        """补件, 办结, 驳回 or 备注, with the staffer's words."""
        staffer = self.prepare(session, case, telegram_id, act)
        detail = {**_by(staffer), "text": words}
        if act is Act.NOTE:
            record_event(
                session=session,
                case=case,
                actor=Actor.STAFF,
                actor_telegram_id=telegram_id,
                action="note",
                detail=detail,
            )
            self.to_staff_thread(
                session,
                case,
                texts.STAFF_NOTE_LINE.format(
                    number=case.number, name=_e(staffer.name), text=_e(mask_numbers(words))
                ),
            )
            return texts.STAFF_NOTED.format(number=case.number)
        self._move(
            session, case, act.value, actor=Actor.STAFF, actor_id=telegram_id, detail=detail
        )
        if case.assignee_telegram_id is None:
            case.assignee_telegram_id = staffer.telegram_id
        title, number = self._title(case), case.number
        if act is Act.MORE:
            case.talked_at = case.waiting_since = utcnow()
            self.tell_member(
                session,
                case,
                texts.MEMBER_MORE.format(title=title, number=number, reason=_e(words)),
                buttons=((Button(texts.BUTTON_SUPPLIED, f"{CB_SUPPLIED}:{case.id}"),),),
            )
            answer = texts.STAFF_MORE_SENT.format(number=number)
        else:
            template = texts.MEMBER_DONE if act is Act.DONE else texts.MEMBER_REJECTED
            self.tell_member(
                session,
                case,
                template.format(
                    title=title,
                    number=number,
                    result=_e(words),
                    reason=_e(words),
                    department=self._department(case),
                    contacts=self._contacts(case),
                ),
            )
            self._ask_rating(session, case)
            answer = (texts.STAFF_DONE if act is Act.DONE else texts.STAFF_REJECTED).format(
                number=number
            )
        self.update_card(session, case)
        return answer

    def close(self, session: Session, case: Case, telegram_id: int) -> str:
        """/close on a consultation: it ends, the member is told and asked to rate it."""
        staffer = self.authorize(session, telegram_id, case, Act.CLOSE)
        if case.kind is not CaseKind.CONSULTATION:
            raise Refusal(texts.STAFF_CLOSE_ONLY_CONSULTATIONS.format(number=case.number))
        self._move(
            session, case, "close", actor=Actor.STAFF, actor_id=telegram_id, detail=_by(staffer)
        )
        self.tell_member(session, case, texts.HANDOFF_CLOSED_BY_STAFF.format(number=case.number))
        self._ask_rating(session, case)
        self.update_card(session, case)
        return texts.STAFF_CLOSED.format(number=case.number)

    def staff_replied(self, session: Session, case: Case, staffer: StaffMember) -> None:
        """A staff reply went to the member: a consultation is underway from its first one."""
        case.talked_at = utcnow()
        session.add(case)
        transition = TRANSITIONS["reply"]
        starts = case.kind is CaseKind.CONSULTATION or case.status is S.ACCEPTED
        if starts and case.status in transition.sources:
            self._move(
                session,
                case,
                "reply",
                actor=Actor.STAFF,
                actor_id=staffer.telegram_id,
                detail=_by(staffer),
            )
            if case.assignee_telegram_id is None:
                case.assignee_telegram_id = staffer.telegram_id
            self.update_card(session, case)

    # -------------------------------------------------------------- what staff may see

    def materials(self, session: Session, case: Case, telegram_id: int) -> list[Attachment]:
        self.authorize(session, telegram_id, case, Act.MATERIALS)
        found = list(
            session.exec(
                select(Attachment)
                .where(Attachment.case_id == case.id)
                .order_by(col(Attachment.id))
            ).all()
        )
        if not found:
            raise Refusal(texts.STAFF_NO_MATERIALS.format(number=case.number))
        return found

    def full_information(self, session: Session, case: Case, telegram_id: int) -> str:
        self.authorize(session, telegram_id, case, Act.FULL)
        member = member_of(session=session, case=case)
        return texts.STAFF_PRIVATE_FULL.format(
            number=case.number,
            title=self._title(case),
            member=_e(case.member_label or ""),
            telegram_id=member.telegram_id if not self._anonymous(case) else "—",
            lines=self._answer_lines(case, masked=False),
        )

    def viewed(self, session: Session, case: Case, telegram_id: int, act: Act, count: int) -> None:
        """Each view of a case's files or full data is on its record."""
        staffer = self.staffer(session, telegram_id)
        record_audit(
            session=session,
            case=case,
            actor_telegram_id=telegram_id,
            action="viewed_materials" if act is Act.MATERIALS else "viewed_full",
            detail={**_by(staffer), "count": count},
        )

    # -------------------------------------------------------------- the member's side

    def member_focus(self, session: Session, member: Member, now: datetime) -> Case | None:
        """The case the member's next message belongs to, if any: an open consultation, an
        application waiting for materials, or one staff wrote about lately; the latest."""
        cases = [c for c in open_cases(session=session, member=member) if c.talked_at is not None]
        talking = [
            case
            for case in cases
            if case.kind is CaseKind.CONSULTATION
            or case.status is S.WAITING_MEMBER
            or (case.talked_at is not None and now - case.talked_at <= TALK_WINDOW)
        ]
        return max(talking, key=lambda c: c.talked_at or c.created_at, default=None)

    @staticmethod
    def member_turned_to(session: Session, case: Case) -> datetime:
        """When the member last did something about the case: filed it, wrote or sent a file."""
        last = session.exec(
            select(func.max(CaseEvent.at))
            .where(CaseEvent.case_id == case.id)
            .where(CaseEvent.actor == Actor.MEMBER)
        ).one()
        return last or case.created_at

    def member_wrote(self, session: Session, case: Case, text: str) -> Reply:
        """A member's text about a case: to the case's thread in the staff chat."""
        relay_to_staff(session=session, case=case, text=text)
        case.talked_at = utcnow()
        session.add(case)
        if case.status is S.WAITING_MEMBER:
            return Reply(
                texts.MEMBER_MORE_RECEIVED.format(number=case.number), self._supplied_button(case)
            )
        if case.kind is CaseKind.CONSULTATION:
            return Reply(
                texts.HANDOFF_RELAYED.format(number=case.number),
                ((Button(texts.BUTTON_END, "end"),),),
            )
        return Reply(
            texts.MEMBER_CASE_RELAYED.format(number=case.number),
            ((Button(texts.BUTTON_END_TALK, f"{CB_END_TALK}:{case.id}"),),),
        )

    def member_sent_file(
        self, session: Session, case: Case, attachment: Attachment, caption: str | None = None
    ) -> Reply:
        """A photo or file for a case: kept with it; staff are told, and see it on request."""
        attachment.case_id = case.id
        attachment.field_id = SUPPLEMENT
        session.add(attachment)
        session.flush()
        count = self.attachment_count(session, case)
        record_event(
            session=session,
            case=case,
            actor=Actor.MEMBER,
            action="member_file",
            detail={"kind": attachment.kind, "text": caption},
        )
        what = texts.STAFF_FILE_PHOTO if attachment.kind == "photo" else texts.STAFF_FILE_DOCUMENT
        notice = texts.STAFF_MEMBER_FILE.format(number=case.number, what=what, count=count)
        if caption:
            notice += "\n" + texts.STAFF_FILE_CAPTION.format(caption=_e(mask_numbers(caption)))
        self.to_staff_thread(session, case, notice, relay=True)
        case.talked_at = utcnow()
        self.update_card(session, case)  # the attachment count and 查看材料
        if case.status is S.WAITING_MEMBER:
            return Reply(
                texts.MEMBER_MORE_RECEIVED.format(number=case.number), self._supplied_button(case)
            )
        return Reply(texts.MEMBER_CASE_RELAYED.format(number=case.number))

    def supplied(self, session: Session, case: Case, member: Member) -> Reply:
        """补齐了: back to staff, the days spent waiting added to the deadline."""
        if case.status is not S.WAITING_MEMBER:
            if case.status.is_final:
                return Reply(texts.MEMBER_CASE_ENDED.format(number=case.number))
            if case.status is S.IN_PROGRESS:  # pressed twice
                return Reply(texts.MEMBER_SUPPLIED.format(number=case.number))
            return Reply(texts.MEMBER_SUPPLY_NOT_NEEDED.format(number=case.number))
        self._move(session, case, "supplied", actor=Actor.MEMBER, actor_id=member.telegram_id)
        now = utcnow()
        if case.waiting_since is not None and case.due_at is not None:
            waited = max(self.calendar.workdays_left(case.waiting_since, now), 0)
            if waited:
                last = self.calendar.add_workdays(case.due_at.astimezone(CHINA).date(), waited)
                case.due_at = self.calendar.deadline(
                    datetime.combine(last, datetime.min.time(), CHINA), 0
                )
        case.waiting_since = None
        case.talked_at = None  # the member's next words are questions again
        self.to_staff_thread(session, case, texts.STAFF_MEMBER_SUPPLIED.format(number=case.number))
        self.update_card(session, case)
        return Reply(texts.MEMBER_SUPPLIED.format(number=case.number))

    def stop_talking(self, session: Session, case: Case) -> Reply:
        """The member's texts are not for staff: routed as questions again (a consultation
        has its own end; materials can still be sent as replies to the 补件 message)."""
        if case.kind is CaseKind.CONSULTATION:
            return Reply(texts.MEMBER_TALK_ENDED)
        case.talked_at = None
        session.add(case)
        if case.status is S.WAITING_MEMBER:
            return Reply(texts.MEMBER_TALK_ENDED_WAITING)
        return Reply(texts.MEMBER_TALK_ENDED)

    def withdraw(self, session: Session, case: Case, member: Member) -> None:
        self._move(session, case, "withdraw", actor=Actor.MEMBER, actor_id=member.telegram_id)
        self.to_staff_thread(session, case, texts.STAFF_WITHDRAWN.format(number=case.number))
        self.update_card(session, case)

    def member_ended(self, session: Session, case: Case) -> None:
        """The member ended a consultation: staff are told, the card updated."""
        self.to_staff_thread(session, case, texts.STAFF_MEMBER_ENDED.format(number=case.number))
        self.update_card(session, case)

    def rate(self, session: Session, case: Case, member: Member, choice: str) -> Reply:
        if choice == "skip":
            member.awaiting_comment_case = None
            session.add(member)
            return Reply(texts.MEMBER_COMMENT_SKIPPED)
        rating = RATINGS.get(choice)
        if rating is None or case.status not in (S.COMPLETED, S.REJECTED, S.CLOSED):
            return Reply(texts.BUTTON_EXPIRED)
        if case.rating is not None:
            return Reply(texts.MEMBER_ALREADY_RATED.format(number=case.number))
        case.rating, case.rated_at = rating, utcnow()
        record_event(
            session=session,
            case=case,
            actor=Actor.MEMBER,
            actor_telegram_id=member.telegram_id,
            action="rated",
            detail={"rating": rating.value},
        )
        member.awaiting_comment_case = case.id
        session.add(member)
        self.to_staff_thread(
            session,
            case,
            texts.STAFF_MEMBER_RATED.format(
                number=case.number, rating=texts.RATING_LABELS[rating.value]
            ),
        )
        self.update_card(session, case)
        return Reply(
            texts.MEMBER_RATE_THANKS,
            ((Button(texts.BUTTON_NO_COMMENT, f"{CB_RATE}:{case.id}:skip"),),),
        )

    def comment(self, session: Session, case: Case, member: Member, text: str) -> Reply:
        member.awaiting_comment_case = None
        session.add(member)
        case.rating_comment = text.strip()[:COMMENT_LIMIT]
        record_event(
            session=session,
            case=case,
            actor=Actor.MEMBER,
            actor_telegram_id=member.telegram_id,
            action="rated",
            detail={"rating": case.rating.value if case.rating else None, "comment": True},
        )
        self.update_card(session, case)
        return Reply(texts.MEMBER_COMMENT_THANKS)

    def show(self, session: Session, case: Case, chat_id: int, telegram_id: int) -> None:
        """/case, or a case picked from a list or digest: its card and its history in this
        chat. In its own chat the card is the case's card (posted now if it waited); in
        another chat a copy, with working buttons."""
        self.authorize(session, telegram_id, case, Act.OPEN)
        history = self.history(session, case)
        if chat_id == case.staff_chat_id:
            if case.card_held or case.card_message_id is None:
                self.post_card(session, case)
            enqueue(
                session=session,
                chat_id=chat_id,
                text=history,
                case=case,
                reply_to_message_id=case.card_message_id,
            )
            return
        copy = self.render_card(session, case, case.staff_chat_id or chat_id)
        enqueue(
            session=session,
            chat_id=chat_id,
            text=f"{copy.text}\n\n{history}"[:MESSAGE_LIMIT],
            case=case,
            reply_markup=inline_keyboard(copy.buttons),
            protect=True,
        )

    # -------------------------------------------------------------- helpers

    def _phone(self, case: Case) -> str | None:
        form = self.forms.get(case.form_id or "")
        if form is None or self._anonymous(case):
            return None
        for field in form.fields:
            value = (case.answers or {}).get(field.id)
            if field.type is FieldType.PHONE and value:
                return display(field, value)
        return None

    def _brief_caseworker(self, session: Session, case: Case, caseworker: StaffMember) -> None:
        """The caseworker must call the member: their contact, in full, in a private chat."""
        phone = self._phone(case)
        enqueue(
            session=session,
            chat_id=caseworker.telegram_id,
            text=texts.STAFF_PRIVATE_ACCEPTED.format(
                number=case.number,
                title=self._title(case),
                member=_e(case.member_label or ""),
                phone=_e(phone) if phone else texts.STAFF_NO_PHONE,
                due=self._due_text(case),
            ),
            case=case,
            protect=True,
        )

    def tell_member(
        self,
        session: Session,
        case: Case,
        text: str,
        *,
        buttons: Sequence[tuple[Button, ...]] = (),
    ) -> None:
        """A message to the case's member, in their private chat (their reply finds the case)."""
        member = member_of(session=session, case=case)
        if member.chat_id <= 0:
            return  # the member erased their data, or went quiet and was forgotten: no chat
        enqueue(
            session=session,
            chat_id=member.chat_id,
            text=text,
            case=case,
            track=True,  # the member's reply to it finds the case
            reply_markup=inline_keyboard(buttons) if buttons else None,
        )

    def _ask_rating(self, session: Session, case: Case) -> None:
        self.tell_member(
            session,
            case,
            texts.MEMBER_RATE.format(number=case.number),
            buttons=(
                tuple(
                    Button(texts.RATING_LABELS[rating.value], f"{CB_RATE}:{case.id}:{key}")
                    for key, rating in RATINGS.items()
                ),
            ),
        )

    def _supplied_button(self, case: Case) -> tuple[tuple[Button, ...], ...]:
        return ((Button(texts.BUTTON_SUPPLIED, f"{CB_SUPPLIED}:{case.id}"),),)

    def to_staff_thread(
        self, session: Session, case: Case, text: str, *, relay: bool = False
    ) -> None:
        """A line under the case's card. Only what the member sent is a relay target (staff
        reply to it to answer them); the bot's own notices, and notes, are not."""
        if case.staff_chat_id is None:
            return
        enqueue(
            session=session,
            chat_id=case.staff_chat_id,
            text=text,
            case=case,
            reply_to_message_id=case.card_message_id
            or card_message_id(session=session, case=case),
            track=relay,
        )

    def _illegal(self, case: Case, action: str) -> str:
        return texts.STAFF_ILLEGAL.format(
            number=case.number,
            status=status_label(case),
            action=texts.STAFF_ACTIONS.get(action, action),
        )


def _by(staffer: StaffMember) -> dict[str, Any]:
    return {"by": staffer.name}
