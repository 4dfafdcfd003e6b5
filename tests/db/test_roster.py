"""Roster, join tokens and `python -m workbench.classroom`, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from workbench.classroom.__main__ import main
from workbench.core.db import get_engine
from workbench.core.people import Person, Role
from workbench.core.progress import ProgressStore
from workbench.core.roster import Roster, RosterError, hash_token, parse_roster

from tests.conftest import REPO_ROOT

ROSTER = "name,role,email\nAna Martin,learner,ana@ecole.fr\nBob,learner,\nMme Leroy,teacher,LEROY@ecole.fr\n"


@pytest.fixture
def roster(database_url: str) -> Roster:
    return Roster(database_url)


@pytest.fixture
def use_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the app's settings (and so the CLI) at this test's database."""
    from workbench.core.settings import get_settings

    if database_url.startswith("sqlite"):
        monkeypatch.setenv("WORKBENCH_STATE_DIR", str(Path(database_url.removeprefix("sqlite:///")).parent))
    else:
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    monkeypatch.setenv("WORKBENCH_LANG", "en")
    get_settings.cache_clear()
    return database_url


def test_import_gives_each_person_a_working_link_stored_hashed(roster: Roster) -> None:
    invitations = roster.import_people(parse_roster(ROSTER))
    assert [i.person for i in invitations] == [
        Person("Ana Martin", Role.LEARNER, "ana@ecole.fr"),
        Person("Bob", Role.LEARNER, None),
        Person("Mme Leroy", Role.TEACHER, "leroy@ecole.fr"),
    ]
    tokens = [i.token for i in invitations]
    assert len(set(tokens)) == 3 and all(len(t) >= 40 for t in tokens)
    assert invitations[0].link("http://10.0.0.5:8501/") == f"http://10.0.0.5:8501/?join={tokens[0]}"
    assert [roster.resolve(t).name for t in tokens] == ["Ana Martin", "Bob", "Mme Leroy"]
    assert roster.resolve(tokens[2]).is_teacher
    with get_engine(roster.url).connect() as conn:
        stored = {r[0] for r in conn.execute(sa.text("SELECT token_hash FROM join_tokens"))}
    assert stored == {hash_token(t) for t in tokens} and not stored & set(tokens)
    assert roster.person_by_email("Leroy@Ecole.fr").name == "Mme Leroy"
    assert roster.person_by_email("nobody@ecole.fr") is None


def test_forged_revoked_and_reissued_tokens(roster: Roster) -> None:
    ana = roster.add("Ana", Role.LEARNER)
    assert roster.resolve(ana.token[:-1] + ("A" if ana.token[-1] != "A" else "B")) is None
    assert roster.resolve("") is None and roster.resolve("x" * 5000) is None
    assert roster.revoke("Ana") == 1
    assert roster.resolve(ana.token) is None
    again = roster.reissue("Ana")
    assert roster.resolve(again.token) == Person("Ana", Role.LEARNER) and again.token != ana.token
    newer = roster.reissue("Ana")
    assert roster.resolve(again.token) is None and roster.resolve(newer.token).name == "Ana"
    with pytest.raises(RosterError, match="'Zoé' is not in the class"):
        roster.revoke("Zoé")


def test_reimport_keeps_existing_people_and_their_links(roster: Roster) -> None:
    first = roster.import_people(parse_roster(ROSTER))
    more = roster.import_people(parse_roster(ROSTER + "Zoé,learner,zoe@ecole.fr\n"))
    assert [i.person.name for i in more] == ["Zoé"]
    assert roster.resolve(first[0].token).name == "Ana Martin"
    with pytest.raises(RosterError, match="line 2: ana@ecole.fr already belongs to 'Ana Martin'"):
        roster.import_people(parse_roster("name,role,email\nAnnie,learner,ana@ecole.fr\n"))
    assert roster.person("Annie") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nom,role\nAna,learner\n", "column 'name' is missing"),
        ("name,rôle\nAna,learner\n", "column 'role' is missing (the header must have name,role"),
        ("name,role\nAna,learner\nBob,student\n", "line 3: unknown role 'student'"),
        ("name,role\nAna,learner\n,teacher\n", "line 3: the name is empty"),
        ("name,role\nAna,learner\n\nana,teacher\n", "line 4: 'ana' is already on line 2"),
        ("name,role,email\nAna,learner,ana-at-ecole\n", "line 2: 'ana-at-ecole' is not an email address"),
        ("name,role,email\nA,learner,a@b.fr\nB,learner,A@B.FR\n", "line 3: A@B.FR is already on line 2"),
        ("name,role\n", "nobody in it"),
    ],
)
def test_bad_rosters_name_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "class.csv")
    assert str(caught.value).startswith("class.csv") and message in str(caught.value)
    assert caught.value.message("fr") != str(caught.value)


def test_cli_import_revoke_reissue(use_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    assert main(["import-roster", str(path), "--base-url", "http://192.168.1.20:8501"]) == 0
    lines = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [line[0] for line in lines] == ["Ana Martin", "Bob", "Mme Leroy"]
    assert all(line[1].startswith("http://192.168.1.20:8501/?join=") for line in lines)
    roster = Roster(use_database)
    token = lines[1][1].split("join=")[1]
    assert roster.resolve(token).name == "Bob"

    assert main(["import-roster", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "Bob: already in the class" in captured.err
    assert main(["revoke", "Bob"]) == 0 and roster.resolve(token) is None
    assert "Bob: 1 link revoked" in capsys.readouterr().out
    assert main(["reissue", "Bob"]) == 0
    name, link = next(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert name == "Bob" and roster.resolve(link.split("join=")[1]).name == "Bob"
    assert main(["revoke", "Nobody"]) == 2
    assert "'Nobody' is not in the class" in capsys.readouterr().err


def test_cli_report_csv(use_database: str, roster: Roster, capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.chapters import CHAPTERS
    from workbench.core.exercises import load_exercises

    roster.import_people(parse_roster(ROSTER))
    store = ProgressStore(use_database)
    mlflow = load_exercises("05_mlflow")
    store.record_attempt("Ana Martin", "05_mlflow", mlflow.hands_on[0].id, "hands_on", True)  # done
    store.record_attempt("Ana Martin", "05_mlflow", mlflow.quiz[0].id, "quiz", True)  # practice: not counted
    store.record_attempt("Ana Martin", "05_mlflow", "checkpoint", "checkpoint", False)
    store.record_visit("Ana Martin", "07_web_apps_api")
    store.record_attempt("solo-learner", "01_introduction", "gone", "quiz", True)  # not on the roster, still reported
    assert main(["report", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["learner"] for r in rows} == {"Ana Martin", "Bob", "solo-learner"}  # teachers are not learners
    assert len(rows) == 3 * len(CHAPTERS)
    ana = {r["chapter"]: r for r in rows if r["learner"] == "Ana Martin"}
    assert ana["05_mlflow"]["done"] == "1" and int(ana["05_mlflow"]["total"]) == len(
        load_exercises("05_mlflow").item_ids
    )
    assert ana["05_mlflow"]["last_activity"].endswith("+00:00") and ana["07_web_apps_api"]["last_activity"]
    assert ana["01_introduction"]["last_activity"] == "" and ana["01_introduction"]["done"] == "0"
    solo = {r["chapter"]: r for r in rows if r["learner"] == "solo-learner"}
    assert solo["01_introduction"]["done"] == "0" and solo["01_introduction"]["last_activity"]


def test_cli_errors_are_one_line_and_exit_non_zero(use_database: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role\nAna,learner\nBob,admin\n", encoding="utf-8")
    binary = tmp_path / "roster.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "app"))
    for args, expected in (
        ([str(bad)], "bad.csv, line 3: unknown role 'admin' (role must be learner or teacher)"),
        ([str(binary)], "roster.xlsx: not a UTF-8 text CSV file"),
        ([str(tmp_path / "missing.csv")], "cannot read"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "workbench.classroom", "import-roster", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert Roster(use_database).people() == []


def test_enrol_records_a_provider_signed_in_person_once(roster: Roster) -> None:
    roster.import_people(parse_roster(ROSTER))
    zoe = Person("Zoé Durand", Role.TEACHER, "Zoe@Ecole.fr")  # the provider never makes a teacher
    assert roster.enrol(zoe, subject="zoe") == Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")
    assert roster.enrol(zoe, subject="zoe") == Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")
    assert roster.enrol(Person("Claire", email="leroy@ecole.fr")) == Person("Mme Leroy", Role.TEACHER, "leroy@ecole.fr")
    assert sorted(p.name for p in roster.people()) == ["Ana Martin", "Bob", "Mme Leroy", "Zoé Durand"]


def test_enrol_never_gives_someone_another_persons_name(roster: Roster) -> None:
    roster.import_people(parse_roster(ROSTER))  # Ana Martin (ana@ecole.fr) and Bob (a join link, no email)
    other_ana = roster.enrol(Person("Ana Martin", email="ana.m@autre.fr"))
    assert other_ana == Person("Ana Martin (ana.m@autre.fr)", Role.LEARNER, "ana.m@autre.fr")
    assert roster.enrol(Person("Ana Martin", email="ana.m@autre.fr")) == other_ana
    other_bob = roster.enrol(Person("Bob"), subject="sub-42")
    assert other_bob == Person("Bob (sub-42)", Role.LEARNER, None)
    assert roster.enrol(Person("Bob"), subject="sub-42") == other_bob
    assert roster.enrol(Person("Eve"), subject="eve") == roster.enrol(Person("Eve"), subject="eve")
    assert roster.enrol(Person("  ")) is None
    assert roster.person("Ana Martin") == Person("Ana Martin", Role.LEARNER, "ana@ecole.fr")
    assert len(roster.people()) == 6


def test_an_enrolled_person_is_listed_by_the_cli(roster: Roster, use_database: str, capsys) -> None:
    roster.enrol(Person("Zoé Durand", email="zoe@ecole.fr"), subject="zoe")
    assert main(["list"]) == 0
    assert "Zoé Durand" in capsys.readouterr().out
    assert main(["report", "--csv"]) == 0
    assert "Zoé Durand," in capsys.readouterr().out  # one row per chapter for the new learner


def test_enrol_at_once_from_several_sessions_gives_one_entry(roster: Roster) -> None:
    from concurrent.futures import ThreadPoolExecutor

    zoe = Person("Zoé Durand", email="zoe@ecole.fr")
    with ThreadPoolExecutor(8) as pool:
        entries = list(pool.map(lambda _: roster.enrol(zoe, subject="zoe"), range(8)))
    assert set(entries) == {Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")}
    assert [p.name for p in roster.people()] == ["Zoé Durand"]
