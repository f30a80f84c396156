"""The `union-bot` command line.

Each command imports what it needs when it runs, so that `union-bot route` starts fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from bot.settings import Settings, StorageSettings

SettingsT = TypeVar("SettingsT", bound="StorageSettings")

logger = logging.getLogger("union_bot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result: int = args.command(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="union-bot", description="河东区总工会服务助手 (union-bot)"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    route = commands.add_parser(
        "route",
        help="route questions: one per stdin line (or the argument), one JSON line each",
    )
    route.add_argument("question", nargs="*", help="a question; without it, read stdin")
    route.set_defaults(command=_route)

    importer = commands.add_parser(
        "import-duties", help="import the union's duty list into the catalogue data file"
    )
    importer.add_argument("path", type=Path, help="text extracted from the duty list .docx")
    importer.add_argument(
        "--output", type=Path, default=None, help="where to write (default: knowledge/duties.toml)"
    )
    importer.set_defaults(command=_import_duties)

    evaluate = commands.add_parser(
        "eval", help="evaluate routing on a labelled .tsv (question, duties, aspects)"
    )
    evaluate.add_argument("path", type=Path)
    evaluate.add_argument("--report", type=Path, help="also write the report as JSON here")
    for name, what in (
        ("top1", "top-1 accuracy"),
        ("top3", "top-3 accuracy"),
        ("rejection", "out-of-scope rejection rate"),
        ("aspect", "aspect accuracy"),
    ):
        evaluate.add_argument(
            f"--min-{name}",
            type=float,
            default=None,
            metavar="PERCENT",
            help=f"exit 1 if {what} is below this percentage",
        )
    evaluate.set_defaults(command=_eval)

    run = commands.add_parser("run", help="run the Telegram bot (long polling)")
    webhook = commands.add_parser(
        "webhook",
        help="run the Telegram bot as a webhook server (behind nginx; several may share "
        "one PostgreSQL database)",
    )
    webhook.set_defaults(command=_webhook)
    run.set_defaults(command=_run)

    chat = commands.add_parser(
        "chat", help="talk to the bot in this terminal, against a fake Telegram (no token)"
    )
    chat.add_argument(
        "--keep",
        action="store_true",
        help="keep cases and drafts in data/chat.db between runs (default: start afresh)",
    )
    chat.set_defaults(command=_chat)

    database = commands.add_parser("db", help="the database schema")
    database.add_argument("action", choices=["upgrade", "current"])
    database.set_defaults(command=_db)

    staff = commands.add_parser("staff", help="the staff roster: who may act on cases")
    roster = staff.add_subparsers(required=True, metavar="ACTION")
    add = roster.add_parser("add", help="add a staffer (or change one already on the roster)")
    add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    add.add_argument("--name", required=True, help="how cards and members see them: 李干事")
    add.add_argument(
        "--department",
        required=True,
        help="组织部, 民主管理部, 权益保障部, 宣传教育部, or 全部 (all)",
    )
    add.add_argument(
        "--role",
        default="handler",
        help="handler (acts on cases), lead (also reassigns, statistics), "
        "admin (also the roster and full exports); default handler",
    )
    add.set_defaults(command=_staff, action="add")
    remove = roster.add_parser("remove", help="take a staffer off the roster")
    remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    remove.set_defaults(command=_staff, action="remove")
    listing = roster.add_parser("list", help="everyone on the roster")
    listing.set_defaults(command=_staff, action="list")

    doctor = commands.add_parser(
        "doctor",
        help="check settings, database, roster, working calendar, chart font, the token and "
        "the staff chats",
    )
    doctor.add_argument(
        "--offline",
        action="store_true",
        help="do not ask the Bot API server about the token and the staff chats",
    )
    doctor.set_defaults(command=_doctor)

    keys = commands.add_parser(
        "keys", help="the key personal data is encrypted with (kept outside the database)"
    )
    key_actions = keys.add_subparsers(required=True, metavar="ACTION")
    new_key = key_actions.add_parser(
        "new",
        help="make a key and write it to the key file (UNIONBOT_KEY_FILE, default "
        "data/union-bot.key); --add puts it before the keys already there, for a rotation",
    )
    new_key.add_argument("--add", action="store_true", help="keep the keys already there")
    new_key.set_defaults(command=_keys, action="new")
    rotate = key_actions.add_parser(
        "rotate",
        help="re-encrypt every stored value and file under the first key (after `keys new "
        "--add` and a restart of the bot); then the older keys can be removed",
    )
    rotate.set_defaults(command=_keys, action="rotate")
    reindex = key_actions.add_parser(
        "reindex",
        help="write the search keys (keyed hashes staff search by) of every case: after an "
        "upgrade, for cases filed before the index (a rotation does it too)",
    )
    reindex.set_defaults(command=_keys, action="reindex")

    misses = commands.add_parser(
        "misses", help="questions the bot could not settle, grouped and counted"
    )
    misses.add_argument("--limit", type=int, default=100, help="show at most this many")
    misses.set_defaults(command=_misses)
    return parser


def _run(args: argparse.Namespace) -> int:
    return _serve("run")


def _webhook(args: argparse.Namespace) -> int:
    return _serve("webhook")


def _serve(command: str) -> int:
    """Run the bot until SIGTERM or ^C: polling getUpdates (`run`) or serving webhooks."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError

    from bot.app import ALLOWED_UPDATES, build_application
    from bot.inbox import INBOX_KEY, default_instance_name
    from bot.settings import Settings

    if (settings := _settings(Settings, command, keys=True)) is None:
        return 2
    if command == "webhook":
        missing = [
            name
            for name, value in (
                ("UNIONBOT_WEBHOOK_URL", settings.webhook_url),
                ("UNIONBOT_WEBHOOK_SECRET", settings.webhook_secret),
            )
            if not value
        ]
        if missing:
            print(f"union-bot webhook: {missing[0]} is missing", file=sys.stderr)
            return 2
        if not settings.instance_name:
            # Instances on one machine and data folder differ by their port.
            name = f"{default_instance_name(str(settings.data_dir))}:{settings.webhook_port}"
            settings = settings.model_copy(update={"instance_name": name})
    logging.getLogger().setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line for every request
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        app = build_application(settings)
    except SQLAlchemyError as error:
        print(
            f"union-bot {command}: UNIONBOT_DATABASE_URL: the database cannot be opened "
            f"({type(error).__name__})",
            file=sys.stderr,
        )
        return 2
    try:
        # Ask the server about the token once first: a refused token is then one clear line,
        # not PTB's traceback from inside its polling loop.
        asyncio.run(_check_token(settings))
        if command == "run":
            # Polling: this process alone fetches, in order (bot.inbox).
            app.bot_data[INBOX_KEY].fetches_alone = True
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            assert settings.webhook_secret is not None
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
    except InvalidToken:
        print(
            f"union-bot {command}: UNIONBOT_TOKEN was refused by the Bot API server",
            file=sys.stderr,
        )
        return 2
    except OSError as error:  # the port is taken, or not ours to listen on
        print(
            f"union-bot {command}: cannot listen on {settings.webhook_listen}:"
            f"{settings.webhook_port} ({error.strerror or type(error).__name__})",
            file=sys.stderr,
        )
        return 2
    except NetworkError as error:
        print(
            f"union-bot {command}: UNIONBOT_API_BASE_URL cannot be reached "
            f"({type(error).__name__})",
            file=sys.stderr,
        )
        return 2
    return 0


async def _check_token(settings: Settings) -> None:
    from telegram import Bot

    bot = Bot(
        settings.token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_file_url,
    )
    async with bot:
        pass  # initialize() calls getMe


def _chat(args: argparse.Namespace) -> int:
    import asyncio

    from bot.chat import run_chat
    from bot.settings import SettingsError

    try:
        return asyncio.run(run_chat(keep=args.keep))
    except SettingsError as error:
        print(f"union-bot chat: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _settings(kind: type[SettingsT], command: str, *, keys: bool = False) -> SettingsT | None:
    """The settings (and, with `keys`, the encryption keys in use), or None after one line on
    stderr that names what is wrong."""
    from bot.settings import SettingsError, load_settings
    from storage.crypto import EncryptionKeyError

    try:
        settings = load_settings(kind)
        if keys:
            settings.use_keys()
        return settings
    except (SettingsError, EncryptionKeyError) as error:
        print(f"union-bot {command}: {error}", file=sys.stderr)
        return None


def _keys(args: argparse.Namespace) -> int:
    from bot.settings import StorageSettings
    from storage.crypto import (
        EncryptionKeyError,
        new_key,
        read_key_file,
        rotate_database,
        rotate_files,
        write_key_file,
    )
    from storage.db import make_engine
    from storage.search import reindex

    if (settings := _settings(StorageSettings, "keys")) is None:
        return 2
    path = settings.key_path
    if args.action == "new":
        old = read_key_file(path) if path.is_file() else []
        if old and not args.add:
            print(
                f"union-bot keys new: {path} has a key already; `keys new --add` adds one for "
                "a rotation (replacing it would make the stored data unreadable)",
                file=sys.stderr,
            )
            return 2
        write_key_file(path, [new_key(), *old])
        print(f"a new key is first in {path} (mode 600); keep a copy of this file in a safe place")
        return 0
    try:
        settings.use_keys()
        engine = make_engine(settings.database_url)
        if args.action == "reindex":
            print(f"wrote the search keys of {reindex(engine)} cases")
            return 0
        values = rotate_database(engine)
        files = rotate_files(settings.uploads_dir)
        cases = reindex(engine)  # the keyed hashes follow the first key
    except EncryptionKeyError as error:
        print(f"union-bot keys {args.action}: {error}", file=sys.stderr)
        return 2
    print(
        f"re-encrypted {values} stored values and {files} files under the first key, and "
        f"rewrote the search keys of {cases} cases"
    )
    return 0


def _db(args: argparse.Namespace) -> int:
    from bot.settings import StorageSettings
    from storage.db import make_engine
    from storage.migrate import current

    if (settings := _settings(StorageSettings, "db")) is None:
        return 2
    engine = make_engine(settings.database_url, migrate=args.action == "upgrade")
    print(f"{engine.url.render_as_string(hide_password=True)}: revision {current(engine)}")
    return 0


def _staff(args: argparse.Namespace) -> int:
    from bot import texts
    from bot.roster import (
        RosterError,
        parse_department,
        parse_name,
        parse_role,
        roster_line,
        roster_text,
    )
    from bot.settings import StorageSettings
    from knowledge.catalogue import load_catalogue
    from storage.db import make_engine, session_scope
    from storage.staff import add_staff, remove_staff, roster

    if (settings := _settings(StorageSettings, "staff")) is None:
        return 2
    with session_scope(make_engine(settings.database_url)) as session:
        if args.action == "list":
            print(roster_text(roster(session=session)))
            return 0
        if args.action == "remove":
            removed = remove_staff(session=session, telegram_id=args.telegram_id)
            if removed is None:
                print(texts.ROSTER_NOT_FOUND.format(telegram_id=args.telegram_id))
                return 1
            print(texts.ROSTER_REMOVED.format(line=roster_line(removed)))
            return 0
        try:
            name = parse_name(args.name)
            department = parse_department(args.department, load_catalogue().departments())
            role = parse_role(args.role)
        except RosterError as error:
            print(f"union-bot staff: {error}", file=sys.stderr)
            return 2
        staffer, created = add_staff(
            session=session,
            telegram_id=args.telegram_id,
            name=name,
            department=department,
            role=role,
        )
        done = texts.ROSTER_ADDED if created else texts.ROSTER_UPDATED
        print(done.format(line=roster_line(staffer)))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    import asyncio

    from bot import texts
    from bot.doctor import Finding, Level, examine, examine_telegram
    from bot.settings import Settings, SettingsError, StorageSettings, load_settings
    from storage.models import utcnow

    if (storage := _settings(StorageSettings, "doctor")) is None:
        return 2
    settings: Settings | SettingsError
    try:
        settings = load_settings(Settings)
    except SettingsError as error:
        settings = error
    findings = examine(storage, settings, utcnow())
    if isinstance(settings, Settings):  # without settings there is no token to try
        if args.offline:
            findings.append(Finding(Level.NOTE, texts.DOCTOR_OFFLINE))
        else:
            findings += asyncio.run(examine_telegram(settings))
    for finding in findings:
        print(f"{finding.level.value} {finding.text}")
    problems = sum(finding.level is Level.PROBLEM for finding in findings)
    print(
        texts.DOCTOR_SUMMARY_PROBLEMS.format(count=problems)
        if problems
        else texts.DOCTOR_SUMMARY_OK
    )
    return 1 if problems else 0


def _misses(args: argparse.Namespace) -> int:
    from bot import texts
    from bot.settings import StorageSettings
    from storage.cases import miss_summary
    from storage.db import make_engine, session_scope

    if (settings := _settings(StorageSettings, "misses", keys=True)) is None:
        return 2
    with session_scope(make_engine(settings.database_url)) as session:
        rows = miss_summary(session=session)
    if not rows:
        print(texts.MISSES_NONE)
        return 0
    print(texts.MISSES_HEADER)
    for question, reasons, total in rows[: args.limit]:
        why = ", ".join(f"{reason}×{count}" for reason, count in sorted(reasons.items()))
        print(f"{total:>6}  {why:<16}  {question}")
    print(texts.MISSES_TOTAL.format(questions=len(rows), times=sum(row[2] for row in rows)))
    return 0


def _route(args: argparse.Namespace) -> int:
    from knowledge.router import Route, RouteKind, build_router

    router = build_router()
    questions: Iterable[str] = (
        [_from_argv(" ".join(args.question))] if args.question else _stdin_lines(sys.stdin.buffer)
    )
    out = sys.stdout.buffer  # UTF-8 whatever the locale says
    for question in questions:
        try:
            route = router.route(question)
        except Exception:  # one bad line must not stop the stream
            logger.exception("routing failed for a line of %d characters", len(question))
            route = Route(question, RouteKind.OUT_OF_SCOPE, None, None, 0.0)
        out.write((json.dumps(route.to_json(), ensure_ascii=False) + "\n").encode("utf-8"))
        out.flush()
    return 0


def _from_argv(text: str) -> str:
    """Invalid UTF-8 in an argument arrives as lone surrogates; make it U+FFFD instead."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")


def _stdin_lines(stream: IO[bytes]) -> Iterable[str]:
    """Lines as text, whatever bytes they hold: invalid UTF-8 becomes U+FFFD."""
    for raw in stream:
        yield raw.rstrip(b"\r\n").decode("utf-8", errors="replace")


def _import_duties(args: argparse.Namespace) -> int:
    from knowledge.catalogue import DEFAULT_CATALOGUE_PATH
    from knowledge.importer import CatalogueImportError, import_duty_list

    output = args.output or DEFAULT_CATALOGUE_PATH
    try:
        catalogue = import_duty_list(args.path, output)
    except (CatalogueImportError, OSError) as error:
        print(f"union-bot import-duties: {args.path}: {error}", file=sys.stderr)
        return 1
    print(
        f"imported {len(catalogue.areas)} areas and {len(catalogue)} duties into {output}",
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from knowledge.evaluation import DatasetError, evaluate, read_examples, render, source_in_bank
    from knowledge.router import build_router

    router = build_router()
    # A file the router learns from is measured against the other files, not against itself.
    leave_out = source_in_bank(router, args.path)
    try:
        examples = read_examples(args.path, known_duties=(d.id for d in router.catalogue))
        report = evaluate(router, examples, leave_out=leave_out)  # reads the example bank too
    except (DatasetError, OSError) as error:
        print(f"union-bot eval: {error}", file=sys.stderr)
        return 2
    print(render(report))
    if leave_out:
        print(f"\n{leave_out} is one of the router's example files: left out of them here.")
    if args.report:
        args.report.write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    floors = (
        ("top-1 accuracy", args.min_top1, report.top1_accuracy()),
        ("top-3 accuracy", args.min_top3, report.top3_accuracy()),
        ("out-of-scope rejection", args.min_rejection, report.rejection_rate()),
        ("aspect accuracy", args.min_aspect, report.aspect_accuracy()),
    )
    failed = [
        f"{name} {value:.2%} is below the floor {floor:g}%"
        for name, floor, value in floors
        if floor is not None and value * 100 < floor
    ]
    for line in failed:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
