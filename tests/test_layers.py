"""The layers import downwards only, so that each package stays what the README says it is.

knowledge/ (catalogue, lexicon, router, forms) needs no Telegram and nothing of the bot;
storage/ (the case store) needs no Telegram either; in bot/, only the assembly point
(bot/app.py) knows the handlers; and the fake Telegram (bot/fake/) knows nothing of the bot it
is a fake for.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# folder -> modules (and their submodules) it must never import, and those it may after all
FORBIDDEN = {
    "knowledge": ({"bot", "handlers", "storage", "telegram"}, set()),
    "storage": ({"bot", "handlers", "telegram"}, set()),
    "bot": ({"handlers"}, set()),
    "bot/fake": ({"bot", "handlers", "knowledge", "storage"}, {"bot.fake"}),
}
# The one module of a package that may break its rule, and why.
ALLOWED = {("bot/app.py", "handlers"): "the one assembly point registers the handlers"}


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module a file imports, anywhere in it (functions included), relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(root).parent.parts
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                if node.module:
                    names.add(".".join([*base, node.module]))
                else:  # from .. import x: x may be a module
                    names.update(".".join([*base, alias.name]) for alias in node.names)
            elif node.module:
                names.add(node.module)
    return names


def layer_violations(root: Path = ROOT) -> list[str]:
    found = []
    for folder, (forbidden, exempt) in FORBIDDEN.items():
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            for module in sorted(imported_modules(path, root)):
                top = module.split(".")[0]
                if (
                    top in forbidden
                    and not any(module == e or module.startswith(e + ".") for e in exempt)
                    and (relative, top) not in ALLOWED
                ):
                    found.append(f"{relative} imports {module}")
    return found


def test_layers_import_downwards_only() -> None:
    assert layer_violations() == []


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The rule catches plain, from-, relative and function-level imports."""
    fake_root = tmp_path
    (fake_root / "knowledge" / "sub").mkdir(parents=True)
    (fake_root / "knowledge" / "a.py").write_text("import telegram.ext\n")
    (fake_root / "knowledge" / "b.py").write_text("def f():\n    from bot import texts\n")
    (fake_root / "knowledge" / "sub" / "c.py").write_text("from ... import handlers\n")
    (fake_root / "knowledge" / "d.py").write_text("from knowledge.router import Router\n")
    (fake_root / "bot").mkdir()
    (fake_root / "bot" / "app.py").write_text("from handlers import member\n")
    (fake_root / "bot" / "chat.py").write_text("from handlers import member\n")
    (fake_root / "bot" / "fake").mkdir()
    (fake_root / "bot" / "fake" / "api.py").write_text("from bot.fake.state import X\n")
    (fake_root / "bot" / "fake" / "server.py").write_text("from bot import texts\n")
    assert layer_violations(fake_root) == [
        "knowledge/a.py imports telegram.ext",
        "knowledge/b.py imports bot",
        "knowledge/sub/c.py imports handlers",
        "bot/chat.py imports handlers",
        "bot/fake/server.py imports bot",
    ]
