"""The argument parser of ``earthscope-async``: every command, option and help text.

Only argparse and the exit-code table are imported here, so that parsing stays fast.
docs/cli.md is generated from this parser's ``--help`` output (docs/gen_cli_reference.py).
"""

from __future__ import annotations

import argparse

from .._version import __version__
from ._errors import EXIT_CODES

__all__ = ["COMMANDS", "build_parser"]

PROG = "earthscope-async"

DESCRIPTION = """\
Log in to EarthScope, get access tokens and download files.

New here? `earthscope-async demo` runs the whole journey against a built-in fake
EarthScope: no account and no network needed.

Settings are resolved like the library's: command-line options > ES_* environment
variables (ES_PROFILE, ES_OAUTH2__DOMAIN, ES_OAUTH2__CLIENT_ID, ES_OAUTH2__CLIENT_SECRET,
ES_RESOURCES__API_URL, ...) > ~/.earthscope/config.toml > defaults. Tokens are kept in
~/.earthscope/<profile>/tokens.json, the file earthscope-sdk 1.x and `es` use."""


def _epilog() -> str:
    lines = ["exit codes:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES]
    lines.append("")
    lines.append("Run `earthscope-async COMMAND --help` for a command's options.")
    return "\n".join(lines)


COMMANDS: dict[str, str] = {
    "login": "log in (device flow in a browser, or client credentials for machines)",
    "logout": "revoke the refresh token and delete the stored tokens",
    "refresh": "refresh the access token now",
    "token": "print a valid access token (refreshed if needed) and nothing else",
    "status": "show who is logged in and until when (never the tokens)",
    "profile": "print your EarthScope user profile as JSON",
    "download": "download files concurrently, with progress and a summary",
    "aws-credentials": "print temporary AWS credentials for a role (json, env or process)",
    "demo": "walk the whole journey against a built-in fake EarthScope (offline)",
}
"""Command name -> one-line summary, in the order of ``--help``."""

_DETAILS: dict[str, str] = {
    "login": """\
Log in to EarthScope. People use the device flow: the command shows a URL and a code
(XXXX-XXXX), opens a browser where one can open (not over SSH or without a display) and
waits, with a countdown, until you approve the code in the browser. Ctrl-C cancels.
When a client secret is configured (ES_OAUTH2__CLIENT_SECRET), the machine logs in with
client credentials instead. Tokens are saved to ~/.earthscope/<profile>/tokens.json.""",
    "logout": """\
Log out: revoke the refresh token at the identity provider (unless --no-revoke), then
delete the stored tokens. The local tokens are deleted even when revocation fails.""",
    "refresh": """\
Refresh the access token now, even when it is still fresh, and save the new tokens.""",
    "token": """\
Print a valid access token on stdout, and nothing else: for scripts, e.g.
  curl -H "Authorization: Bearer $(earthscope-async token)" ...
A fresh stored token is printed at once; an expired one is refreshed first.
This is the only command that prints a secret.""",
    "status": """\
Show the login state of a profile: who is logged in, the token file, when the access token
expires, the granted scopes and whether a refresh token is present. Tokens are never
printed. Makes no network request. Exits with code 3 when not logged in.""",
    "profile": """\
Print your EarthScope user profile (GET beta/user/profile) as JSON.""",
    "download": """\
Download files into DIR, N at a time, with a live progress bar and a final summary. Each
file is saved under the last segment of its URL; existing files are skipped (unless
--overwrite) and partial downloads are resumed, so running the same command again
retries only what failed. Exits with code 7 when some files failed; when every file
failed for the same reason, with that reason's code (e.g. 3 not logged in, 5 network).""",
    "aws-credentials": """\
Print temporary AWS credentials for an EarthScope role (GET beta/user/credentials/aws/ROLE)
on stdout: as JSON (default), as shell `export` lines (--format env), or as the JSON of the
AWS credential_process protocol (--format process). With a ~/.aws/config profile such as
  [profile earthscope]
  credential_process = earthscope-async aws-credentials --role s3-miniseed-v2 --format process
the AWS CLI, boto3, s5cmd, rclone or GDAL use EarthScope credentials, renewed as they expire.
Like `token`, this command prints secrets. Exits with code 4 when the role is refused.""",
    "demo": """\
Start a fake EarthScope on 127.0.0.1 in this process and walk the whole journey against
it, printing each step: device login (approved automatically), status, profile, a
200-file concurrent download with the progress bar, a forced refresh and logout. Needs no
account and no network; your own tokens are not touched.""",
}


def _common_options(*, top_level: bool) -> argparse.ArgumentParser:
    """``--profile`` and ``--debug``, accepted before or after the command name."""
    parent = argparse.ArgumentParser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    parent.add_argument(
        "--profile",
        metavar="NAME",
        default=default,
        help="settings profile (default: $ES_PROFILE, else 'default')",
    )
    parent.add_argument(
        "--debug",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="show debug logs, and a traceback on errors",
    )
    return parent


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _add_command_options(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "login":
        parser.add_argument(
            "--no-browser", action="store_true", help="do not try to open a web browser"
        )
        parser.add_argument(
            "--qr",
            action="store_true",
            help="also show the login URL as a QR code (needs the 'cli' extra)",
        )
    elif name == "logout":
        parser.add_argument(
            "--no-revoke",
            action="store_true",
            help="only delete the local tokens; do not revoke the refresh token",
        )
    elif name == "token":
        parser.add_argument(
            "--no-refresh",
            action="store_true",
            help="never refresh: fail (exit 3) if the stored token has expired",
        )
    elif name in ("status", "profile"):
        _json_option(parser)
    elif name == "download":
        _add_download_options(parser)
    elif name == "aws-credentials":
        _add_aws_options(parser)


def _add_aws_options(parser: argparse.ArgumentParser) -> None:
    from ._aws import FORMATS, parse_param

    parser.add_argument(
        "--role", required=True, help="the role, e.g. s3-miniseed-v2 (s3-miniseed is legacy)"
    )
    parser.add_argument(
        "--param",
        metavar="NAME=VALUE",
        action="append",
        type=parse_param,
        help="a role parameter, e.g. --param network=IU --param year=2024 (repeatable)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="json", help="output format (default: json)"
    )


def _add_download_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("urls", nargs="*", metavar="URL", help="URLs of the files to download")
    parser.add_argument(
        "--from-file",
        metavar="FILE",
        help="read more URLs from FILE, one per line ('-': stdin; '#' lines skipped)",
    )
    parser.add_argument("--dest", metavar="DIR", required=True, help="destination directory")
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=_positive_int,
        default=16,
        help="files downloaded at the same time (default: 16)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="download files that already exist again"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress display (the summary is still shown)"
    )
    _json_option(parser)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``earthscope-async`` parser; ``args.command`` names the command to run."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=formatter,
        parents=[_common_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    common = _common_options(top_level=False)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=_DETAILS[name],
            epilog="Exit codes: see `earthscope-async --help`.",
            formatter_class=formatter,
            parents=[common],
        )
        _add_command_options(name, sub)
    return parser
