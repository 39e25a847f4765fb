"""Records behave as typing.NamedTuple classes do: the API users rely on (fields by name
and position, defaults, immutability, _replace/_asdict/_make, equality, pickling)."""

from __future__ import annotations

import copy
import pickle
from typing import NamedTuple, Optional

import pytest

from oomutil import ProcessRecord
from oomutil._record import Record, as_plain


class Point(Record):
    """A point."""

    x: int
    y: int
    label: Optional[str] = None

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


class Reference(NamedTuple):  # the behaviour to match
    x: int
    y: int
    label: Optional[str] = None


def test_construction_by_position_name_and_default():
    for cls in (Point, Reference):
        assert tuple(cls(1, 2)) == (1, 2, None)
        assert tuple(cls(1, y=2, label="a")) == (1, 2, "a")
        assert tuple(cls(y=2, x=1)) == (1, 2, None)


@pytest.mark.parametrize("args,kwargs", [((1,), {}), ((1, 2, 3, 4), {}), ((1, 2), {"z": 3}), ((1, 2), {"x": 1})])
def test_wrong_arguments_raise_type_error_like_namedtuple(args, kwargs):
    with pytest.raises(TypeError):
        Reference(*args, **kwargs)
    with pytest.raises(TypeError):
        Point(*args, **kwargs)


def test_fields_methods_and_docstring():
    p = Point(3, -4)
    assert (p.x, p.y, p.label, p.norm1) == (3, -4, None, 7)
    assert Point._fields == Reference._fields == ("x", "y", "label")
    assert Point._field_defaults == {"label": None}
    assert Point.__doc__ == "A point." and Point.__name__ == "Point"
    assert p._asdict() == {"x": 3, "y": -4, "label": None}
    assert p._replace(label="b") == Point(3, -4, "b") and isinstance(p._replace(x=0), Point)
    assert Point._make([1, 2, "c"]) == Point(1, 2, "c")
    assert repr(p) == "Point(x=3, y=-4, label=None)"
    assert p == Point(3, -4) and hash(p) == hash(Point(3, -4)) and p != Point(3, 4)


def test_immutable():
    p = Point(1, 2)
    with pytest.raises(AttributeError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]


def test_pickle_and_copy():
    p = Point(1, 2, "z")
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.copy(p) == p and copy.deepcopy(p) == p


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError):
        class Bad(Record):  # noqa: F841
            a: int = 0
            b: int


def test_as_plain_turns_nested_records_into_objects():
    outer = {"points": [Point(1, 2)], "pair": (Point(0, 0, "o"), 5)}
    assert as_plain(outer) == {"points": [{"x": 1, "y": 2, "label": None}],
                               "pair": [{"x": 0, "y": 0, "label": "o"}, 5]}


def test_public_records_are_records():
    assert ProcessRecord._fields[:2] == ("pid", "comm") and issubclass(ProcessRecord, tuple)
