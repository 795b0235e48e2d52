"""The state_dict's format on disk: a nested state_dict (torch.optim's shape,
``{"state": {index: {...}}, "param_groups": [...], ...}``) as one flat dict of NumPy arrays for
``numpy.savez`` and back, and the conversions of the values saved in it."""
from __future__ import annotations

from minigrad import backend as B

__all__ = ["flatten_state_dict", "unflatten_state_dict"]


def _savable(value):
    """The value as it goes into a state_dict, or None when it is not saved (callables, None)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        return tuple(value)
    return None


def _plain(value):
    """A value read back from a state_dict (maybe a 0-d or 1-d array after numpy.load) as a
    plain Python value."""
    if B.is_array(value):
        value = B.to_numpy(value)
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, list):
        return tuple(value)
    return value


def _host_copy(a):
    """A NumPy copy of a backend array (never a view of the live state)."""
    if B.backend_name_of(a) == "numpy":
        return a.copy()
    return B.to_numpy(a)


def flatten_state_dict(sd, prefix: str = "") -> dict:
    """A nested state_dict as one flat dict of NumPy arrays for ``numpy.savez``: the keys are
    paths (``"state/0/m"``, ``"param_groups/1/lr"``); an empty dict is kept as its path with a
    trailing ``"/"`` (``"extra/"``). :func:`unflatten_state_dict` is the inverse."""
    if not sd:
        return {prefix: B.to_numpy(())}
    flat = {}
    for key, value in sd.items() if isinstance(sd, dict) else enumerate(sd):
        if isinstance(value, dict) or (isinstance(value, list) and value
                                       and isinstance(value[0], dict)):
            flat.update(flatten_state_dict(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = B.to_numpy(value)
    return flat


def unflatten_state_dict(flat) -> dict:
    """The nested state_dict back from :func:`flatten_state_dict`'s dict or from what
    ``numpy.load`` gives: integer path parts are int keys, ``param_groups`` a list, 0-d arrays
    Python numbers / strings."""
    sd: dict = {}
    for path in flat:
        *parts, last = [int(s) if s.isdigit() else s for s in str(path).split("/")]
        node = sd
        for part in parts:
            node = node.setdefault(part, {})
        if last != "":
            value = B.to_numpy(flat[path])
            node[last] = value.item() if value.ndim == 0 else value

    def lists(node):
        return {k: ([lists(v[i]) for i in sorted(v)] if k == "param_groups" else lists(v))
                if isinstance(v, dict) else v for k, v in node.items()}
    return lists(sd)
