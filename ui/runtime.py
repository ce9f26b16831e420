"""Process-wide state of the app: the index, the one Assistant, ingest jobs (no streamlit here).

One ``Runtime`` per data directory lives in ``st.cache_resource``. It builds the index
only when there is none or the bundled corpus changed on disk (a cheap fingerprint of
file names, sizes and times), loads the Assistant (embedding model, Chroma, BM25) once,
and runs ingests in a worker thread so every browser session can watch the same progress.
Counters record what was loaded or built, so tests can check nothing happens twice.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import rag
from rag import Settings


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]  # milliseconds
    print(f"[rag-ui {stamp}] {message}", file=sys.stderr, flush=True)


def corpus_fingerprint(corpus_dir: Path) -> tuple:
    """Names, sizes and modification times of the corpus files (a few stat calls)."""
    rows = []
    if corpus_dir.exists():
        for root, dirs, files in os.walk(corpus_dir):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                st = os.stat(os.path.join(root, name))
                rows.append((os.path.relpath(os.path.join(root, name), corpus_dir), st.st_size, st.st_mtime_ns))
    return tuple(rows)


# Before the first phase is heard.
LOADING = "Loading the embedding model and reading documents"
PHASES = {p.value for p in rag.Phase}
# Where each phase's bar starts and how much of the bar it fills (embedding is most of the work).
SPANS = {rag.Phase.FINDING: (0.0, 0.02), rag.Phase.READING: (0.02, 0.2), rag.Phase.EMBEDDING: (0.2, 0.75),
         rag.Phase.KEYWORDS: (0.95, 0.04)}


@dataclass
class IngestJob:
    """One ingest run in a worker thread; the UI polls ``snapshot``."""

    kind: str  # "build" (no index yet), "sync" (check the corpus against the index), "upload"
    paths: list[Path] | None
    started: float = field(default_factory=time.perf_counter)
    phase: str = LOADING
    step: object = None  # the rag.Phase heard last (None: none yet, or waiting)
    done: int = 0
    total: int = 0
    finished: float | None = None
    report: object = None
    error: BaseException | None = None
    thread: threading.Thread | None = None
    event: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.event.is_set()

    def snapshot(self) -> tuple[float, str]:
        """(fraction 0..1, what is happening) for a progress bar."""
        if not self.running:
            return 1.0, "Done"
        start, span = SPANS.get(self.step, (0.0, 0.0))
        fraction = start + span * (self.done / self.total if self.total else 0.0)
        return min(fraction, 0.99), self.phase

    def elapsed(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.lock = threading.RLock()
        self.serial = threading.Lock()  # one ingest at a time in this process
        self.indexed_fingerprint: tuple | None = None
        self.job: IngestJob | None = None
        self._assistant = None
        self.counters: Counter = Counter()
        self.created = time.time()

    # -- the index -----------------------------------------------------------------------------
    def index_exists(self) -> bool:
        return rag.Index.exists(self.settings)  # the usual first run: known without importing chromadb

    def corpus_job(self) -> IngestJob | None:
        """The job bringing the index up to date with the corpus, or None when it already is.

        Cheap on a warm rerun: one fingerprint of the corpus folder compared with the last one.
        """
        fingerprint = corpus_fingerprint(self.settings.corpus_dir)
        if fingerprint == self.indexed_fingerprint:
            return None
        with self.lock:
            if fingerprint == self.indexed_fingerprint:
                return None
            if self.job is not None and self.job.running and self.job.paths is None:
                return self.job  # another session started it: watch the same one
            kind = "sync" if self.index_exists() else "build"
            return self._start(IngestJob(kind, None), fingerprint)

    def upload_job(self, paths: list[Path]) -> IngestJob:
        with self.lock:
            return self._start(IngestJob("upload", [Path(p) for p in paths]), None)

    def _start(self, job: IngestJob, fingerprint: tuple | None) -> IngestJob:
        def work():
            try:
                with self.serial:
                    job.started = time.perf_counter()
                    self._run(job)
                if fingerprint is not None:  # failures stay failures until the corpus changes again
                    self.indexed_fingerprint = fingerprint
                if self._assistant is not None and (job.report.doc_ids or job.report.removed):
                    self._assistant.reload()
                    self.counters["assistant_reloads"] += 1
            except BaseException as error:  # shown to the person; the next run tries again
                job.error = error
                log(f"ingest failed: {type(error).__name__}: {error}")
            finally:
                job.finished = time.perf_counter()
                job.event.set()

        self.job = job
        job.thread = threading.Thread(target=work, name=f"rag-ingest-{job.kind}", daemon=True)
        job.thread.start()
        return job

    def _run(self, job: IngestJob) -> None:
        self.counters[f"ingest_{job.kind}"] += 1
        log(f"ingest ({job.kind}) of {', '.join(map(str, job.paths)) if job.paths else 'the bundled corpus'}")
        def progress(done: int, total: int, message: str) -> None:
            phase = rag.Phase(message) if message in PHASES else None
            job.done, job.total, job.step = done, total, phase
            text = str(getattr(message, "value", message))
            if phase is rag.Phase.EMBEDDING:
                job.phase = f"Embedding {total:,} passages" if done < total else "Saving the index"
            elif total and phase is not None:
                job.phase = f"{text[0].upper()}{text[1:]}: {done:,} of {total:,} {phase.unit}"
            else:  # finding files, or waiting for an ingest in another process to finish
                job.phase = text[0].upper() + text[1:]

        job.phase = LOADING
        job.report = rag.ingest(self.settings, job.paths, progress=progress)
        log(f"ingest ({job.kind}) done in {job.elapsed():.1f} s: {job.report.to_json()}")

    def delete(self, doc_id: str) -> "rag.Deleted":
        """Delete a document (``rag.delete_document``: DocumentError says why not), after any ingest
        of this process, then let the Assistant pick up the smaller index."""
        with self.serial:
            deleted = rag.delete_document(self.settings, doc_id)
        self.counters["deletes"] += 1
        log(f"deleted {doc_id} ({deleted.chunks} passages, {len(deleted.files)} files)")
        if self._assistant is not None:
            self._assistant.reload()
            self.counters["assistant_reloads"] += 1
        return deleted

    # -- the assistant -------------------------------------------------------------------------
    def assistant(self):
        """The Assistant (loaded once per process, shared by every browser session)."""
        if self._assistant is None:
            with self.lock:
                if self._assistant is None:
                    started = time.perf_counter()
                    assistant = rag.Assistant(self.settings)
                    assistant.warm_up()
                    self.counters["assistant_loads"] += 1
                    log(f"assistant loaded ({assistant.mode.value}) in {time.perf_counter() - started:.1f} s "
                        f"(load #{self.counters['assistant_loads']})")
                    self._assistant = assistant
        return self._assistant

    def model_loads(self) -> int:
        """How many times the embedding model was loaded in this process (1 after the first use)."""
        return rag.model_loads()
