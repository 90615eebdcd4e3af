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

The new field needs a default (or ``| None``): rows stored before the migration take it.
Inserts, reads and the column types follow from the struct; a fresh database gets the column
from the same migration as an old one (migration 1 creates a declared table without the
columns later migrations add). Never change the type of a field that has a column: add a new
field instead. ``tests/test_storage.py`` checks on both engines that the tables hold exactly the
declared columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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


def _converted(value: str, column: Column, converters: Mapping[Kind, Any]) -> str:
    """Source text of ``value`` through the converter of its column's kind (named ``to_<kind>``
    in the generated function), None staying None in a nullable column."""
    if column.kind not in converters:
        return value
    if column.nullable:
        return f"(None if {value} is None else to_{column.kind}({value}))"
    return f"to_{column.kind}({value})"


def _compile(name: str, source: str, converters: Mapping[Kind, Any], struct: type) -> Any:
    """The function ``name`` defined by generated ``source`` (as ``collections.namedtuple``
    builds its methods). Spelled-out keyword arguments build a struct several times faster than
    ``struct(**dict(zip(names, row)))``; rows are built and read on ingest and on every page."""
    scope: dict[str, Any] = {f"to_{kind}": convert for kind, convert in converters.items()}
    scope["struct"] = struct
    scope["astuple"] = msgspec.structs.astuple
    exec(source, scope)  # the source names only struct fields (identifiers) and converters
    return scope[name]


class RowCodec(Generic[S]):
    """Struct <-> row tuple (columns in declaration order) for one engine.

    ``encode`` / ``decode`` map a kind to the converter of a value of that kind on the way into
    a row / out of it; kinds not named pass through unchanged, and so does None in a nullable
    column. ``row(item)`` gives the struct's values as a row, each converted for the engine;
    ``read(row)`` builds the struct from a row. Both are generated once per codec.
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
        self.row: Callable[[S], tuple[Any, ...]] = msgspec.structs.astuple
        patches = [
            f"    v[{i}] = {_converted(f'v[{i}]', c, encode)}\n"
            for i, c in enumerate(declared)
            if c.kind in encode
        ]
        if patches:  # astuple, then the few converted values replaced in place
            self.row = _compile(
                "row",
                f"def row(item):\n    v = list(astuple(item))\n{''.join(patches)}"
                "    return tuple(v)\n",
                encode,
                struct,
            )
        unpack = ", ".join(f"v{i}" for i in range(len(declared)))
        fields = ", ".join(
            f"{c.name}={_converted(f'v{i}', c, decode)}" for i, c in enumerate(declared)
        )
        self.read: Callable[[Sequence[Any]], S] = _compile(
            "read",
            f"def read(row):\n    {unpack}, = row\n    return struct({fields})\n",
            decode,
            struct,
        )
