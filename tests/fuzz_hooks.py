"""Schemathesis hooks for tests/integration/test_fuzz_api.py (loaded by `st run` through
SCHEMATHESIS_HOOKS): the values random generation seldom reaches, which is where the
500s of issue 25 were. Dates at the ends of the calendar and of the system's time range
(a day added to 9999-12-31 overflows), leap days and month ends; a NUL (PostgreSQL text
refuses it) in any query or path value; and values known to be good (HAZMAT_FUZZ_KNOWN,
JSON of name -> values: the registered fleet's plates and carriers, a report period), so
that an odd value beside them reaches the handler and its SQL."""
from __future__ import annotations

import json
import os
from datetime import date, timedelta
from urllib.parse import quote

import schemathesis
from hypothesis import strategies as st

# The system's bounds and beyond, a leap day, and last month's end (a day is added to each).
EDGE_DATES = ["9999-12-31", "0001-01-01", "2100-01-01", "2099-12-31", "2000-01-01", "2028-02-29",
              (date.today().replace(day=1) - timedelta(days=1)).isoformat()]
KNOWN: dict[str, list[str]] = json.loads(os.environ.get("HAZMAT_FUZZ_KNOWN", "{}"))

# Half edges, half dates the system can mean (any date at all is seldom one).
schemathesis.openapi.format("date", st.one_of(st.sampled_from(EDGE_DATES),
                                              st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(date.isoformat)))


def _with_nul(values: dict) -> st.SearchStrategy:
    """The values, or with a NUL before or after one of them."""
    if not values:
        return st.just(values)
    return st.one_of(st.just(values), st.tuples(st.sampled_from(sorted(values)), st.booleans()).map(
        lambda t: {**values, t[0]: f"\x00{values[t[0]]}" if t[1] else f"{values[t[0]]}\x00"}))


def _edges(values: dict | None, parameters) -> st.SearchStrategy:
    """The values with some of the operation's parameters set to known values (without them
    a generated request seldom gets past the plate check or the period to the query
    behind), then maybe with a NUL."""
    known = {p.name: st.sampled_from(KNOWN[p.name]) for p in parameters if KNOWN.get(p.name)}
    return st.fixed_dictionaries({}, optional=known).map(lambda k: {**(values or {}), **k}).flatmap(_with_nul)


@schemathesis.hook
def flatmap_query(context, query):
    return _edges(query, context.operation.query)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return _edges(path_parameters, context.operation.path_parameters)


def _is_date(schema: dict) -> bool:
    return schema.get("format") == "date" or any(_is_date(s) for s in schema.get("anyOf", []))


@schemathesis.hook
def before_add_examples(context, examples):
    """Beside the document's examples, for each GET whose required parameters are all known:
    the known values with, in turn, a NUL in each and each edge date in each date. Chance
    finds these seldom within `make test`'s seconds: the other values must be good too."""
    op = context.operation
    params = [*op.path_parameters, *op.query]
    if op.method.upper() != "GET" or any(p.is_required and p.name not in KNOWN for p in params):
        return
    good = {p.name: KNOWN[p.name][0] for p in params if p.name in KNOWN}

    def case(name: str, value: str):
        values = {**good, name: value}
        return op.Case(path_parameters={p.name: quote(values[p.name], safe="") for p in op.path_parameters},
                       query={p.name: values[p.name] for p in op.query if p.name in values})

    examples.extend(case(name, f"{value}\x00") for name, value in good.items())
    examples.extend(case(p.name, day) for p in params if _is_date(p.definition.get("schema", {})) for day in EDGE_DATES)
