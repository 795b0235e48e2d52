"""Traces round-trip through .npz; figures can be redrawn from saved traces."""
import numpy as np
import pytest

from experiments.trace import Trace, load_traces, save_traces

pytestmark = pytest.mark.host_only  # traces are host NumPy arrays on every backend


def test_trace_round_trip(tmp_path):
    t = Trace("SGD a=0.1", {"k": np.arange(3.0), "f_gap": np.array([1.0, 0.5, np.nan])},
              {"seed": 3, "alpha": np.float64(0.1)})
    save_traces([t, t], tmp_path, stem="run")
    back = load_traces(tmp_path, stem="run")
    assert len(back) == 2 and back[0].label == "SGD a=0.1" and back[0].meta["seed"] == 3
    np.testing.assert_array_equal(back[1]["f_gap"], t["f_gap"])
