"""Developer tasks: ``nox -s tests lint typecheck``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True
# uv installs the (large) test extra in seconds where pip takes minutes; plain virtualenv +
# pip when uv is not installed.
nox.options.default_venv_backend = "uv|virtualenv"

PACKAGE = "earthscope_sdk_async"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (every async test on asyncio and trio)."""
    session.install("-e", ".[test]")
    # One worker per core, a test file per worker at a time (module fixtures set up once).
    session.run("pytest", "-n", "auto", "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", PACKAGE, "tests", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[test]", "mypy>=1.11")
    session.run("mypy", "--strict", PACKAGE)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks and rewrite benchmarks/RESULTS.md (not a default session)."""
    session.install("-e", ".[test,bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """Fleet figures on a CPU-starved machine into benchmarks/RESULTS.md (not a default
    session; needs ES_TEST_REDIS_URL or redis-server)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_stress.py", "--write", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ (mkdocs --strict: warnings are errors), then
    check that no code is clipped at 1280 px (docs/overflow.py: needs Chromium)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})
    session.run("python", "docs/overflow.py", "1280")
