"""ZIP uploads (rag.intake.archive): real archives built here with zipfile, hostile ones included,
unpacked into real folders; one is ingested end to end into the real index, and one goes
through ``python -m rag ingest``."""

from __future__ import annotations

import io
import os
import random
import stat
import string
import zipfile
import zlib
from pathlib import Path

import pytest

from helpers import copy_seeds, run_cli, settings_for
import rag
from rag import ArchiveError, EntryStatus, Settings, SettingsError, unpack_zip
from rag.intake import archive

TEXT_2023 = ("Japan's fisheries agency said on Tuesday that talks with Russia on salmon quotas would resume in April. "
             "Officials in Nemuro said the fleet had lost two seasons to the dispute.")
TEXT_2024 = ("Russian customs data showed seafood imports from Japan fell by a third in 2024. Traders in "
             "Vladivostok blamed the new inspection rules for the delays at the port.")


def make_zip(path: Path, entries, method=zipfile.ZIP_DEFLATED) -> Path:
    """A real ZIP of ``entries``: (name or ZipInfo, str or bytes) pairs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def zip_bytes(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buffer.getvalue()


def noise(n: int, seed: int = 1) -> str:
    """Text that hardly compresses (deflate gets it to ~0.6 of its size)."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + " ") for _ in range(n))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links included, by their target's name) and its bytes."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = b"->" + os.readlink(path).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def by_name(unpacked) -> dict[str, rag.UnpackedEntry]:
    return {e.name: e for e in unpacked.entries}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return settings_for(tmp_path / "data")


@pytest.fixture
def target(settings) -> Path:
    return settings.uploads_dir / "desk"


# -- settings ------------------------------------------------------------------------------------
def test_the_limits_are_settings_read_from_the_environment():
    default = Settings.from_env({})
    assert (default.zip_max_files, default.zip_max_mb, default.zip_max_ratio) == (10_000, 500.0, 100.0)
    mine = Settings.from_env({"RAG_ZIP_MAX_FILES": "50", "RAG_ZIP_MAX_MB": "2.5", "RAG_ZIP_MAX_RATIO": "40"})
    assert (mine.zip_max_files, mine.zip_max_mb, mine.zip_max_ratio) == (50, 2.5, 40.0)
    for name, bad in (("RAG_ZIP_MAX_FILES", "0"), ("RAG_ZIP_MAX_FILES", "many"), ("RAG_ZIP_MAX_MB", "-1"),
                      ("RAG_ZIP_MAX_RATIO", "0")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: bad})


# -- what is extracted, and where ----------------------------------------------------------------
def test_documents_keep_their_folders_under_safe_names(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "desk.zip", [
        ("2023/report.txt", TEXT_2023), ("2024/report.txt", TEXT_2024),
        ("Desk files (May)/Notes (draft).TXT", TEXT_2023),
        ("Desk files (May)/Notes (draft).TXT.meta.yaml", "outlet: Kyodo\n"),
        ("page.html", "<html><body><p>Hi</p></body></html>"), ("saved.mhtml", "MIME-Version: 1.0\n"),
    ])
    done = unpack_zip(zip_path, target, settings)
    assert [e.status for e in done.entries] == [EntryStatus.EXTRACTED] * 6
    assert sorted(tree(target)) == ["2023/report.txt", "2024/report.txt", "Desk_files_May/Notes_draft.txt",
                                    "Desk_files_May/Notes_draft.txt.meta.yaml", "page.html", "saved.mhtml"]
    assert (target / "2024/report.txt").read_text() == TEXT_2024
    ids = sorted(rag.doc_id_for(p, target) for p in done.files if not p.name.endswith(".yaml"))
    assert ids == ["2023__report", "2024__report", "Desk_files_May__Notes_draft", "page", "saved"]
    notes = target / "Desk_files_May/Notes_draft.txt"
    assert rag.sidecar_path(notes).read_text() == "outlet: Kyodo\n"  # the sidecar still finds its document
    assert by_name(done)["2023/report.txt"].line() == "extracted: 2023/report.txt -> 2023/report.txt"
    assert not [p for p in settings.uploads_dir.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_unsupported_and_hidden_files_are_skipped_with_a_reason(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "desk.zip", [
        ("a.txt", TEXT_2023), ("photo.jpg", b"\xff\xd8\xff"), ("report.docx", b"PK not really"), ("README", "x"),
        ("sources.yaml", "a: {}\n"), (".DS_Store", b"\x00"), ("__MACOSX/._a.txt", b"\x00\x05"),
    ])
    done = by_name(unpack_zip(zip_path, target, settings))
    assert done["a.txt"].status is EntryStatus.EXTRACTED
    skipped = {n: e.reason for n, e in done.items() if e.status is EntryStatus.SKIPPED}
    assert set(skipped) == {"photo.jpg", "report.docx", "README", "sources.yaml", ".DS_Store", "__MACOSX/._a.txt"}
    assert "'.jpg' is not one ingest reads" in skipped["photo.jpg"] and ".pdf" in skipped["photo.jpg"]
    assert "'(none)'" in skipped["README"]
    assert "hidden or system file" in skipped["__MACOSX/._a.txt"]
    assert sorted(tree(target)) == ["a.txt"]


def test_files_over_the_per_file_limit_are_skipped(tmp_path, target):
    small = settings_for(tmp_path / "data", RAG_MAX_FILE_MB="0.001")
    done = by_name(unpack_zip(make_zip(tmp_path / "d.zip", [("big.txt", noise(2000)), ("ok.txt", "x")]),
                              target, small))
    assert done["big.txt"].status is EntryStatus.SKIPPED and "RAG_MAX_FILE_MB" in done["big.txt"].reason
    assert sorted(tree(target)) == ["ok.txt"]


def test_two_entries_with_one_safe_name_do_not_overwrite_each_other(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "d.zip", [("Report (1).txt", "first"), ("Report 1.txt", "second"),
                                             ("x.txt", "a file"), ("x.txt/y.txt", "under a file's name")])
    done = by_name(unpack_zip(zip_path, target, settings))
    assert done["Report (1).txt"].status is EntryStatus.EXTRACTED
    assert done["Report 1.txt"].status is EntryStatus.REFUSED
    assert "Report_1.txt is already taken by Report (1).txt" in done["Report 1.txt"].reason
    assert done["x.txt/y.txt"].status is EntryStatus.REFUSED
    assert tree(target) == {"Report_1.txt": b"first", "x.txt": b"a file"}


# -- hostile entries ---------------------------------------------------------------------------------
def test_entries_leaving_the_folder_are_refused_one_by_one(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "in" / "evil.zip", [
        ("../evil.txt", "up"), ("/abs.txt", "root"), ("..\\win.txt", "windows"), ("C:/drive.txt", "drive"),
        ("a/../../up.txt", "up twice"), ("sub\\inner.txt", "backslash"), ("ok.txt", "fine"),
    ])
    assert [i.filename for i in zipfile.ZipFile(zip_path).infolist()][:2] == ["../evil.txt", "/abs.txt"]  # as built
    before = tree(tmp_path)
    done = by_name(unpack_zip(zip_path, target, settings))
    refused = {n: e.reason for n, e in done.items() if e.status is EntryStatus.REFUSED}
    assert set(refused) == {"../evil.txt", "/abs.txt", "..\\win.txt", "C:/drive.txt", "a/../../up.txt",
                            "sub\\inner.txt"}
    assert "'..' in the path" in refused["../evil.txt"] and "absolute path" in refused["/abs.txt"]
    assert "backslash" in refused["..\\win.txt"] and "drive letter" in refused["C:/drive.txt"]
    assert all("outside the folder" in reason for reason in refused.values())
    after = tree(tmp_path)
    assert set(after) - set(before) == {"data/uploads/desk/ok.txt"}  # nothing else written anywhere


def test_symbolic_link_entries_are_refused(tmp_path, settings, target):
    link = zipfile.ZipInfo("notes.txt")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo("pipe.txt")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    plain = zipfile.ZipInfo("plain.txt")
    plain.external_attr = (stat.S_IFREG | 0o644) << 16
    zip_path = make_zip(tmp_path / "links.zip", [(link, "/etc/passwd"), (fifo, "x"), (plain, "text")])
    done = by_name(unpack_zip(zip_path, target, settings))
    assert done["notes.txt"].status is EntryStatus.REFUSED and "symbolic link" in done["notes.txt"].reason
    assert done["pipe.txt"].status is EntryStatus.REFUSED and "not a regular file" in done["pipe.txt"].reason
    assert tree(target) == {"plain.txt": b"text"}
    assert not (target / "notes.txt").is_symlink()


def test_a_zip_bomb_is_refused_whole_before_anything_is_written(tmp_path, settings, target):
    target.mkdir(parents=True)
    (target / "earlier.txt").write_text("stored before", encoding="utf-8")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("fine.txt", TEXT_2023)
        with z.open("bomb.txt", "w") as out:
            for _ in range(10):
                out.write(b"\x00" * 1_000_000)
    assert bomb.stat().st_size < 50_000  # 10 MB in a few KB
    with pytest.raises(ArchiveError, match=r"bomb\.zip is compressed \d+:1 as a whole.*RAG_ZIP_MAX_RATIO.*zip bomb"):
        unpack_zip(bomb, target, settings)
    assert tree(target) == {"earlier.txt": b"stored before"}
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["desk"]  # the staging folder is gone


def test_an_over_compressed_entry_is_refused_alone(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "d.zip", [("scan.txt", noise(200_000)), ("zeros.txt", "\n" * 100_000)])
    done = by_name(unpack_zip(zip_path, target, settings))
    assert done["zeros.txt"].status is EntryStatus.REFUSED
    assert "over the 100:1 limit (RAG_ZIP_MAX_RATIO)" in done["zeros.txt"].reason
    assert sorted(tree(target)) == ["scan.txt"]


def test_a_lying_declared_size_is_caught_while_unpacking(tmp_path, settings, target):
    honest = make_zip(tmp_path / "honest.zip", [("big.txt", noise(300_000)), ("small.txt", "x")])
    data = bytearray(honest.read_bytes())
    info = zipfile.ZipFile(honest).getinfo("big.txt")
    assert info.file_size == 300_000
    real = info.file_size.to_bytes(4, "little")
    lie = (1_000).to_bytes(4, "little")  # says 1 KB, unpacks to 300 KB
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    assert data[local + 22:local + 26] == real and data[central + 24:central + 28] == real
    data[local + 22:local + 26] = lie
    data[central + 24:central + 28] = lie
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    assert zipfile.ZipFile(liar).getinfo("big.txt").file_size == 1_000  # the declared checks see 1 KB
    with pytest.raises(ArchiveError, match=r"liar\.zip is not a readable ZIP \(BadZipFile: Bad CRC-32"):
        unpack_zip(liar, target, settings)
    assert not target.exists()


def test_bytes_are_counted_while_copying_not_only_declared(tmp_path, settings):
    job = archive._Job(settings.with_(zip_max_mb=0.0005), tmp_path / "s", tmp_path / "n")
    with pytest.raises(ArchiveError, match="more bytes than the archive declares"):
        archive.count_while_copying(io.BytesIO(b"x" * 300), io.BytesIO(), 100, job, "a.zip: a.txt")
    job.written = 0
    out = io.BytesIO()
    with pytest.raises(ArchiveError, match=r"passed the 0.0 MB limit \(RAG_ZIP_MAX_MB\)"):
        archive.count_while_copying(io.BytesIO(b"x" * 3 * archive._BLOCK), out, 10**9, job, "a.zip: a.txt")
    assert len(out.getvalue()) <= archive._BLOCK  # stopped at the limit, not after the whole stream


# -- limits on the whole archive -----------------------------------------------------------------
@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """10,000 one-byte files (stored: building and reading it stays fast)."""
    path = tmp_path_factory.mktemp("many") / "many.zip"
    make_zip(path, [(f"batch{n % 10}/f{n:05d}.txt", "x") for n in range(10_000)], method=zipfile.ZIP_STORED)
    return path


def test_ten_thousand_files_are_unpacked(many, settings, target):
    done = unpack_zip(many, target, settings)
    assert len(done.files) == 10_000 and not done.of(EntryStatus.REFUSED)
    assert (target / "batch7" / "f09997.txt").read_text() == "x"


def test_one_file_over_the_limit_refuses_the_archive_whole(many, tmp_path, settings, target):
    more = tmp_path / "more.zip"
    more.write_bytes(many.read_bytes())
    with zipfile.ZipFile(more, "a") as z:
        z.writestr("one-too-many.txt", "x")
    with pytest.raises(ArchiveError, match=r"more\.zip holds 10,001 files .* over the 10,000 limit \(RAG_ZIP_MAX_FILES\)"):
        unpack_zip(more, target, settings)
    assert not target.exists() and list(settings.uploads_dir.iterdir()) == []


def test_the_total_size_limit_counts_what_would_be_written(tmp_path, target):
    small = settings_for(tmp_path / "data", RAG_ZIP_MAX_MB="0.001")  # 1,000 bytes
    zip_path = make_zip(tmp_path / "d.zip", [(f"{n}.txt", noise(400, seed=n)) for n in range(3)] +
                        [("photo.jpg", noise(5000))])
    with pytest.raises(ArchiveError, match=r"would unpack to 0.0 MB, over the 0.0 MB limit \(RAG_ZIP_MAX_MB\)"):
        unpack_zip(zip_path, target, small)
    assert not target.exists()
    # the skipped photo does not count: two documents fit
    fits = make_zip(tmp_path / "f.zip", [(f"{n}.txt", noise(400, seed=n)) for n in range(2)] + [("p.jpg", noise(5000))])
    assert len(unpack_zip(fits, target, small).files) == 2


@pytest.mark.parametrize("damage", ["not a zip", "truncated", "bad crc"])
def test_a_damaged_archive_is_one_line_naming_cause_and_fix(tmp_path, settings, target, damage):
    good = make_zip(tmp_path / "good.zip", [("a.txt", TEXT_2023), ("b.txt", TEXT_2024)], method=zipfile.ZIP_STORED)
    data = good.read_bytes()
    if damage == "not a zip":
        data = random.Random(7).randbytes(4096)
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        at = data.find(TEXT_2024.encode())
        data = data[:at] + b"X" + data[at + 1:]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(data)
    target.mkdir(parents=True)
    (target / "earlier.txt").write_text("stored before", encoding="utf-8")
    with pytest.raises(ArchiveError) as info:
        unpack_zip(broken, target, settings)
    message = str(info.value)
    assert "\n" not in message and message.startswith("broken.zip is not a readable ZIP (BadZipFile: ")
    assert {"not a zip": "File is not a zip file", "truncated": "File is not a zip file",
            "bad crc": "Bad CRC-32 for file 'b.txt'"}[damage] in message
    assert message.endswith("copy or download it again, or re-create it with your system's ZIP tool")
    assert tree(target) == {"earlier.txt": b"stored before"}  # not even a.txt, which was fine
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["desk"]


# -- nested archives -----------------------------------------------------------------------------
def test_a_zip_in_the_zip_is_unpacked_one_level_and_no_deeper(tmp_path, settings, target):
    deepest = zip_bytes([("b.txt", "too deep")])
    inner = zip_bytes([("a.txt", TEXT_2023), ("deeper.zip", deepest), ("pic.png", b"\x89PNG")])
    zip_path = make_zip(tmp_path / "outer.zip", [("batch/inner.zip", inner), ("c.txt", TEXT_2024)])
    done = by_name(unpack_zip(zip_path, target, settings))
    assert done["batch/inner.zip/a.txt"].status is EntryStatus.EXTRACTED
    assert done["batch/inner.zip/a.txt"].path.as_posix() == "batch/inner/a.txt"
    assert done["batch/inner.zip/deeper.zip"].status is EntryStatus.REFUSED
    assert "only one level is unpacked" in done["batch/inner.zip/deeper.zip"].reason
    assert done["batch/inner.zip/pic.png"].status is EntryStatus.SKIPPED
    assert tree(target) == {"batch/inner/a.txt": TEXT_2023.encode(), "c.txt": TEXT_2024.encode()}
    assert rag.doc_id_for(target / "batch/inner/a.txt", target) == "batch__inner__a"

    # the nested files count toward the same limits: 2 outer + 3 inner files
    with pytest.raises(ArchiveError, match=r"outer\.zip/batch/inner\.zip holds 5 files.*RAG_ZIP_MAX_FILES"):
        unpack_zip(zip_path, settings.uploads_dir / "other", settings.with_(zip_max_files=4))
    assert not (settings.uploads_dir / "other").exists()


def test_a_damaged_nested_zip_refuses_the_archive(tmp_path, settings, target):
    zip_path = make_zip(tmp_path / "outer.zip", [("inner.zip", b"PK\x03\x04 broken"), ("c.txt", TEXT_2024)])
    with pytest.raises(ArchiveError, match=r"^outer\.zip/inner\.zip is not a readable ZIP"):
        unpack_zip(zip_path, target, settings)
    assert not target.exists()


# -- into a folder that already holds files ------------------------------------------------------
def test_unpacking_again_replaces_same_names_and_keeps_everything_else(tmp_path, settings, target):
    first = unpack_zip(make_zip(tmp_path / "v1.zip", [("a.txt", "old a"), ("old.txt", "only in v1")]), target, settings)
    assert len(first.files) == 2
    (target / "mine.txt.meta.yaml").write_text("outlet: Kyodo\n", encoding="utf-8")
    (target / "sub").symlink_to(tmp_path)  # a link in the target is never written through
    second = by_name(unpack_zip(make_zip(tmp_path / "v2.zip", [("a.txt", "new a"), ("b.txt", "new b"),
                                                              ("sub/x.txt", "through the link")]), target, settings))
    assert second["a.txt"].replaced and not second["b.txt"].replaced
    assert second["a.txt"].line() == "extracted: a.txt -> a.txt (replaced the earlier copy)"
    assert second["sub/x.txt"].status is EntryStatus.REFUSED and "symbolic link" in second["sub/x.txt"].reason
    assert not (tmp_path / "x.txt").exists()
    assert {k: v for k, v in tree(target).items() if k != "sub"} == {
        "a.txt": b"new a", "b.txt": b"new b", "old.txt": b"only in v1", "mine.txt.meta.yaml": b"outlet: Kyodo\n"}


def test_a_file_as_target_is_refused(tmp_path, settings):
    file = tmp_path / "desk"
    file.write_text("a file", encoding="utf-8")
    with pytest.raises(ArchiveError, match="is a file or a symbolic link, not a folder"):
        unpack_zip(make_zip(tmp_path / "d.zip", [("a.txt", "x")]), file, settings)
    assert file.read_text() == "a file"


# -- end to end ----------------------------------------------------------------------------------
def test_an_unpacked_zip_is_ingested_and_what_was_indexed_stays(tmp_path, settings, target):
    earlier = copy_seeds(tmp_path / "earlier", ids=["003_b5aeacde14fc594e"])
    assert rag.ingest(settings, [earlier]).added == 1
    before = {d.doc_id: d.doc_hash for d in rag.list_documents(settings)}

    zip_path = make_zip(tmp_path / "desk.zip", [("2023/report.txt", TEXT_2023), ("2024/report.txt", TEXT_2024),
                                                ("../evil.txt", TEXT_2024), ("photo.jpg", b"\xff\xd8")])
    done = unpack_zip(zip_path, target, settings)
    assert len(done.files) == 2 and len(done.of(EntryStatus.REFUSED)) == 1 and len(done.of(EntryStatus.SKIPPED)) == 1
    report = rag.ingest(settings, [done.folder])
    assert report.failed == [] and report.added == 2
    after = {d.doc_id: d for d in rag.list_documents(settings)}
    assert set(after) == {*before, "2023__report", "2024__report"}
    assert all(after[doc_id].doc_hash == doc_hash for doc_id, doc_hash in before.items())
    assert "seafood imports" in after["2024__report"].text

    # a refused archive afterwards changes nothing: not the folder, not the index
    with pytest.raises(ArchiveError):
        unpack_zip(make_zip(tmp_path / "bad.zip", [("2023/report.txt", "\x00" * 500_000)]), target, settings)
    assert (target / "2023/report.txt").read_text() == TEXT_2023
    assert rag.ingest(settings, [done.folder]).skipped == 2


def test_cli_ingests_a_zip_and_prints_one_line_per_entry_left_out(tmp_path, settings):
    zip_path = make_zip(tmp_path / "Desk Export.zip", [("a.txt", TEXT_2023), ("../evil.txt", "up"),
                                                       ("photo.jpg", b"\xff")])
    proc = run_cli("ingest", zip_path, env={"RAG_DATA_DIR": settings.data_dir})
    assert proc.returncode == 1, proc.stderr  # an entry was refused
    lines = proc.stdout.splitlines()
    assert "  refused: Desk Export.zip: ../evil.txt: '..' in the path: it would be written outside the folder" in lines
    assert any(line.startswith("  skipped: Desk Export.zip: photo.jpg: file type '.jpg'") for line in lines)
    assert any(line.startswith("added 1, updated 0, skipped 0, removed 0, failed 0") for line in lines)
    assert (settings.uploads_dir / "Desk_Export" / "a.txt").read_text() == TEXT_2023

    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip at all" * 10)
    proc = run_cli("ingest", broken, env={"RAG_DATA_DIR": settings.data_dir})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: broken.zip is not a readable ZIP (BadZipFile: File is not a zip file): copy or download "
                      "it again, or re-create it with your system's ZIP tool"]
    assert [p.name for p in settings.uploads_dir.iterdir()] == ["Desk_Export"]
