"""Immutable records: ``class X(Record)`` with annotated fields, as with typing.NamedTuple.

Every record oomutil returns is a named tuple, as psutil's are: immutable, fields by name,
``_asdict()``, ``_replace()``, ``_fields``, and cheap to create (a scan makes 10,000).  mypy
sees typing.NamedTuple itself.  At run time the class is built here: importing typing, or
dataclasses (which imports inspect), costs more than all the rest of ``oomutil top``'s
start (dataclasses alone: +33 ms against ps's 14 ms), and collections.namedtuple compiles
source for each class (0.25 ms each; this takes 0.04 ms; docs/performance.md).  Modules
that define records use ``from __future__ import annotations``: field types are never
evaluated.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    try:
        from _collections import _tuplegetter  # what namedtuple's fields use: a C descriptor
    except ImportError:  # another implementation of Python
        from operator import itemgetter

        def _tuplegetter(index, doc):
            return property(itemgetter(index), doc=doc)

    _MISSING = object()
    _NOT_COPIED = {"__annotations__", "__module__", "__qualname__", "__dict__", "__weakref__", "__slots__"}

    class _Tuple(tuple):
        """What every record has besides its fields (namedtuple's API)."""

        __slots__ = ()
        _fields = ()
        _field_defaults = {}

        @classmethod
        def _make(cls, iterable):
            return cls(*iterable)

        def _asdict(self):
            return dict(zip(self._fields, self))

        def _replace(self, **changes):
            return type(self)(**{**self._asdict(), **changes})

        def __repr__(self):
            pairs = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
            return f"{type(self).__name__}({pairs})"

        def __getnewargs__(self):
            return tuple(self)

    def _constructor(name, fields, defaults):
        """``__new__`` taking fields by position or name; all of them by position (how
        the scans build records) is the quick path."""
        count, first_default = len(fields), len(fields) - len(defaults)
        index = {field: i for i, field in enumerate(fields)}
        new_tuple = tuple.__new__

        def __new__(cls, *args, **kwargs):
            if not kwargs and len(args) == count:
                return new_tuple(cls, args)
            if len(args) > count:
                raise TypeError(f"{name}() takes {count} arguments but {len(args)} were given")
            values = [*args, *[_MISSING] * (count - len(args))]
            for key, value in kwargs.items():
                i = index.get(key)
                if i is None:
                    raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
                if values[i] is not _MISSING:
                    raise TypeError(f"{name}() got multiple values for argument {key!r}")
                values[i] = value
            for i in range(count):
                if values[i] is _MISSING:
                    if i < first_default:
                        raise TypeError(f"{name}() missing required argument {fields[i]!r}")
                    values[i] = defaults[i - first_default]
            return new_tuple(cls, values)

        return __new__

    class _RecordType(type):
        """Turns ``class X(Record)`` into a tuple subclass with X's fields (in order),
        defaults, docstring, methods and properties, as typing.NamedTuple does."""

        def __new__(mcls, name, bases, namespace):
            if not bases:  # Record itself
                return super().__new__(mcls, name, bases, namespace)
            fields = tuple(namespace.get("__annotations__", ()))
            defaults = tuple(namespace[f] for f in fields if f in namespace)
            if any(f not in namespace for f in fields[len(fields) - len(defaults):]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            body = {key: value for key, value in namespace.items() if key not in _NOT_COPIED}
            body.update({field: _tuplegetter(i, None) for i, field in enumerate(fields)})
            body.update(__slots__=(), __new__=_constructor(name, fields, defaults), _fields=fields,
                        _field_defaults=dict(zip(fields[len(fields) - len(defaults):], defaults)),
                        __match_args__=fields, __module__=namespace["__module__"],
                        __qualname__=namespace.get("__qualname__", name))
            return type(name, (_Tuple,), body)

    class Record(metaclass=_RecordType):
        __slots__ = ()


_SCALARS = frozenset((type(None), bool, int, float, str))


def as_plain(value):
    """``value`` with every record in it (nested too) turned into a dict of its fields:
    what JSON shows.  Tuples that are not records (uids, nspid) stay sequences."""
    fields = getattr(value, "_fields", None)
    if fields is not None:  # scalars are taken as they are: 10,000 records go through here
        return {name: v if type(v) in _SCALARS else as_plain(v) for name, v in zip(fields, value)}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value
