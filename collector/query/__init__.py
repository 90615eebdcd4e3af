"""One query compiler: typed filters, time ranges, IANA time zones, group-bys and time buckets,
compiled to SQL for SQLite and for ClickHouse.

Endpoints describe a :class:`Query` in field names; they never write SQL. The parts:

- ``model.py``: the query (:class:`AnyOf`, :class:`NoneOf`, :class:`Contains`, :class:`Range`
  filters, a :class:`TimeRange`, a time zone, group-by fields, a bucket unit) and
  :class:`QueryError`, which names the field to blame (``param``).
- ``fields.py``: the registry of an entity's fields (column, kind, nullable) and the checks
  every query passes before compiling; :data:`CLICKS` is read from the ``Click`` struct.
  ``Fields.parse`` reads the events API's list syntax (``a,b`` any of, ``-a,b`` none of).
- ``buckets.py``: bucket edges in a time zone, in Python with ``zoneinfo`` (DST-correct: days
  of 23 and 25 hours).
- ``sqlite.py`` / ``clickhouse.py``: the same functions per dialect. ``where`` gives the
  conditions and bound parameters, ``group_keys`` the select expressions ``key0``... and
  ``bucket``, ``bucket`` the bucket start of a row (ms), ``count`` a whole counting statement
  (breakdowns and time series). SQLite gets bucket edges as parameters; ClickHouse computes
  them with its time-zone functions; ``tests/test_query_compiler.py`` checks both agree.
- ``clicks.py``: ``GET clicks`` filters as a query (both engines' ``list_clicks`` use it).

Values are always bound parameters; column names come from the registry only.

Adding a filter:

- on a field the entity already has: nothing to do here. Map the request parameter to a
  filter (``Fields.parse(name, raw)`` for the list syntax, or build ``AnyOf(name, values)``
  etc.) and pass the query to the compiler. Which filters a field takes follows from its kind.
- on a new field: declare it on the entity's struct (and its migration); the registry reads it.
- a new kind of filter (say, "starts with"): a struct in ``model.py``, the kinds that take it in
  ``fields._FILTERS``, a branch in ``_condition`` of both ``sqlite.py`` and ``clickhouse.py``,
  and a case in ``tests/test_query_compiler.py``, which runs it on both engines.
"""

from .fields import CLICKS, Field, Fields
from .model import (
    AnyOf,
    BucketUnit,
    Contains,
    Filter,
    NoneOf,
    Query,
    QueryError,
    Range,
    TimeRange,
)

__all__ = [
    "CLICKS",
    "AnyOf",
    "BucketUnit",
    "Contains",
    "Field",
    "Fields",
    "Filter",
    "NoneOf",
    "Query",
    "QueryError",
    "Range",
    "TimeRange",
]
