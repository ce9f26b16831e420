"""Faults and bad input: each gets a one-line error naming the cause and the fix, or a visible
fallback, and nothing already indexed is lost. The README's fault table points at these tests.

Real parts throughout: the CLI in a subprocess, embedded Chroma, a real ``chroma run`` server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from helpers import PROJECT_DIR, SEED_IDS, clean_environ, copy_seeds, run_cli, settings_for

QUESTION = "What did Lavrov say about the Kuril Islands?"


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and err and err[-1].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in err[-1], err[-1]
    return err[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The bundled corpus indexed once, as a data folder the tests copy before damaging it."""
    data = tmp_path_factory.mktemp("built") / "data"
    report = rag.ingest(settings_for(data))
    assert report.failed == [] and report.documents == len(SEED_IDS)
    return data


@pytest.fixture
def copy_of(built, tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(built, data)
    return data


def _ask_json(data: Path, question: str = QUESTION, **env) -> dict:
    proc = run_cli("ask", question, "--json", env={"RAG_DATA_DIR": data, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# -- the CLI's own input -------------------------------------------------------------------------
def test_empty_question_is_an_error_not_silence(tmp_path):
    _one_line_error(run_cli("ask", "", env={"RAG_DATA_DIR": tmp_path}), "the question is empty")
    _one_line_error(run_cli("ask", "   ", env={"RAG_DATA_DIR": tmp_path}), "the question is empty")


@pytest.mark.parametrize("k", ["-5", "0", "many", "51"])
def test_k_out_of_range_is_refused(tmp_path, k):
    proc = run_cli("ask", "Who?", "-k", k, env={"RAG_DATA_DIR": tmp_path})
    assert proc.returncode == 2 and "argument -k: must be" in proc.stderr and "Traceback" not in proc.stderr


def test_question_over_the_limit_is_refused(tmp_path):
    _one_line_error(run_cli("ask", "why " * 600, env={"RAG_DATA_DIR": tmp_path}), "keep it under 2000")


# -- storage damage ------------------------------------------------------------------------------
def _damage_sqlite(data: Path) -> None:
    with open(data / "chroma" / "chroma.sqlite3", "r+b") as fh:
        fh.write(b"\x00" * 4096)


def test_corrupt_chroma_database_is_named_and_doctor_repairs_it(copy_of):
    _damage_sqlite(copy_of)
    env = {"RAG_DATA_DIR": copy_of}
    _one_line_error(run_cli("ask", QUESTION, env=env), "is damaged", "doctor --repair")
    _one_line_error(run_cli("ingest", env=env), "is damaged", "doctor --repair")
    check = run_cli("doctor", "--json", env=env)
    assert check.returncode == 1
    assert [c["check"] for c in json.loads(check.stdout)["checks"] if not c["ok"]] == ["chroma"]

    fixed = run_cli("doctor", "--repair", "--json", env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["ok"] and any("moved the damaged chroma" in a for a in result["repaired"])
    assert list((copy_of / "damaged").glob("chroma-*/chroma.sqlite3"))  # kept aside, never deleted
    answer = _ask_json(copy_of)
    assert answer["citations"] and not answer["refused"]
    assert sorted(d["doc_id"] for d in json.loads(run_cli("sources", "--json", env=env).stdout)) == SEED_IDS


def test_rebuild_recovers_from_a_corrupt_database_too(copy_of):
    _damage_sqlite(copy_of)
    proc = run_cli("ingest", "--rebuild", "--json", env={"RAG_DATA_DIR": copy_of})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["documents"] == len(SEED_IDS)


@pytest.mark.parametrize("damage", ["lists disagree", "ids duplicated", "garbage json"])
def test_a_damaged_keyword_index_is_rebuilt_not_a_crash(copy_of, damage):
    manifest = json.loads((copy_of / "bm25" / (copy_of / "bm25" / "CURRENT").read_text().strip()).read_text())
    chunks = copy_of / "bm25" / f"seg-{manifest['segments'][0]['name']}" / "chunks.json"
    if damage == "garbage json":
        chunks.write_text("{not json", encoding="utf-8")
    else:
        data = json.loads(chunks.read_text(encoding="utf-8"))
        if damage == "lists disagree":
            data["metas"] = data["metas"][:-3]
        else:
            data["ids"][1] = data["ids"][0]
        chunks.write_text(json.dumps(data), encoding="utf-8")
    answer = _ask_json(copy_of)  # the reader rebuilds BM25 from Chroma under the write lock
    assert answer["citations"]
    assert run_cli("doctor", env={"RAG_DATA_DIR": copy_of}).returncode == 0


def test_doctor_finds_and_repairs_a_stale_keyword_index_and_orphaned_documents(copy_of):
    env = {"RAG_DATA_DIR": copy_of}
    shutil.rmtree(copy_of / "bm25")
    orphan = json.loads((copy_of / "documents" / f"{SEED_IDS[0]}.json").read_text(encoding="utf-8"))
    orphan["doc_id"] = "gone"
    orphan["path"] = str(copy_of / "nowhere" / "gone.txt")
    (copy_of / "documents" / "gone.json").write_text(json.dumps(orphan), encoding="utf-8")
    report = json.loads(run_cli("doctor", "--json", env=env).stdout)
    assert {c["check"] for c in report["checks"] if not c["ok"]} == {"bm25", "documents"}
    fixed = json.loads(run_cli("doctor", "--repair", "--json", env=env).stdout)
    assert fixed["ok"], fixed
    assert not (copy_of / "documents" / "gone.json").exists()
    assert sorted(p.stem for p in (copy_of / "documents").glob("*.json")) == SEED_IDS


# -- a server that is not there --------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


@pytest.mark.parametrize("command", [("ask", QUESTION), ("ingest",), ("sources",), ("doctor",)])
def test_unreachable_chroma_server_is_one_line(tmp_path, command):
    env = {"RAG_DATA_DIR": tmp_path, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": _closed_port()}
    proc = run_cli(*command, env=env)
    if command == ("doctor",):
        assert proc.returncode == 1 and "Cannot reach the Chroma server" in proc.stdout, proc.stdout
        assert "Traceback" not in proc.stderr
    else:
        _one_line_error(proc, "Cannot reach the Chroma server", "unset CHROMA_HOST")


# -- permissions and links ---------------------------------------------------------------------------
# The tests run as root, which reads and writes everything; the CLI runs here without the two
# capabilities that let root ignore permission bits, so a folder at mode 000 is unreadable to it.
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def run_cli_unprivileged(*args, env: dict) -> subprocess.CompletedProcess:
    if os.geteuid() != 0:
        return run_cli(*args, env=env)  # an ordinary user is bound by permission bits anyway
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's permission override"
    return subprocess.run([*NO_DAC, sys.executable, "-m", "rag", *map(str, args)], cwd=PROJECT_DIR,
                          env=clean_environ(env), capture_output=True, text=True, timeout=600)


def test_an_unreadable_folder_is_reported_and_its_documents_stay_indexed(tmp_path):
    corpus = copy_seeds(tmp_path / "corpus")
    locked = corpus / "locked"
    locked.mkdir()
    (locked / "otaru.txt").write_text("The Otaru harbour pilots union voted to strike over pay on Monday.\n")
    env = {"RAG_DATA_DIR": tmp_path / "data"}
    first = run_cli("ingest", corpus, "--json", env=env)
    assert json.loads(first.stdout.splitlines()[-1])["documents"] == len(SEED_IDS) + 1
    locked.chmod(0)
    try:
        proc = run_cli_unprivileged("ingest", corpus, "--json", env=env)
    finally:
        locked.chmod(0o755)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert [f["path"] for f in summary["failed"]] == [str(locked)]
    assert "folder cannot be read" in summary["failed"][0]["reason"]
    assert summary["removed"] == 0 and summary["documents"] == len(SEED_IDS) + 1  # otaru is kept


def test_a_read_only_data_directory_is_one_line(copy_of):
    for path in [copy_of, *copy_of.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        env = {"RAG_DATA_DIR": copy_of}
        _one_line_error(run_cli_unprivileged("ask", QUESTION, env=env), "cannot be written", "RAG_DATA_DIR")
        _one_line_error(run_cli_unprivileged("ingest", env=env), "cannot be written", "RAG_DATA_DIR")
        doctor = run_cli_unprivileged("doctor", env=env)
        assert doctor.returncode == 1 and "cannot be written" in doctor.stdout
    finally:
        for path in [copy_of, *copy_of.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert _ask_json(copy_of)["citations"]  # nothing was lost


def test_symbolic_links_are_not_followed_and_are_reported(tmp_path):
    corpus = copy_seeds(tmp_path / "corpus")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Payroll: the editor earns a great deal of money every single month.\n")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "again.txt").symlink_to(corpus / f"{SEED_IDS[0]}.txt")  # inside: read once, from its own place
    (corpus / "loop").symlink_to(corpus)  # a folder link that would loop
    proc = run_cli("ingest", corpus, "--json", env={"RAG_DATA_DIR": tmp_path / "data"})
    summary = json.loads(proc.stdout.splitlines()[-1])
    reasons = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert set(reasons) == {"passwd.txt", "secret.txt", "again.txt", "loop"}
    assert "leaving the folder" in reasons["passwd.txt"] and "leaving the folder" in reasons["secret.txt"]
    assert "its own place" in reasons["again.txt"]
    assert summary["documents"] == len(SEED_IDS) and proc.returncode == 1
    stored = {p.stem for p in (tmp_path / "data" / "documents").glob("*.json")}
    assert stored == set(SEED_IDS)


def test_a_second_ingest_says_it_is_waiting_for_the_first(tmp_path):
    import time

    settings = settings_for(tmp_path / "data")
    with rag.Index.write_lock(settings):  # a first ingest, as far as anyone can tell
        proc = subprocess.Popen([sys.executable, "-m", "rag", "ingest", "--json"], cwd=PROJECT_DIR,
                                env=clean_environ({"RAG_DATA_DIR": settings.data_dir}),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "waiting for another ingest" in line or not line:
                break
        assert "waiting for another ingest" in lines[-1] and f"pid {os.getpid()}" in lines[-1], lines
        assert proc.poll() is None  # it waits, and says so
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["documents"] == len(SEED_IDS)


@pytest.mark.parametrize("variable, value, needle", [
    ("RAG_K", "abc", "RAG_K must be an integer"),
    ("RAG_LLM_TIMEOUT", "-1", "RAG_LLM_TIMEOUT must be more than 0"),
    ("RAG_CHUNK_OVERLAP", "500", "smaller than RAG_CHUNK_TOKENS"),
    ("RAG_DEV_MODE", "maybe", "RAG_DEV_MODE must be 1 or 0"),
    ("RAG_EMBEDDINGS", "word2vec", "Unknown RAG_EMBEDDINGS"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path, variable, value, needle):
    proc = run_cli("ask", QUESTION, env={"RAG_DATA_DIR": tmp_path, variable: value})
    _one_line_error(proc, needle)


def test_two_files_with_one_name_are_two_documents_or_a_clear_failure(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "a").mkdir(parents=True)
    (inbox / "b").mkdir()
    (inbox / "a" / "memo.txt").write_text("The Nemuro fishing cooperative met on Tuesday to discuss quotas.\n")
    (inbox / "b" / "memo.md").write_text("The Wakkanai ferry office said ice cancelled eight crossings.\n")
    # In subfolders of a folder being ingested, each is its own document, named by its path.
    proc = run_cli("ingest", inbox, "--json", env={"RAG_DATA_DIR": tmp_path / "data"})
    assert json.loads(proc.stdout.splitlines()[-1])["added"] == 2, proc.stderr
    stored = sorted(p.stem for p in (tmp_path / "data" / "documents").glob("*.json"))
    assert stored == ["a__memo", "b__memo"]
    # Given one by one, both would be "memo": the second is refused, naming the first.
    proc = run_cli("ingest", inbox / "a" / "memo.txt", inbox / "b" / "memo.md", "--json",
                   env={"RAG_DATA_DIR": tmp_path / "other"})
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["added"] == 1 and len(summary["failed"]) == 1
    assert "document id 'memo' is also used by" in summary["failed"][0]["reason"]
    assert "rename one of them" in summary["failed"][0]["reason"]
