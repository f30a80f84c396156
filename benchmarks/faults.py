"""Faults: what members see when the bot or what it depends on fails (issue 11 §3).

Run: python -m benchmarks.faults [--scenario kill9|storm|down|database|all] [--members N]
                                 [--database sqlite|postgres]

Each scenario runs `union-bot run` as a real process against the fake Telegram on 127.0.0.1
(benchmarks.load), with scripted members filing service-card applications, and prints PASS or
FAIL with its figures:

- kill9: the bot is killed with SIGKILL while the members press 提交 together, then started
  again. Every member must get their case number without pressing again, with exactly one case
  each. A message under way at the kill may arrive twice (Telegram has no idempotency key):
  the repeats are counted.
- storm: for a minute 30% of the bot's calls get 429 (retry_after) and 10% a 5xx. Every member
  reply and staff card must arrive exactly once, and no member sees the error apology.
- down: the bot is stopped for a minute while members keep writing (each types their last
  answer again twice), then started again. Every waiting update is handled, and no repeated
  answer is taken as the answer to the next question.
- database: the database is away for 30 s (PostgreSQL stopped; SQLite locked by another
  process). Members are told to wait, nothing is lost, and the bot recovers by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.load import Setup, bots, fake_telegram, percentile
from bot import texts
from bot.fake import FakeTelegram
from storage.crypto import configure
from tests.botprocess import STAFF_CHATS, BotProcess
from tests.factories import TEST_KEY
from tests.pgserver import Cluster, database_name, throwaway_cluster
from tests.scripted import Driver, Member, Stalled, check_cases

FIRST_MEMBER = 780000000
KEEP = bool(os.environ.get("UNIONBOT_FAULTS_KEEP"))  # keep the bot folder and log
# A staff card starts with its kind and number (texts.CARD_HEAD).
CARD_STARTS = tuple(f"{kind} HD-" for kind in texts.CASE_KIND.values())


@dataclass
class Outcome:
    scenario: str
    passed: bool
    figures: list[str] = field(default_factory=list)

    def show(self) -> None:
        print(f"\n== {self.scenario}: {'PASS' if self.passed else 'FAIL'}")
        for line in self.figures:
            print(f"   {line}")


def members_of(count: int, first: int = FIRST_MEMBER) -> list[Member]:
    return [Member(n, {"id": first + n, "first_name": f"会员{n}"}) for n in range(count)]


def told_numbers(fake: FakeTelegram, member: Member) -> list[str]:
    """The case numbers the member was told, one entry per message that told one."""
    found = []
    for message in fake.bot_messages(member.id):
        said = message.get("text", "")
        if "HD-" in said and "提交" in said:
            start = said.find("HD-")
            found.append(said[start : start + 14])
    return found


def cards_per_case(fake: FakeTelegram) -> dict[str, int]:
    """How many new staff-chat messages name each case number (its card: one expected)."""
    counts: dict[str, int] = {}
    for chat in set(STAFF_CHATS.values()):
        for message in fake.bot_messages(chat):
            said = message.get("text", "") or message.get("caption", "")
            start = said.find("HD-")
            if start >= 0 and said.startswith(CARD_STARTS):
                number = said[start : start + 14]
                counts[number] = counts.get(number, 0) + 1
    return counts


def apologies(fake: FakeTelegram, members: Sequence[Member]) -> int:
    return sum(
        1 for m in members for msg in fake.bot_messages(m.id) if msg.get("text") == texts.ERROR
    )


def busy_notices(fake: FakeTelegram, members: Sequence[Member]) -> int:
    return sum(
        1
        for m in members
        for msg in fake.bot_messages(m.id)
        if msg.get("text") == texts.DATABASE_BUSY
    )


def count(database_url: str, query: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(text(query)).scalar_one()
    engine.dispose()
    return int(found)


def outbox_pending(database_url: str) -> int:
    """Messages still owed (staff cards wait for their group's 20 a minute)."""
    return count(database_url, "SELECT count(*) FROM outboxmessage WHERE status = 'PENDING'")


async def drained(database_url: str, timeout: float = 400) -> float:
    """Wait until the outbox is empty; how long it took."""
    began = time.monotonic()
    await until(lambda: outbox_pending(database_url) == 0, timeout)
    return time.monotonic() - began


def unhandled_updates(database_url: str) -> int:
    return count(database_url, "SELECT count(*) FROM inboxupdate WHERE handled_at IS NULL")


async def until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@contextmanager
def bench(
    database: str, label: str, cluster: Cluster | None
) -> Iterator[tuple[FakeTelegram, BotProcess, str, Path]]:
    """The fake Telegram, a database, and the bot process (started)."""
    work = Path(tempfile.mkdtemp(prefix=f"union-bot-{label}-"))
    with fake_telegram(flood_limits=True) as (fake, base_url):
        if cluster is not None:
            database_url = cluster.create_database(database_name(f"{label}_{time.time_ns()}"))
        else:
            database_url = f"sqlite:///{work / 'bot.db'}"
        # Every case gets its card at once (not held for the hourly digest): each is counted.
        setup = Setup(database, 1, webhook=False)
        (bot,) = bots(setup, work, base_url, database_url, cards_per_hour=10_000)
        bot.start()
        try:
            yield fake, bot, database_url, work
        finally:
            bot.stop()
    if not KEEP:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")


def case_figures(database_url: str, members: Sequence[Member]) -> tuple[bool, str]:
    lost, duplicated, mixed = check_cases(database_url, members)
    completed = sum(1 for m in members if m.case_number)
    line = (
        f"completed {completed} of {len(members)}; lost / duplicated / mixed cases "
        f"{lost} / {duplicated} / {mixed}"
    )
    return completed == len(members) and lost == duplicated == mixed == 0, line


# ---------------------------------------------------------------------------------- kill -9


async def kill9(database: str, count: int, cluster: Cluster | None) -> Outcome:
    members = members_of(count)
    with bench(database, "kill9", cluster) as (fake, bot, database_url, _work):
        drivers = [Driver(fake, m, (0.0, 0.3)) for m in members]
        summaries = await asyncio.gather(*(d.fill(120) for d in drivers))
        before = {m.id: fake.posted.get(m.id, 0) for m in members}
        for driver, summary in zip(drivers, summaries, strict=True):
            driver.press_submit(summary)
        pressed = time.monotonic()
        # Kill it in the middle: some members have their answer, most do not.
        await until(lambda: sum(fake.posted.get(m.id, 0) > before[m.id] for m in members) > 0, 30)
        bot.kill()
        answered_before_kill = sum(fake.posted.get(m.id, 0) > before[m.id] for m in members)
        confirmed = sum(1 for m in members if not fake.pending_for(m.id))
        bot.start()
        everyone = await until(lambda: all(told_numbers(fake, m) for m in members), 120)
        recovered = time.monotonic() - pressed
        for member in members:
            numbers = told_numbers(fake, member)
            member.case_number = numbers[0] if numbers else None
        await asyncio.sleep(3)  # what a replay would send twice arrives now, if at all
        cards_took = await drained(database_url)  # every card, at 20 a minute per group
        repeated_replies = sum(len(told_numbers(fake, m)) - 1 for m in members if m.case_number)
        cards = cards_per_case(fake)
        repeated_cards = sum(n - 1 for n in cards.values())
        ok, line = case_figures(database_url, members)
        untold = [m for m in members if not m.case_number]
        last = fake.bot_messages(untold[0].id)[-2:] if untold else []
    return Outcome(
        f"kill -9 while {count} members press 提交 ({database})",
        ok and everyone,
        [
            f"answered before the kill: {answered_before_kill} of {count}; presses the bot had "
            f"taken off Telegram (acknowledged) by then: {confirmed} of {count}",
            f"every member told their case number without pressing again: "
            f"{'yes' if everyone else 'NO'}, {recovered:.1f} s after the presses",
            line,
            f"messages that arrived twice: {repeated_replies} member replies, "
            f"{repeated_cards} staff cards (of {len(cards)} sent; the last "
            f"{cards_took:.0f} s after the members were told, at 20 a minute per group)",
            *(f"an untold member's last message: {m.get('text', '')[:120]!r}" for m in last),
        ],
    )


# ---------------------------------------------------------------------------------- storm


async def storm(
    database: str, count: int, cluster: Cluster | None, seconds: float = 60
) -> Outcome:
    members = members_of(count, FIRST_MEMBER + 1000)
    with bench(database, "storm", cluster) as (fake, _bot, database_url, _work):
        refusals_before = fake.flood_refusals
        fake.storm(seconds, rate_429=0.3, rate_5xx=0.1)
        began = time.monotonic()
        await asyncio.gather(*(Driver(fake, m, (0.3, 1.5)).run(300) for m in members))
        elapsed = time.monotonic() - began
        cards_took = await drained(database_url)  # cards wait for 20 a minute per group
        cards = cards_per_case(fake)
        ok, line = case_figures(database_url, members)
        replies_twice = sum(len(told_numbers(fake, m)) > 1 for m in members)
        sorry = apologies(fake, members)
        missing_cards = sum(1 for m in members if m.case_number and m.case_number not in cards)
        latencies = [x for m in members for x in m.latencies]
        injected = fake.storm_failures
    passed = ok and replies_twice == 0 and sorry == 0 and all(n == 1 for n in cards.values())
    passed = passed and missing_cards == 0
    return Outcome(
        f"429/5xx storm for {seconds:.0f} s, {count} members filing ({database})",
        passed,
        [
            f"failures injected: {injected['429']} × 429, {injected['5xx']} × 5xx "
            f"(and {fake.flood_refusals - refusals_before} 429s for sending too fast)",
            line + f", in {elapsed:.0f} s",
            f"reply latency per step p50 {percentile(latencies, 0.5):.2f} s, p95 "
            f"{percentile(latencies, 0.95):.2f} s, p99 {percentile(latencies, 0.99):.2f} s",
            f"member replies twice: {replies_twice}; error apologies: {sorry}",
            f"staff cards: {len(cards)} sent, {sum(n > 1 for n in cards.values())} twice, "
            f"{missing_cards} missing (the last {cards_took:.0f} s after the members finished)",
        ],
    )


# ---------------------------------------------------------------------------------- down


async def down(database: str, count: int, cluster: Cluster | None, seconds: float) -> Outcome:
    members = members_of(count, FIRST_MEMBER + 2000)
    with bench(database, "down", cluster) as (fake, bot, database_url, _work):
        drivers = [Driver(fake, m, (0.3, 1.5)) for m in members]
        running = asyncio.gather(*(d.run(seconds + 120) for d in drivers))
        await asyncio.sleep(8)
        stopped_in = bot.stop()
        repeats = 0
        for _ in range(2):  # impatient members type their last answer again
            await asyncio.sleep(seconds / 2)
            for driver in drivers:
                if driver.last_said and not driver.member.case_number:
                    fake.user_message(driver.member.user, text=driver.last_said)
                    repeats += 1
        waiting = len(fake.undelivered) + sum(len(fake.pending_for(m.id)) for m in members)
        bot.start()
        restarted = time.monotonic()
        await running
        recovered = time.monotonic() - restarted
        ok, line = case_figures(database_url, members)
        await asyncio.sleep(2)
        unhandled = unhandled_updates(database_url)
    return Outcome(
        f"bot down {seconds:.0f} s while {count} members keep writing ({database})",
        ok and unhandled == 0,
        [
            f"stopped by SIGTERM in {stopped_in:.1f} s; {repeats} answers typed again while "
            f"down; {waiting} updates waiting at the restart",
            line + f"; all done {recovered:.0f} s after the restart",
            f"updates stored and not handled: {unhandled}",
        ],
    )


# ---------------------------------------------------------------------------------- database


@contextmanager
def sqlite_locked(path: Path) -> Iterator[Callable[[], None]]:
    """Another process holds the SQLite file's write lock until released."""
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait()
        connection.execute("ROLLBACK")
        connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait(60)
    try:
        yield release.set
    finally:
        release.set()
        thread.join(60)


async def database_away(
    database: str, count: int, cluster: Cluster | None, seconds: float
) -> Outcome:
    members = members_of(count, FIRST_MEMBER + 3000)
    with bench(database, "database", cluster) as (fake, bot, database_url, work):
        drivers = [Driver(fake, m, (0.3, 1.5)) for m in members]
        running = asyncio.gather(*(d.run(seconds + 180) for d in drivers))
        await asyncio.sleep(8)
        away = time.monotonic()
        if cluster is not None:
            cluster.stop()
            await asyncio.sleep(seconds)
            cluster.start()
        else:
            with sqlite_locked(work / "bot.db"):
                await asyncio.sleep(seconds)
        back = time.monotonic()
        await running
        recovered = time.monotonic() - back
        alive = bot.process is not None and bot.process.poll() is None
        ok, line = case_figures(database_url, members)
        await asyncio.sleep(2)
        unhandled = unhandled_updates(database_url)
        busy = busy_notices(fake, members)
        sorry = apologies(fake, members)
        stalls = sorted({m.error or "" for m in members if m.error})[:3]
    return Outcome(
        f"database away {seconds:.0f} s while {count} members file ({database})",
        ok and alive and unhandled == 0,
        [
            f"away for {back - away:.0f} s; members told to wait: {busy} notices; error "
            f"apologies: {sorry}",
            line + f"; all done {recovered:.0f} s after the database came back",
            f"bot still running without a restart: {'yes' if alive else 'NO'}; updates stored "
            f"and not handled: {unhandled}",
            *(f"a member stalled: {stall[:150]}" for stall in stalls),
        ],
    )


# ---------------------------------------------------------------------------------- main


SCENARIOS = ("kill9", "storm", "down", "database")


async def run(
    chosen: Sequence[str], database: str, count: int, cluster: Cluster | None, short: bool
) -> list[Outcome]:
    outcomes = []
    for name in chosen:
        try:
            if name == "kill9":
                outcome = await kill9(database, count, cluster)
            elif name == "storm":
                outcome = await storm(database, count, cluster)
            elif name == "down":
                outcome = await down(database, count, cluster, 10 if short else 60)
            else:
                outcome = await database_away(database, count, cluster, 5 if short else 30)
        except (Stalled, RuntimeError) as error:
            outcome = Outcome(name, False, [f"could not run: {error}"])
        outcome.show()
        outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    configure([TEST_KEY])  # the bots write with the tests' key; the checks read with it
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--short", action="store_true", help="down 10 s, database away 5 s")
    args = parser.parse_args(argv)
    chosen = list(SCENARIOS) if args.scenario == "all" else [args.scenario]

    def go(cluster: Cluster | None) -> list[Outcome]:
        return asyncio.run(run(chosen, args.database, args.members, cluster, args.short))

    if args.database == "postgres":
        with throwaway_cluster() as cluster:
            outcomes = go(cluster)
    else:
        outcomes = go(None)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
