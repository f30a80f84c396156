"""Load: many members file a service-card application at once against `union-bot run`.

Run: python -m benchmarks.load [--scenario realistic|overload|capacity|all] [--members N]
                               [--database sqlite|postgres] [--instances 1|2] [--webhook]

The bot runs as a real process (`union-bot run`; `union-bot webhook` for --webhook and for two
instances, which need PostgreSQL), polling (or receiving webhooks from) a fake Telegram served
on 127.0.0.1 by this process. With --database postgres and no --postgres-url, a throwaway
PostgreSQL server is started (tests.pgserver). Each
simulated member presses the real buttons and types the answers of a whole service-card
application, with think time between steps, and waits for each reply. The fake answers 429
the way Telegram does when a bot goes faster than its limits, and counts it.

Scenarios (issue 11 §3):
- realistic: 300 members think 5–20 s a step (about 80% of Telegram's 30 messages a second);
- overload: 500 members think 0.3–1.5 s (far above it);
- capacity: the rate limit raised (UNIONBOT_SEND_RATE_PER_SECOND=0), members think 0–0.05 s:
  updates per second per instance, and what limits it.

Printed per run: completed applications; lost, duplicated or mixed cases (must be 0); reply
latency per step (p50, p95, p99, and the largest against the median); updates per second; the
bot's peak memory; the largest outbound rate to one group and overall against Telegram's
limits, and the 429s the fake gave. Figures are printed, not asserted: machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.fake import FakeTelegram, FakeTelegramServer, WebhookPusher
from storage.crypto import configure
from tests.botprocess import STAFF_CHATS, TOKEN, BotProcess
from tests.factories import TEST_KEY
from tests.pgserver import database_name, free_port, throwaway_cluster
from tests.scripted import Driver, Member, check_cases

FIRST_MEMBER = 760000000
SECRET = "load-test-secret"


@dataclass(frozen=True)
class Scenario:
    name: str
    members: int
    think: tuple[float, float]
    raise_limits: bool = False


SCENARIOS = {
    "realistic": Scenario("realistic", 300, (5.0, 20.0)),
    "overload": Scenario("overload", 500, (0.3, 1.5)),
    "capacity": Scenario("capacity", 300, (0.0, 0.05), raise_limits=True),
}


@dataclass(frozen=True)
class Setup:
    database: str  # sqlite | postgres
    instances: int
    webhook: bool


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def largest_in_window(times: Sequence[float], seconds: float) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] > seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


@contextmanager
def fake_telegram(*, flood_limits: bool) -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram(token=TOKEN)
    for chat in STAFF_CHATS.values():
        fake.register_chat(chat, type="supergroup", title=f"工作群{chat}")
    if flood_limits:
        fake.enforce_flood_limits()
    server = FakeTelegramServer(fake)
    base_url = server.start()
    try:
        yield fake, base_url
    finally:
        server.stop()


@contextmanager
def database(kind: str, label: str, work: Path, postgres_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'bot.db'}"
    elif postgres_url:
        yield postgres_url
    else:
        with throwaway_cluster() as cluster:
            yield cluster.create_database(database_name(label))


def bots(
    setup: Setup, work: Path, base_url: str, database_url: str, **settings: object
) -> list[BotProcess]:
    common: dict[str, Any] = {
        "api_base_url": base_url,
        "database_url": database_url,
        # Scripted members type faster than people: flood control is not what is measured.
        "flood_burst": 1000,
        **settings,
    }
    if setup.instances > 1:
        # Telegram's overall limit is the bot's: the instances share it.
        rate = float(str(common.get("send_rate_per_second", 30)))
        common["send_rate_per_second"] = rate / setup.instances
        common["group_messages_per_minute"] = 20 // setup.instances
    if not setup.webhook:
        return [BotProcess("run", work, data_dir=work / "data", **common)]
    return [
        BotProcess(
            "webhook",
            work / f"bot{n}",
            name=f"bot{n}",
            data_dir=work / f"bot{n}" / "data",
            files_dir=work / "files",  # shared: staff may open a file on either instance
            webhook_url="https://bot.example.org/hook",
            webhook_secret=SECRET,
            webhook_port=free_port(),
            **common,
        )
        for n in range(setup.instances)
    ]


def webhook_targets(processes: Sequence[BotProcess]) -> list[str]:
    return [f"http://127.0.0.1:{bot.settings['webhook_port']}/hook" for bot in processes]


def run(
    scenario: Scenario,
    setup: Setup,
    *,
    postgres_url: str | None,
    timeout: float,
    keep: bool = False,
) -> None:
    work = Path(tempfile.mkdtemp(prefix="union-bot-load-"))
    label = f"load_{scenario.name}_{time.time_ns()}"
    with (
        fake_telegram(flood_limits=not scenario.raise_limits) as (fake, base_url),
        database(setup.database, label, work, postgres_url) as database_url,
    ):
        settings = {"send_rate_per_second": 0} if scenario.raise_limits else {}
        processes = bots(setup, work, base_url, database_url, **settings)
        for process in processes:
            process.start()
        members = [
            Member(n, {"id": FIRST_MEMBER + n, "first_name": f"会员{n}"})
            for n in range(scenario.members)
        ]
        updates_before = fake._last_update_id
        began = time.monotonic()
        driver_cpu = time.process_time()

        async def everyone() -> None:
            pusher = (
                WebhookPusher(fake, webhook_targets(processes), secret=SECRET, connections=40)
                if setup.webhook
                else nullcontext()
            )
            async with pusher:
                await asyncio.gather(
                    *(Driver(fake, m, scenario.think).run(timeout) for m in members)
                )

        try:
            asyncio.run(everyone())
            elapsed = time.monotonic() - began
            peaks = [process.peak_rss_mib() for process in processes]
            cpu = sum(process.cpu_seconds() for process in processes)
            driver_cpu = time.process_time() - driver_cpu
        finally:
            stops = [process.stop() for process in processes]
        updates = fake._last_update_id - updates_before
        lost, duplicated, mixed = check_cases(database_url, members)
        held_up = [
            line.partition("held up: ")[2]
            for process in processes
            for line in process.log().splitlines()
            if "event loop held up" in line
        ]
    report(
        scenario,
        setup,
        fake,
        members,
        began_at=began,
        elapsed=elapsed,
        updates=updates,
        peaks=peaks,
        stops=stops,
        lost=lost,
        duplicated=duplicated,
        mixed=mixed,
    )
    print(
        f"bot CPU                     {cpu:.0f} s = {1000 * cpu / max(updates, 1):.1f} ms per "
        f"update ({100 * cpu / elapsed / len(processes):.0f}% of a core per instance); "
        f"the members and the fake Telegram: {100 * driver_cpu / elapsed:.0f}% of a core"
    )
    print(
        "event loop held up          "
        + ("; ".join(held_up[-5:]) if held_up else "never over 100 ms (bot.looplag)")
    )
    if keep:
        print(f"the bot's folder and log: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def report(
    scenario: Scenario,
    setup: Setup,
    fake: FakeTelegram,
    members: Sequence[Member],
    *,
    began_at: float,
    elapsed: float,
    updates: int,
    peaks: Sequence[float],
    stops: Sequence[float],
    lost: int,
    duplicated: int,
    mixed: int,
) -> None:
    latencies = [x for m in members for x in m.latencies]
    median = statistics.median(latencies) if latencies else float("nan")
    longest = max(latencies, default=0.0)
    sends = sorted(fake.sends)
    groups = set(STAFF_CHATS.values())
    busiest = max(
        (largest_in_window([at for at, _, c in sends if c == g], 60.0) for g in groups),
        default=0,
    )
    overall = largest_in_window([at for at, _, _ in sends], 1.0)
    span = (sends[-1][0] - sends[0][0]) if len(sends) > 1 else 0.0
    mean_rate = len(sends) / span if span else 0.0
    # The middle of the run, without the start and the last stragglers.
    start_at = sends[0][0] if sends else 0.0
    low, high = start_at + 0.1 * span, start_at + 0.9 * span
    middle = sum(1 for at, _, _ in sends if low <= at < high) / (0.8 * span) if span else 0.0
    private = max(
        (largest_in_window([at for at, _, c in sends if c == m.id], 1.0) for m in members[:200]),
        default=0,
    )
    completed = sum(1 for m in members if m.case_number)
    how = "webhook" if setup.webhook else "polling"
    print(
        f"\n== {scenario.name}: {scenario.members} members, think {scenario.think[0]}–"
        f"{scenario.think[1]} s, {setup.database}, {setup.instances} instance(s), {how}"
    )
    print(
        f"completed applications      {completed} of {scenario.members}"
        f"   (stalled: {sum(1 for m in members if m.error)})"
    )
    print(f"lost / duplicated / mixed   {lost} / {duplicated} / {mixed}")
    print(
        f"reply latency per step      p50 {median:.2f} s   p95 {percentile(latencies, 0.95):.2f} s"
        f"   p99 {percentile(latencies, 0.99):.2f} s   max {longest:.2f} s"
        f"   (max/median {longest / median if median else 0:.1f}×)"
    )
    print(f"updates handled             {updates} in {elapsed:.0f} s = {updates / elapsed:.1f}/s")
    print(f"bot peak memory             {' + '.join(f'{p:.0f}' for p in peaks)} MiB")
    print(
        f"outbound, largest           {overall}/s overall (limit 30), {busiest}/min in one "
        f"group (limit 20), {private}/s in one private chat; mean {mean_rate:.1f}/s over "
        f"{span:.0f} s, {middle:.1f}/s in its middle 80%"
    )
    print(
        f"429 from the fake           {fake.flood_refusals} (sent faster than Telegram allows:"
        f" {fake.flood_refusals_by or 'none'})"
    )
    print(f"stop after SIGTERM          {' / '.join(f'{s:.1f}' for s in stops)} s")
    methods: dict[str, int] = {}
    for method, _ in list(fake.calls):
        methods[method] = methods.get(method, 0) + 1
    steps = len(latencies) or 1
    print(
        "Bot API calls per step      "
        + ", ".join(
            f"{name} {count / steps:.2f}"
            for name, count in sorted(methods.items(), key=lambda x: -x[1])
            if name != "getUpdates"
        )
    )
    by_kind: dict[str, list[float]] = {}
    for member in members:
        for kind, _at, took in member.steps:
            by_kind.setdefault(kind, []).append(took)
    print(
        "p95 by step                 "
        + ", ".join(f"{kind} {percentile(took, 0.95):.2f}" for kind, took in by_kind.items())
    )
    slow = sorted((at, took) for m in members for _k, at, took in m.steps if took > 2 * median)
    if slow:
        print(
            f"slow steps (> 2× median)    {len(slow)}, sent between "
            f"{slow[0][0] - began_at:.0f} s and {slow[-1][0] - began_at:.0f} s into the run"
        )
    if any(m.error for m in members):
        print("first stalls:", "; ".join(m.error or "" for m in members if m.error)[:300])


def main(argv: list[str] | None = None) -> int:
    configure([TEST_KEY])  # the bots write with the tests' key; the checks read with it
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--members", type=int, help="instead of the scenario's number")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--instances", type=int, choices=[1, 2], default=1)
    parser.add_argument("--webhook", action="store_true", help="webhooks instead of polling")
    parser.add_argument("--timeout", type=float, default=300.0, help="per step, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the bot's folder and log")
    args = parser.parse_args(argv)
    if args.instances > 1 and args.database != "postgres":
        parser.error("several instances share one PostgreSQL database: add --database postgres")
    setup = Setup(args.database, args.instances, args.webhook or args.instances > 1)
    chosen = list(SCENARIOS.values()) if args.scenario == "all" else [SCENARIOS[args.scenario]]
    for scenario in chosen:
        if args.members:
            scenario = Scenario(scenario.name, args.members, scenario.think, scenario.raise_limits)
        run(scenario, setup, postgres_url=args.postgres_url, timeout=args.timeout, keep=args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
