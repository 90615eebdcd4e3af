"""One declaration of a table's columns: the entity's msgspec struct.

The fields of :class:`~collector.storage.model.Click` and :class:`~collector.storage.model.Event`
*are* the columns of the ``clicks`` and ``events`` tables, in table order. :func:`columns` reads a
struct's fields as :class:`Column` (name, kind, nullability, default); each engine turns a kind
into its own SQL type (``sqlite/schema.py``, ``clickhouse/schema.py``), with overrides only where
it is hand-tuned (ClickHouse's narrower integers and ``LowCardinality``; indexes, sort keys and
codecs stay hand-written DDL). :class:`RowCodec` converts a struct to a row tuple in column order
and back, with one converter per kind that the engine supplies.

Kinds, from the annotation (``X | None`` makes a column nullable):

========  ===================================  ==========  ===========================
kind      annotation                           SQLite      ClickHouse
========  ===================================  ==========  ===========================
text      ``str`` (or a ``Literal`` of str)    TEXT        String
int       ``int``                              INTEGER     Int64
float     ``float``                            REAL        Float64
bool      ``bool``                             INTEGER     Bool
time      :data:`Millis` (ms since the epoch)  INTEGER     DateTime64(3, 'UTC')
map       ``dict[str, str]``                   TEXT JSON   Map(String, String)
json      ``Any`` (a JSON value)               TEXT JSON   String
========  ===================================  ==========  ===========================

Adding a field to a click is one edit to the struct plus a migration (one line per engine).
For example, to keep the landing page's title:

1. ``model.py``, in ``Click``: ``page_title: str | None = None``
2. ``sqlite/schema.py``: append ``AddColumns("clicks", ("page_title",))`` to ``MIGRATIONS``
3. ``clickhouse/schema.py``: append ``AddColumns("clicks", ("page_title",))`` to ``MIGRATIONS``
   (and name it in ``CLICK_LOW_CARDINALITY`` if it has few distinct values)

Inserts, reads and the column types follow from the struct; a fresh database gets the column
from the same migration as an old one (migration 1 creates a declared table without the
columns later migrations add). Never change the type of a field that has a column: add a new
field instead. ``tests/test_storage.py`` checks on both engines that the tables hold exactly the
declared columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Annotated, Any, Generic, Literal, NamedTuple, TypeVar

import msgspec
import msgspec.inspect as mi

Kind = Literal["text", "int", "float", "bool", "time", "map", "json"]

# An instant as an integer of milliseconds since the Unix epoch, UTC: a "time" column.
Millis = Annotated[int, msgspec.Meta(extra={"column": "time"})]

S = TypeVar("S", bound=msgspec.Struct)


class Column(NamedTuple):
    """A column as a struct field declares it."""

    name: str
    kind: Kind
    nullable: bool
    default: Any  # the field's default value (a factory's product), or msgspec.NODEFAULT


def _kind(info: mi.Type, field: str) -> Kind:
    if isinstance(info, mi.Metadata):
        if (info.extra or {}).get("column") == "time":
            return "time"
        return _kind(info.type, field)
    if isinstance(info, mi.StrType):
        return "text"
    if isinstance(info, mi.LiteralType) and all(isinstance(v, str) for v in info.values):
        return "text"
    if isinstance(info, mi.BoolType):
        return "bool"
    if isinstance(info, mi.IntType):
        return "int"
    if isinstance(info, mi.FloatType):
        return "float"
    if (
        isinstance(info, mi.DictType)
        and isinstance(info.key_type, mi.StrType)
        and isinstance(info.value_type, mi.StrType)
    ):
        return "map"
    if isinstance(info, mi.AnyType):
        return "json"
    raise TypeError(f"field {field!r}: no column kind for {info!r}")


def _column(field: mi.Field) -> Column:
    info = field.type
    nullable = False
    if isinstance(info, mi.UnionType):
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(others) != 1:
            raise TypeError(f"field {field.name!r}: a column holds one type (or None)")
        info, nullable = others[0], True
    default = field.default
    if field.default_factory is not msgspec.NODEFAULT:
        default = field.default_factory()
    return Column(field.name, _kind(info, field.name), nullable, default)


@cache
def columns(struct: type[msgspec.Struct]) -> tuple[Column, ...]:
    """The columns a struct declares, in field order."""
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return tuple(_column(field) for field in info.fields)


def without(declared: Iterable[Column], names: Iterable[str]) -> tuple[Column, ...]:
    """The declared columns minus ``names`` (those a later migration adds)."""
    skip = set(names)
    return tuple(c for c in declared if c.name not in skip)


class RowCodec(Generic[S]):
    """Struct <-> row tuple (columns in declaration order) for one engine.

    ``encode`` / ``decode`` map a kind to the converter of a value of that kind on the way into
    a row / out of it; kinds not named pass through unchanged, and so does None in a nullable
    column.
    """

    def __init__(
        self,
        struct: type[S],
        encode: Mapping[Kind, Callable[[Any], Any]],
        decode: Mapping[Kind, Callable[[Any], Any]],
    ) -> None:
        declared = columns(struct)
        self.struct = struct
        self.names: tuple[str, ...] = tuple(c.name for c in declared)
        self._encoders = tuple(
            (i, encode[c.kind], c.nullable) for i, c in enumerate(declared) if c.kind in encode
        )
        self._decoders = tuple((c.name, decode.get(c.kind), c.nullable) for c in declared)

    def row(self, item: S) -> tuple[Any, ...]:
        """The struct's values as a row, each converted for the engine."""
        values = msgspec.structs.astuple(item)
        if not self._encoders:
            return values
        row = list(values)
        for index, convert, nullable in self._encoders:
            if row[index] is not None or not nullable:
                row[index] = convert(row[index])
        return tuple(row)

    def read(self, row: Iterable[Any]) -> S:
        """A struct from a row in column order."""
        values = {
            name: value if convert is None or (value is None and nullable) else convert(value)
            for (name, convert, nullable), value in zip(self._decoders, row, strict=True)
        }
        return self.struct(**values)
