"""Data-only serialization of isolint's values (frozen dataclasses, enums, containers) to JSON.

What the cache stores must not be able to run code when read back (the cache lives in the
project and is restored from CI caches), so there is no pickle: each value becomes JSON with a
type tag, and decoding rebuilds only the dataclasses and enums of an explicit allowlist
(``registry``: every one defined in ``ALLOWED_MODULES``, plus any a caller adds). Anything else
fails closed with ``SerialError``. Round trips are exact: tuples stay tuples, lists stay lists.

A document is the JSON array ``[tags, value]``: ``tags`` lists the type tags
(``module.QualName``) of the classes the value holds, and every value that is not a JSON scalar
is an array whose first element says what it is: ``0`` a tuple, ``1`` a list, ``2`` a
frozenset, ``3`` a dict (``[3, {key: value}]``), ``4`` bytes (``[4, base64]``), and ``5 + i``
an instance of ``tags[i]``, followed by its init fields in declaration order, without the
trailing ones that hold their plain default (an enum: its value). Positional fields and one
table of tags keep documents small and quick to rebuild: a warm run decodes every cached result.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

# The engine's value modules: every dataclass and enum defined in one of them may be stored.
ALLOWED_MODULES = (
    "isolint.diagnostics",
    "isolint.facts",
    "isolint.imports",
    "isolint.suppressions",
)

# The first element of an encoded non-scalar value (``5 + i``: the class ``tags[i]``).
_TUPLE, _LIST, _FROZENSET, _DICT, _BYTES, _FIRST_CLASS = 0, 1, 2, 3, 4, 5
_SEQUENCES: dict[type, int] = {tuple: _TUPLE, list: _LIST, frozenset: _FROZENSET}
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


# How a class is stored: its tag, what reads its init fields' values (None for an enum) and
# their defaults.
_Store = tuple[str, "Callable[[object], tuple[object, ...]] | None", tuple[object, ...]]
_MISSING: object = dataclasses.MISSING


def _reader(names: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """Reads the attributes ``names`` of a value as a tuple (``attrgetter`` gives a lone
    value for one name and refuses none)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        read = attrgetter(names[0])
        return lambda value: (read(value),)
    return lambda value: ()


# How a stored class is rebuilt: the class, how many values it stores, and the names to pass
# them by (None: positionally, in declaration order; an enum stores its one value).
_Rebuild = tuple[type, int, "tuple[str, ...] | None"]


@dataclass(frozen=True)
class Codec:
    """Encodes values to JSON text and back, allowing only the classes in ``types``.

    How each class is stored (its tag and fields) is worked out once per codec and kept in
    ``_encoders``/``_decoders``: the cache and the project index run a codec over every file.
    """

    types: Mapping[str, type]
    _encoders: dict[type, _Store] = field(default_factory=dict, compare=False, repr=False)
    _decoders: dict[str, _Rebuild] = field(default_factory=dict, compare=False, repr=False)
    # tag -> how many instances of it this codec has rebuilt: what a run decodes, measured
    # (tests/test_cache_decode.py holds warm runs to decoding each cached value once)
    rebuilt: Counter[str] = field(default_factory=Counter, compare=False, repr=False)

    @classmethod
    def create(cls, extra: Iterable[type] = ()) -> Codec:
        return cls(registry(extra))

    def dumps(self, value: object) -> bytes:
        tags: dict[type, int] = {}
        try:
            body = self._encode(value, tags)
            # ASCII JSON: non-UTF-8 file names (lone surrogates) survive as \udcXX escapes.
            names = [type_tag(kind) for kind in tags]
            return json.dumps([names, body], separators=(",", ":")).encode("ascii")
        except RecursionError:
            raise SerialError("value nested too deeply") from None

    def loads(self, data: bytes) -> object:
        try:
            document = json.loads(data.decode("ascii"))
        except RecursionError:
            raise SerialError("stored value nested too deeply") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SerialError(f"not valid JSON: {exc}") from None
        if type(document) is not list or len(document) != 2 or type(document[0]) is not list:
            raise SerialError("malformed document")
        tags = document[0]
        plans = [self._decoder(tag) for tag in tags]
        tally = [0] * len(plans)
        try:
            value = _decode(document[1], plans, tally)
        except RecursionError:
            raise SerialError("stored value nested too deeply") from None
        for tag, count in zip(tags, tally):
            self.rebuilt[tag] += count
        return value

    def _encode(self, value: object, tags: dict[type, int]) -> Any:
        """``value`` as JSON data; ``tags`` numbers the classes met so far (in order).

        (Lists are built by comprehension, not by unpacking a generator, and a class's fields
        read by one ``attrgetter``: every cached result and every file's facts come here.)"""
        kind = type(value)
        if kind in _SCALARS:
            return value
        marker = _SEQUENCES.get(kind)
        if marker is not None:
            assert isinstance(value, (tuple, list, frozenset))
            encoded: list[Any] = [marker]
            encoded += [
                item if type(item) in _SCALARS else self._encode(item, tags) for item in value
            ]
            return encoded
        if kind is bytes:
            assert isinstance(value, bytes)
            return [_BYTES, base64.b64encode(value).decode("ascii")]
        if kind is dict:
            assert isinstance(value, dict)
            if not all(isinstance(key, str) for key in value):
                raise SerialError("cannot store a dict with non-string keys")
            return [_DICT, {key: self._encode(item, tags) for key, item in value.items()}]
        plan = self._encoders.get(kind)
        if plan is None:
            plan = self._encoder(kind)
        index = tags.get(kind)
        if index is None:
            index = tags[kind] = _FIRST_CLASS + len(tags)
        _, read, defaults = plan
        if read is None:  # an enum (never a scalar: Severity is a str, ExitCode an int)
            assert isinstance(value, enum.Enum)
            return [index, self._encode(value.value, tags)]
        values = read(value)
        end = len(values)
        # trailing fields left at their plain default (of its type: 0 is not False) are not stored
        while end:
            default = defaults[end - 1]
            last = values[end - 1]
            if default is _MISSING or type(last) is not type(default) or last != default:
                break
            end -= 1
        encoded = [index]
        encoded += [
            item if type(item) in _SCALARS else self._encode(item, tags)
            for item in (values if end == len(values) else values[:end])
        ]
        return encoded

    def _encoder(self, kind: type) -> _Store:
        """How values of ``kind`` are stored: its tag, what reads its init fields as a tuple
        (None for an enum) and their plain defaults (``dataclasses.MISSING`` for none or a
        factory)."""
        plan: _Store
        if issubclass(kind, enum.Enum):
            plan = (self._known(kind), None, ())
        elif dataclasses.is_dataclass(kind):
            fields = [f for f in dataclasses.fields(kind) if f.init]
            plan = (
                self._known(kind),
                _reader(tuple(f.name for f in fields)),
                tuple(f.default for f in fields),
            )
        else:
            raise SerialError(f"cannot store a {type_tag(kind)}")
        self._encoders[kind] = plan
        return plan

    def _known(self, cls: type) -> str:
        tag = type_tag(cls)
        if self.types.get(tag) is not cls:
            raise SerialError(f"{tag} is not an allowed type")
        return tag

    def _decoder(self, tag: object) -> _Rebuild:
        """How to rebuild the class a stored tag names (SerialError if it is not allowed)."""
        if not isinstance(tag, str):
            raise SerialError(f"unknown type {tag!r}")
        plan = self._decoders.get(tag)
        if plan is not None:
            return plan
        cls = self.types.get(tag)
        if cls is None:
            raise SerialError(f"unknown type {tag!r}")
        if issubclass(cls, enum.Enum):
            plan = (cls, 1, None)
        elif dataclasses.is_dataclass(cls):
            fields = [f for f in dataclasses.fields(cls) if f.init]
            positional = not any(f.kw_only for f in fields)
            names = None if positional else tuple(f.name for f in fields)
            plan = (cls, len(fields), names)
        else:
            raise SerialError(f"{tag} is neither a dataclass nor an enum")
        self._decoders[tag] = plan
        return plan


def _decode(item: object, plans: list[_Rebuild], tally: list[int]) -> object:
    """Rebuild an encoded value; ``plans[i]`` rebuilds the class numbered ``5 + i``, and
    ``tally[i]`` counts its instances."""
    if type(item) in _SCALARS:
        return item
    if type(item) is not list or not item or type(item[0]) is not int:
        raise SerialError("malformed value")
    kind = item[0]
    if kind >= _FIRST_CLASS:
        if kind - _FIRST_CLASS >= len(plans):
            raise SerialError("malformed value: no such type")
        cls, arity, names = plans[kind - _FIRST_CLASS]
        tally[kind - _FIRST_CLASS] += 1
        if len(item) > arity + 1:  # fewer: the rest keep their defaults
            raise SerialError(f"fields of {type_tag(cls)} do not match")
        values = [v if type(v) in _SCALARS else _decode(v, plans, tally) for v in item[1:]]
        try:
            if names is None:
                return cls(*values)
            return cls(**dict(zip(names, values)))
        except (TypeError, ValueError) as exc:
            raise SerialError(f"cannot rebuild {type_tag(cls)}: {exc}") from None
    if kind == _TUPLE:
        return tuple([v if type(v) in _SCALARS else _decode(v, plans, tally) for v in item[1:]])
    if kind == _LIST:
        return [v if type(v) in _SCALARS else _decode(v, plans, tally) for v in item[1:]]
    if kind == _FROZENSET:
        try:
            return frozenset(
                [v if type(v) in _SCALARS else _decode(v, plans, tally) for v in item[1:]]
            )
        except TypeError:
            raise SerialError("malformed frozenset") from None
    if len(item) != 2:
        raise SerialError("malformed value")
    body = item[1]
    if kind == _DICT and type(body) is dict:
        return {
            key: v if type(v) in _SCALARS else _decode(v, plans, tally) for key, v in body.items()
        }
    if kind == _BYTES and type(body) is str:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise SerialError("malformed bytes") from None
    raise SerialError("malformed value")
