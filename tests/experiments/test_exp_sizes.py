"""``--size large``: the experiments that offer a GPU-sized problem, the command line's checks,
and the large code path of ``second-order`` (run here at a small stand-in size)."""
import json

import pytest

from experiments import geometry as G
from experiments import second_order as SO
from experiments.__main__ import main
from experiments.jobs import result_folder, run_one
from experiments.registry import all_experiments, register

# the tests marked host_only read the registry, the command line's checks and the report, and
# hold no array: they do not depend on the suite's backend (the runs below name theirs)


@pytest.mark.host_only
def test_the_experiments_with_a_large_size():
    sized = sorted(n for n, e in all_experiments().items() if "large" in e.sizes)
    assert sized == ["geometry", "second-order"]
    assert SO.LOGREG_LARGE == {"m": 10**6, "dim": 10**3, "mu": 1e-3}
    assert G.SHAPE_LARGE == (512, 1024) and G.SAMPLES_LARGE == 4096


@pytest.mark.host_only
def test_a_large_size_where_there_is_none_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "gd-rates", "--size", "large", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "without a 'large' size: gd-rates" in err and "geometry, second-order" in err
    with pytest.raises(ValueError, match="has no size 'large'"):
        run_one("gd-rates", str(tmp_path), True, 0, "numpy", size="large")


@pytest.mark.host_only
def test_register_refuses_an_unknown_size():
    with pytest.raises(ValueError, match="sizes must include 'default'"):
        register("zz-sized", "claim", sizes=("huge",))(lambda out_dir, **kw: {})


@pytest.mark.host_only
def test_large_results_go_to_their_own_folder():
    assert result_folder("second-order") == "second-order"
    assert result_folder("second-order", "large") == "second-order-large"


@pytest.mark.slow
def test_the_large_code_path_runs_and_records_its_sizes(tmp_path, monkeypatch):
    """The large variant at a stand-in size (the real one needs a GPU): its sizes reach the
    problem, the saved config and the figure, and the verdict comes from the same checks."""
    small = {"m": 400, "dim": 40, "mu": 1e-3}
    monkeypatch.setattr(SO, "LOGREG_LARGE", small)
    monkeypatch.setattr(SO, "LARGE", {"seeds": 1, "gd_logreg": 3000, "gd_rosen": 2000})
    v = run_one("second-order", str(tmp_path), False, 0, "numpy", size="large")
    folder = tmp_path / "second-order-large"
    assert v["size"] == "large" and v["verdict"] == "PASS", v["measured"]
    assert json.loads((folder / "logreg.json").read_text()) == small
    assert SO.saved_config(folder) == small
    assert all(t.meta["dim"] == 40 for t in SO.load(folder)["logreg"])
    assert json.loads((folder / "verdict.json").read_text())["size"] == "large"
    assert not (tmp_path / "second-order").exists()


@pytest.mark.slow
def test_geometrys_large_code_path_runs_on_its_shape(tmp_path, monkeypatch):
    """geometry's large variant at a stand-in shape: the runs use it, the figure says it."""
    monkeypatch.setattr(G, "SHAPE_LARGE", (8, 16))
    monkeypatch.setattr(G, "SAMPLES_LARGE", 128)
    monkeypatch.setattr(G, "STEPS", 20)          # the code path, not the claim: fewer steps
    monkeypatch.setattr(G, "TIMING_SIZE", 64)    # and a smaller matrix to time
    v = run_one("geometry", str(tmp_path), False, 0, "numpy", size="large")
    folder = tmp_path / "geometry-large"
    traces = G.load_traces(folder, stem="opt")
    assert {tuple(t.meta["shape"]) for t in traces} == {(8, 16)}
    assert {t.meta["samples"] for t in traces} == {128}
    assert {t.meta["peak_lr"] for t in traces} == set(G.GRID[True])   # the coarse grid
    assert G._shape_of(traces) == "8x16"
    assert v["size"] == "large" and v["verdict"] in ("PASS", "FAIL") and v["measured"]


@pytest.mark.host_only
def test_the_report_links_a_large_run_to_its_own_figure(tmp_path):
    from experiments.report import write_report

    for folder, size in (("second-order", "default"), ("second-order-large", "large")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "verdict.json").write_text(json.dumps(
            {"name": "second-order", "size": size, "verdict": "PASS", "claim": "c",
             "figure": "second_order.png"}))
    text = write_report(tmp_path).read_text()
    assert "| second-order | c |" in text
    assert "| second-order (size large) | c |" in text
    assert "(second-order-large/second_order.png)" in text
    assert "(second-order/second_order.png)" in text
