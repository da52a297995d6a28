"""The project rules' decisions stored for a run whose inputs are all unchanged (issue 13).

A warm run where no file changed would otherwise run every project rule again over the whole
index (ISO404 and ISO104 resolve each candidate through it, decoding the modules they read:
about half of a warm run). What the project rules decide depends only on every file's result
(its cache key: content, per-file settings and the engine), on which files were asked for, on
the settings and on the rules that run; the decisions are stored with a digest of exactly that,
and reused only by a run with the same digest. Data-only JSON like every cache file: the digest,
the rules' warnings, and the findings and failures as the cache's codec writes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from isolint.config import Settings
from isolint.diagnostics import Diagnostic, FileError, FileResult
from isolint.faults import PROJECT_PATH
from isolint.serial import Codec, SerialError

DECIDED = "decided"  # the cache blob's name


@dataclass(frozen=True)
class Decisions:
    """The project rules' findings, warnings and failures for one set of inputs."""

    diagnostics: tuple[Diagnostic, ...]
    warnings: tuple[str, ...]
    failures: tuple[FileError, ...]


def inputs_digest(
    keys: Mapping[str, str], requested: Iterable[str], settings: Settings, codes: Sequence[str]
) -> str | None:
    """What the project rules' decisions depend on; None when a file has no cache key (its
    result is not identified by one, so nothing stored can be known to hold)."""
    if any(not key for key in keys.values()):
        return None
    text = json.dumps(
        [sorted(keys.items()), sorted(requested), repr(settings), list(codes)],
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def dumps(digest: str, decisions: Decisions, codec: Codec) -> bytes | None:
    """The blob for ``decisions`` (None if the codec cannot store them): one JSON document,
    ``[digest, warnings, the codec's document of the findings and failures]``."""
    carrier = FileResult(PROJECT_PATH, decisions.diagnostics, decisions.failures)
    try:
        body = json.loads(codec.dumps(carrier))
    except SerialError:
        return None
    document = [digest, list(decisions.warnings), body]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def loads(data: bytes, digest: str, codec: Codec) -> Decisions | None:
    """The stored decisions if they were made for ``digest``; None otherwise or if malformed."""
    try:
        document = json.loads(data.decode("ascii"))
        if not isinstance(document, list) or len(document) != 3 or document[0] != digest:
            return None
        _, warnings, body = document
        carrier = codec.loads(json.dumps(body, separators=(",", ":")).encode("ascii"))
    except (ValueError, SerialError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        return None
    if not isinstance(carrier, FileResult) or carrier.path != PROJECT_PATH:
        return None
    return Decisions(carrier.diagnostics, tuple(warnings), carrier.errors)
