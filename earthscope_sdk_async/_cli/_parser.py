"""The argument parser of ``earthscope-async``: every command, option and help text.

Only argparse and the exit-code table are imported here, so that parsing stays fast.
docs/cli.md is generated from this parser's ``--help`` output (docs/gen_cli_reference.py).
"""

from __future__ import annotations

import argparse

from .._version import __version__
from ._data_args import add_data_options, add_discover_options
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
    "discover": "list EarthScope networks, stations, sessions or streams",
    "data": "fetch GNSS observations, positions or ephemeris into Parquet or CSV",
    "dropoff": "upload data to EarthScope (validated, resumable); list, status, summary",
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
expires, the granted scopes and whether a refresh token is present (and whether the
identity provider already rejected it). Tokens are never printed. Makes no network
request unless --check is given. Exits with code 3 when not logged in, or when the
session is over (the refresh token was rejected and the access token has expired).""",
    "profile": """\
Print your EarthScope user profile (GET beta/user/profile) as JSON.""",
    "download": """\
Download files into DIR, N at a time, with a live progress bar and a final summary. Each
file is saved under the last segment of its URL; existing files are skipped (unless
--overwrite) and partial downloads are resumed, so running the same command again
retries only what failed. Exits with code 7 when some files failed; when every file
failed for the same reason, with that reason's code (e.g. 3 not logged in, 5 network).""",
    "discover": """\
List datasources (GET beta/discover/datasource/...): networks, stations, sessions or
streams, filtered by --network/--station/--interval, as a table or --json. Every page is
followed: nothing is cut at 1,000 unless you pass --limit.""",
    "data": """\
Fetch a GNSS data product for --station between --start and --end (UTC) into -o:
out.parquet, out.csv, or a directory/ (one Parquet file per station and day, written
atomically; running the same command again skips the finished files). Shows a progress
bar. Needs the 'arrow' extra (pip install 'earthscope-sdk-async[arrow]').""",
    "dropoff": """\
Submit miniSEED, assembled data or StationXML to EarthScope's dropoff, and follow it.
  upload PATH... --category C [--prefix P] [--recursive]
      validate the files (miniSEED with pymseed, StationXML against the FDSN 1.2 schema),
      skip invalid ones with the reason, and upload the others by S3 multipart upload with
      checksums. Interrupted uploads resume: run the same command again. Exits with code 8
      when some files were invalid or failed.
  list --category C      every object you submitted (all pages)
  status KEY --category C   every submission of KEY, newest first, with its messages
  summary --category C   the number of objects per status
Needs the 'dropoff' extra: pip install 'earthscope-sdk-async[dropoff]'.""",
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
200-file concurrent download with the progress bar, station discovery, a day of GNSS
observations into Parquet, a forced refresh and logout. Needs no
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
        if name == "status":
            parser.add_argument(
                "--check",
                action="store_true",
                help="verify the session with the identity provider (one refresh, which "
                "rotates the refresh token)",
            )
    elif name == "download":
        _add_download_options(parser)
    elif name == "discover":
        add_discover_options(parser)
    elif name == "data":
        add_data_options(parser)
    elif name == "dropoff":
        _add_dropoff_commands(parser)
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


_CATEGORIES = ("miniseed", "assembled", "stationxml")


def _category(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--category",
        choices=_CATEGORIES,
        required=required,
        help="the dropoff category",
    )


def _add_dropoff_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="dropoff_command", metavar="SUBCOMMAND")
    common = [_common_options(top_level=False)]
    upload = commands.add_parser(
        "upload", help="validate and upload files (resumable)", parents=common
    )
    upload.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    _category(upload)
    upload.add_argument("--prefix", metavar="P", help="key prefix (default: none)")
    upload.add_argument(
        "--recursive", action="store_true", help="upload directories' subdirectories too"
    )
    upload.add_argument(
        "--part-size", metavar="MIB", type=_positive_int, help="part size in MiB (default: 10)"
    )
    upload.add_argument("--quiet", action="store_true", help="no progress display")
    _json_option(upload)
    listing = commands.add_parser("list", help="list your objects (every page)", parents=common)
    _category(listing)
    listing.add_argument("--prefix", metavar="P", help="only keys starting with P")
    listing.add_argument("--status", metavar="S", help="only objects with status S")
    _json_option(listing)
    status = commands.add_parser("status", help="every submission of one key", parents=common)
    status.add_argument("key", metavar="KEY", help="the object key")
    _category(status)
    _json_option(status)
    summary = commands.add_parser("summary", help="objects per status", parents=common)
    _category(summary)
    summary.add_argument("--prefix", metavar="P", help="only keys starting with P")
    _json_option(summary)


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
