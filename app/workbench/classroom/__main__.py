"""`python -m workbench.classroom`: import a roster (join links), list, revoke, re-issue, report progress as CSV.

The database is the app's (WORKBENCH_DATABASE_URL, else the state dir's SQLite file). Errors are one clear
line on stderr (in WORKBENCH_LANG) and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.core.db import database_url
from workbench.core.i18n import translate
from workbench.core.progress import ProgressStore
from workbench.core.roster import Roster, RosterError, parse_roster
from workbench.core.settings import get_settings

DEFAULT_BASE_URL = "http://localhost:8501"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workbench.classroom", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import-roster", help="add the people of a CSV (name,role[,email]); print their links")
    imp.add_argument("csv_file", type=Path)
    imp.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"the app's address (default {DEFAULT_BASE_URL})")
    commands.add_parser("list", help="everyone in the class: name, role, email")
    revoke = commands.add_parser("revoke", help="revoke a person's join link")
    revoke.add_argument("name")
    reissue = commands.add_parser("reissue", help="a new join link for a person (the old one stops working)")
    reissue.add_argument("name")
    reissue.add_argument("--base-url", default=DEFAULT_BASE_URL)
    report = commands.add_parser("report", help="progress per learner and chapter")
    report.add_argument("--csv", action="store_true", required=True, help="as CSV on stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    settings = get_settings()
    url = database_url(settings)
    roster = Roster(url)
    out = csv.writer(sys.stdout, lineterminator="\n")
    try:
        if args.command == "import-roster":
            try:
                text = args.csv_file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise RosterError("not_text", file=args.csv_file) from None
            except OSError as exc:
                raise RosterError("file_unreadable", file=args.csv_file, reason=exc.strerror or exc) from None
            entries = parse_roster(text, str(args.csv_file))
            invitations = {i.person.name: i for i in roster.import_people(entries, str(args.csv_file))}
            for entry in entries:
                invitation = invitations.get(entry.person.name)
                if invitation is None:
                    print(translate("classroom.already_there", settings.lang, name=entry.person.name), file=sys.stderr)
                else:
                    out.writerow([invitation.person.name, invitation.link(args.base_url)])
        elif args.command == "list":
            for person in roster.people():
                out.writerow([person.name, person.role.value, person.email or ""])
        elif args.command == "revoke":
            count = roster.revoke(args.name)
            print(translate("classroom.revoked", settings.lang, name=args.name, n=count))
        elif args.command == "reissue":
            invitation = roster.reissue(args.name)
            out.writerow([invitation.person.name, invitation.link(args.base_url)])
        elif args.command == "report":
            from workbench.core.classroom_report import class_learners, classroom_report_rows, report_csv  # pandas

            store = ProgressStore(url)
            sys.stdout.write(report_csv(classroom_report_rows(store, class_learners(roster, store))))
    except RosterError as exc:
        print(exc.message(settings.lang), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `… | head`: the reader left, nothing more to say
        sys.stderr.close()
        sys.exit(0)
