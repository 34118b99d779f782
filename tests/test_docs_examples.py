"""Every ```python block of docs/*.md and README.md runs against a fake EarthScope.

So the documentation cannot rot: a renamed method or a wrong argument in an example fails
this test. How a block runs is chosen by an HTML comment on the line(s) just before its
fence (invisible on the site and on GitHub); options combine with ``;``:

* no comment: a script. It runs as ``python example.py`` in its own subprocess, in a fresh
  working directory holding ``urls.txt`` (URLs of files the fake serves), with ``HOME`` a
  fresh directory, ``ES_OAUTH2__DOMAIN`` and ``ES_RESOURCES__API_URL`` pointing at the fake
  (``auto_approve_after=0``, no polling interval, so a device login completes at once) and
  valid tokens already in ``~/.earthscope/default/tokens.json``;
* ``<!-- docs-test: logged-out -->``: the same, without the tokens;
* ``<!-- docs-test: env NAME=VALUE ... -->``: extra environment variables; ``{refresh_token}``
  in a value is replaced by a refresh token the fake accepts;
* ``<!-- docs-test: pytest -->``: the block is a test module, run with pytest;
* ``<!-- docs-test: skip (reason) -->``: not run; the reason is mandatory (fragments,
  signatures, protocols, examples that need production EarthScope).

Blocks run in parallel, a few subprocesses at a time. ``test_runner_reports_broken_example``
checks that the runner really fails on a broken example.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from earthscope_sdk_async.testing import FakeEarthScope

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
MIN_EXECUTED = 30
BLOCK_TIMEOUT = 300.0  # a hang guard, far above what a starved machine needs
WORKERS = 4
DEMO_FILES = {
    "2024/001/P123.rnx": 150_000,
    "2024/001/P456.rnx": 90_000,
    "2024/002/P789.rnx": 60_000,
}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:(?P<options>.*?)-->\s*$")
_SKIP = re.compile(r"^skip\s*\((?P<reason>.*\S.*)\)$")
_DROPPED_ENV = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_CONNECTION",
    "SSH_TTY",
    "XDG_CONFIG_HOME",
    "APP_DIRECTORY",
    "API_BASE_URL",
    "PYTEST_ADDOPTS",
    "COLUMNS",
)


@dataclass
class Block:
    """One fenced Python block and how to run it."""

    source: str
    line: int
    code: str
    skip: str | None = None
    pytest: bool = False
    logged_out: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Outcome:
    block: Block
    ok: bool
    output: str


# -- extraction -----------------------------------------------------------------------------


def _apply_option(block: Block, option: str) -> None:
    if re.match(r"skip\b", option) and not option.startswith("skip-"):
        match = _SKIP.match(option)
        if match is None:
            raise ValueError(f"{block.where}: 'skip' needs a reason: skip (why it cannot run)")
        block.skip = match["reason"].strip()
    elif option == "pytest":
        block.pytest = True
    elif option == "logged-out":
        block.logged_out = True
    elif option.startswith("env "):
        for pair in shlex.split(option[4:]):
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise ValueError(f"{block.where}: env wants NAME=VALUE, got {pair!r}")
            block.env[name] = value
    else:
        raise ValueError(f"{block.where}: unknown docs-test option {option!r}")


def _split_options(text: str) -> list[str]:
    """Split on ``;`` outside parentheses (a skip reason may contain ``;``)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def extract_blocks(path: Path, root: Path = ROOT) -> list[Block]:
    """The ```python blocks of a Markdown file, with the options of the comments before them.

    Raises ValueError for a marker that is not right before a Python block, an unknown
    option, a skip without a reason or an unclosed fence.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    blocks: list[Block] = []
    pending: list[tuple[int, str]] = []  # markers waiting for their block
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = _MARKER.match(line)
        fence = _FENCE.match(line)
        if marker:
            pending.append((index + 1, marker["options"]))
        elif fence:
            end = _closing_fence(lines, index, fence["indent"], name)
            if fence["lang"] in ("python", "py"):
                code = textwrap.dedent("\n".join(lines[index + 1 : end]))
                block = Block(name, index + 1, code + "\n")
                for _, options in pending:
                    for option in _split_options(options):
                        _apply_option(block, option)
                blocks.append(block)
            elif pending:
                raise ValueError(
                    f"{name}:{pending[0][0]}: docs-test marker before a non-Python block"
                )
            pending = []
            index = end
        elif line.strip() and pending:
            raise ValueError(f"{name}:{pending[0][0]}: docs-test marker not right before a block")
        index += 1
    if pending:
        raise ValueError(f"{name}:{pending[0][0]}: docs-test marker at the end of the file")
    return blocks


def _closing_fence(lines: list[str], start: int, indent: str, name: str) -> int:
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "```" and lines[end].startswith(indent):
            return end
    raise ValueError(f"{name}:{start + 1}: unclosed code fence")


def all_blocks() -> list[Block]:
    return [block for path in SOURCES for block in extract_blocks(path)]


# -- running ----------------------------------------------------------------------------------


def _environment(block: Block, fake: FakeEarthScope, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ES_") and k not in _DROPPED_ENV}
    env.update(HOME=str(home), NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(ES_OAUTH2__DOMAIN=fake.url, ES_RESOURCES__API_URL=fake.url)
    for name, value in block.env.items():
        if "{refresh_token}" in value:
            value = value.replace("{refresh_token}", fake.issue_tokens().refresh_token or "")
        env[name] = value
    return env


def _prepare(block: Block, fake: FakeEarthScope, workdir: Path) -> tuple[list[str], Path]:
    home, cwd = workdir / "home", workdir / "cwd"
    home.mkdir(parents=True)
    cwd.mkdir()
    if not block.logged_out and not block.pytest:
        tokens_dir = home / ".earthscope" / "default"
        tokens_dir.mkdir(mode=0o700, parents=True)
        tokens_file = tokens_dir / "tokens.json"
        tokens_file.write_text(fake.issue_tokens().to_json())
        tokens_file.chmod(0o600)
    (cwd / "urls.txt").write_text("".join(fake.file_url(p) + "\n" for p in DEMO_FILES))
    if block.pytest:
        (cwd / "test_example.py").write_text(block.code)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "test_example.py",
        ]
    else:
        (cwd / "example.py").write_text(block.code)
        command = [sys.executable, "-W", "error", "example.py"]
    return command, cwd


def run_block(block: Block, fake: FakeEarthScope, workdir: Path) -> Outcome:
    """Run one block in a subprocess; ``ok`` when it exits with status 0."""
    command, cwd = _prepare(block, fake, workdir)
    env = _environment(block, fake, workdir / "home")
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(block, False, f"timed out after {BLOCK_TIMEOUT} s\n{exc.stdout}{exc.stderr}")
    output = f"exit status {done.returncode}\n{done.stdout}{done.stderr}"
    return Outcome(block, done.returncode == 0, output)


def run_blocks(blocks: list[Block], fake: FakeEarthScope, tmp: Path) -> list[Outcome]:
    """Run every non-skipped block, ``WORKERS`` at a time, each in its own directories."""
    runnable = [b for b in blocks if b.skip is None]
    with ThreadPoolExecutor(WORKERS) as pool:
        jobs = [pool.submit(run_block, b, fake, tmp / f"block{i}") for i, b in enumerate(runnable)]
        return [job.result() for job in jobs]


def failure_report(outcomes: list[Outcome]) -> str:
    failed = [o for o in outcomes if not o.ok]
    parts = [f"{len(failed)} of {len(outcomes)} documentation examples failed:"]
    for outcome in failed:
        tail = "\n".join(outcome.output.strip().splitlines()[-25:])
        parts.append(f"--- {outcome.block.where}\n{textwrap.indent(tail, '    ')}")
    return "\n".join(parts)


# -- tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_fake() -> Iterator[FakeEarthScope]:
    with FakeEarthScope(auto_approve_after=0, device_interval=0) as fake:
        for path, size in DEMO_FILES.items():
            fake.add_file(path, size=size)
        yield fake


def test_markers_are_valid_and_every_skip_has_a_reason() -> None:
    blocks = all_blocks()  # raises on a reasonless skip or a misplaced marker
    skipped = [b for b in blocks if b.skip is not None]
    assert all(len(b.skip or "") >= 10 for b in skipped), [b.where for b in skipped]
    assert len(blocks) - len(skipped) >= MIN_EXECUTED, (
        f"only {len(blocks) - len(skipped)} examples run; at least {MIN_EXECUTED} should"
    )


def test_enough_docs_examples_run() -> None:
    executed = [b for b in all_blocks() if b.skip is None]
    assert len(executed) >= MIN_EXECUTED


# One test per page, each example in its own subprocess. The timeout is a hang guard far
# above what a starved machine needs (the examples' verdicts do not depend on speed).
@pytest.mark.timeout(600)
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_docs_example_runs(source: Path, docs_fake: FakeEarthScope, tmp_path: Path) -> None:
    outcomes = run_blocks(extract_blocks(source), docs_fake, tmp_path)
    assert all(o.ok for o in outcomes), failure_report(outcomes)


def test_runner_reports_broken_example(docs_fake: FakeEarthScope, tmp_path: Path) -> None:
    """Self-test: broken examples (script and pytest) fail; good ones pass."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n"
        "```python\nfrom earthscope_sdk_async import EarthScopeClient\n\n"
        "with EarthScopeClient() as client:\n    print(client.user.get_profile())\n```\n\n"
        "Broken: a method that does not exist.\n\n"
        "```python\nfrom earthscope_sdk_async import EarthScopeClient\n\n"
        "with EarthScopeClient() as client:\n    client.user.get_profiel()\n```\n\n"
        "<!-- docs-test: pytest -->\n"
        "```python\ndef test_wrong() -> None:\n    assert 1 + 1 == 3\n```\n\n"
        "<!-- docs-test: skip (a fragment that is not valid Python) -->\n"
        "```python\nclient.\n```\n"
    )
    blocks = extract_blocks(page, tmp_path)
    assert [b.line for b in blocks] == [3, 12, 20, 26]
    assert blocks[3].skip == "a fragment that is not valid Python"
    outcomes = run_blocks(blocks, docs_fake, tmp_path / "run")
    assert [o.ok for o in outcomes] == [True, False, False]
    report = failure_report(outcomes)
    assert "2 of 3 documentation examples failed" in report
    assert "page.md:12" in report and "get_profiel" in report
    assert "page.md:20" in report and "test_wrong - assert (1 + 1) == 3" in report


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- docs-test: skip -->\n```python\nx\n```\n", "needs a reason"),
        ("<!-- docs-test: skip () -->\n```python\nx\n```\n", "needs a reason"),
        ("<!-- docs-test: skipp (typo) -->\n```python\nx\n```\n", "unknown docs-test option"),
        ("<!-- docs-test: logged-out -->\n\ntext\n```python\nx\n```\n", "not right before"),
        ("<!-- docs-test: pytest -->\n```sh\nls\n```\n", "non-Python block"),
        ("```python\nx\n", "unclosed code fence"),
    ],
)
def test_bad_markers_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    page = tmp_path / "bad.md"
    page.write_text(text)
    with pytest.raises(ValueError, match=message):
        extract_blocks(page, tmp_path)


def test_env_option_and_indented_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '=== "Tab"\n\n'
        "    <!-- docs-test: logged-out; env A=1 B='two words' -->\n"
        "    ```python\n    if True:\n        print(1)\n    ```\n"
    )
    (block,) = extract_blocks(page, tmp_path)
    assert block.logged_out and block.env == {"A": "1", "B": "two words"}
    assert block.code == "if True:\n    print(1)\n"
