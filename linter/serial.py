"""Data-only serialization of isolint's values (frozen dataclasses, enums, containers) to JSON.

What the cache stores must not be able to run code when read back (the cache lives in the
project and is restored from CI caches), so there is no pickle: each value becomes JSON with a
type tag, and decoding rebuilds only the dataclasses and enums of an explicit allowlist
(``registry``: every one defined in ``ALLOWED_MODULES``, plus any a caller adds). Anything else
fails closed with ``SerialError``. Round trips are exact: tuples stay tuples, lists stay lists.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The engine's value modules: every dataclass and enum defined in one of them may be stored.
ALLOWED_MODULES = (
    "isolint.diagnostics",
    "isolint.facts",
    "isolint.imports",
    "isolint.suppressions",
)

# One-letter tags of the JSON objects that stand for non-JSON values.
_TUPLE, _LIST, _DICT, _BYTES, _FROZENSET, _CLASS, _ENUM = "T", "L", "D", "B", "F", "C", "E"
# Stored as themselves (exact types: an enum deriving from str or int is not one of them).
_SCALARS = frozenset({type(None), bool, int, float, str})


class SerialError(ValueError):
    """A value that cannot be stored, or stored data that is not a valid encoding."""


def type_tag(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _storable(obj: object, module: str) -> bool:
    if not isinstance(obj, type) or obj.__module__ != module:
        return False
    return dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)


def registry(extra: Iterable[type] = ()) -> dict[str, type]:
    """tag -> class for every dataclass/enum of ``ALLOWED_MODULES`` (``isolint.*`` only) and ``extra``.

    Modules are imported by their fixed names from the tuple above, never from stored data.
    ``extra`` are class objects the caller already holds (the engine's own, and the candidate
    payload classes of the loaded rules, ``isolint.rule.payload_classes``): nothing is imported
    for them, and a stored tag naming anything else still fails closed.
    """
    found: dict[str, type] = {}
    for name in ALLOWED_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if _storable(obj, name):
                found[type_tag(obj)] = obj
    for cls in extra:
        tag = type_tag(cls)
        if not _storable(cls, cls.__module__) or "<locals>" in cls.__qualname__:
            raise SerialError(f"{tag} is not a module-level dataclass or enum")
        if found.setdefault(tag, cls) is not cls:
            raise SerialError(f"{tag} names two different classes")
    return found


@dataclass(frozen=True)
class Codec:
    """Encodes values to JSON text and back, allowing only the classes in ``types``.

    How each class is stored (its tag and fields) is worked out once per codec and kept in
    ``_encoders``/``_decoders``: the cache and the project index run a codec over every file.
    """

    types: Mapping[str, type]
    _encoders: dict[type, tuple[str, tuple[str, ...] | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _decoders: dict[str, tuple[type, bool, frozenset[str] | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def create(cls, extra: Iterable[type] = ()) -> Codec:
        return cls(registry(extra))

    def dumps(self, value: object) -> bytes:
        try:
            # ASCII JSON: non-UTF-8 file names (lone surrogates) survive as \udcXX escapes.
            return json.dumps(self.encode(value), separators=(",", ":")).encode("ascii")
        except RecursionError:
            raise SerialError("value nested too deeply") from None

    def loads(self, data: bytes) -> object:
        try:
            document = json.loads(data.decode("ascii"))
            return self.decode(document)
        except RecursionError:
            raise SerialError("stored value nested too deeply") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SerialError(f"not valid JSON: {exc}") from None

    def encode(self, value: object) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is tuple or kind is list or kind is frozenset:
            assert isinstance(value, (tuple, list, frozenset))
            items = [item if type(item) in _SCALARS else self.encode(item) for item in value]
            return {_TUPLE if kind is tuple else _LIST if kind is list else _FROZENSET: items}
        if kind is bytes:
            assert isinstance(value, bytes)
            return {_BYTES: base64.b64encode(value).decode("ascii")}
        if kind is dict:
            assert isinstance(value, dict)
            if not all(isinstance(key, str) for key in value):
                raise SerialError("cannot store a dict with non-string keys")
            return {_DICT: {key: self.encode(item) for key, item in value.items()}}
        plan = self._encoders.get(kind)
        if plan is None:
            plan = self._encoder(kind)
        tag, names = plan
        if names is None:  # an enum (never a scalar: Severity is a str, ExitCode an int)
            assert isinstance(value, enum.Enum)
            return {_ENUM: tag, "v": self.encode(value.value)}
        fields = {}
        for name in names:
            item = getattr(value, name)
            fields[name] = item if type(item) in _SCALARS else self.encode(item)
        return {_CLASS: tag, "v": fields}

    def _encoder(self, kind: type) -> tuple[str, tuple[str, ...] | None]:
        """How values of ``kind`` are stored: its tag, and its init fields (None for an enum)."""
        plan: tuple[str, tuple[str, ...] | None]
        if issubclass(kind, enum.Enum):
            plan = (self._known(kind), None)
        elif dataclasses.is_dataclass(kind):
            plan = (self._known(kind), tuple(f.name for f in dataclasses.fields(kind) if f.init))
        else:
            raise SerialError(f"cannot store a {type_tag(kind)}")
        self._encoders[kind] = plan
        return plan

    def _known(self, cls: type) -> str:
        tag = type_tag(cls)
        if self.types.get(tag) is not cls:
            raise SerialError(f"{tag} is not an allowed type")
        return tag

    def decode(self, document: object) -> object:
        if type(document) in _SCALARS:
            return document
        if not isinstance(document, dict) or not document:
            raise SerialError("malformed value")
        kind = next(iter(document))
        body = document[kind]
        if kind in (_TUPLE, _LIST, _FROZENSET) and len(document) == 1 and isinstance(body, list):
            items = [item if type(item) in _SCALARS else self.decode(item) for item in body]
            if kind == _TUPLE:
                return tuple(items)
            return items if kind == _LIST else frozenset(items)
        if kind in (_CLASS, _ENUM) and len(document) == 2 and "v" in document:
            return self._rebuild(kind, body, document["v"])
        if kind == _DICT and len(document) == 1 and isinstance(body, dict):
            return {key: self.decode(item) for key, item in body.items()}
        if kind == _BYTES and len(document) == 1 and isinstance(body, str):
            try:
                return base64.b64decode(body, validate=True)
            except ValueError:
                raise SerialError("malformed bytes") from None
        raise SerialError("malformed value")

    def _decoder(self, tag: object) -> tuple[type, bool, frozenset[str] | None]:
        """The class a stored tag names, whether it is an enum, and its init field names (None
        unless it is a dataclass)."""
        if not isinstance(tag, str):
            raise SerialError(f"unknown type {tag!r}")
        plan = self._decoders.get(tag)
        if plan is not None:
            return plan
        cls = self.types.get(tag)
        if cls is None:
            raise SerialError(f"unknown type {tag!r}")
        names = None
        if dataclasses.is_dataclass(cls):
            names = frozenset(f.name for f in dataclasses.fields(cls) if f.init)
        plan = (cls, issubclass(cls, enum.Enum), names)
        self._decoders[tag] = plan
        return plan

    def _rebuild(self, kind: str, tag: object, body: object) -> object:
        cls, is_enum, names = self._decoder(tag)
        if kind == _ENUM:
            if not is_enum:
                raise SerialError(f"{tag} is not an enum")
            try:
                return cls(self.decode(body))
            except ValueError:
                raise SerialError(f"not a member of {tag}") from None
        if names is None or not isinstance(body, dict):
            raise SerialError(f"{tag} is not a dataclass")
        if body.keys() != names:
            raise SerialError(f"fields of {tag} do not match")
        values = {
            name: item if type(item) in _SCALARS else self.decode(item)
            for name, item in body.items()
        }
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise SerialError(f"cannot rebuild {tag}: {exc}") from None
