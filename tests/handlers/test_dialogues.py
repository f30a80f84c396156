"""The dialogue corpus (tests/data/dialogues.toml) through the real Application: every step
of every scripted conversation has the outcome written beside it."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from tests.conftest import DATA
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _forms, fill

DIALOGUES: list[dict[str, Any]] = tomllib.loads(
    (DATA / "dialogues.toml").read_text(encoding="utf-8")
)["dialogue"]


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=[d["name"] for d in DIALOGUES])
async def test_dialogue(harness: Harness, dialogue: dict[str, Any]) -> None:
    for number, step in enumerate(dialogue["steps"], 1):
        if "form" in step:
            form = _forms(harness)[step["form"]]
            reply = await fill(
                harness,
                form,
                until=step.get("until"),
                typed=step.get("typed", False),
                yes=step.get("yes", True),
            )
        elif "press" in step:
            reply = await harness.press(step["press"])
        else:
            reply = await harness.say(step["say"])
        text = reply.get("text") or reply.get("caption") or ""
        where = f"step {number} ({step.get('say') or step.get('press') or step.get('form')})"
        for expected in step.get("expect", ()):
            assert expected in text, f"{where}: no {expected!r} in {text!r}"
        for unwanted in step.get("never", ()):
            assert unwanted not in text, f"{where}: {unwanted!r} in {text!r}"
