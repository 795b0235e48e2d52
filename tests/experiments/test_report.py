"""The report a person reads, the states ``--resume`` acts on, the atomic writes, and the
verdict box of the figures: each checked on hand-made verdict files and small figures."""
import json
import os

import pytest

from experiments import atomic, jobs, plotting, runinfo
from experiments.registry import Experiment
from experiments.report import decisive_text, one_line, write_report
from experiments.state import changed, state_of

pytestmark = pytest.mark.host_only  # files and text: no array backend involved


def _noop(out_dir, **kw):
    return {}


#: a registry of three experiments (the report lists every registered one); the functions'
#: module is this test module, so their fingerprint's source is this file's digest
EXPS = {name: Experiment(name, claim, _noop) for name, claim in (
    ("alpha", "a short claim"),
    ("beta", "a long claim " + "with many words " * 20 + "at the end"),
    ("gamma", "a claim that was never run"))}


def _fingerprint(name, **changes):
    fp = runinfo.fingerprint(EXPS[name], size="default", quick=True, seed=0, backend="numpy")
    fp.update(changes)
    return fp


def _write(out, folder, verdict):
    (out / folder).mkdir(parents=True, exist_ok=True)
    (out / folder / "verdict.json").write_text(json.dumps(verdict))


def _verdict(name, status="PASS", **extra):
    v = {"name": name, "verdict": status, "claim": EXPS[name].claim, "summary": f"{name} ran",
         "bound": "x <= 1", "measured": f"{name} measured 0.5", "figure": "fig.png",
         "quick": True, "seed": 0, "backend": "numpy", "size": "default", "seconds": 1.5,
         "decisive": {"label": "max ratio", "value": 0.5, "op": "<=", "threshold": 1.0},
         "meta": {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:00:02+00:00",
                  "fingerprint": _fingerprint(name),
                  "environment": {"package": "minigrad-optim", "package_version": "9.9",
                                  "git_commit": "abc123", "python": "3.11.7",
                                  "numpy": "2.4.6"}}}
    v.update(extra)
    return v


def test_one_short_row_per_registered_experiment_and_the_details_below(tmp_path):
    _write(tmp_path, "alpha", _verdict("alpha"))
    _write(tmp_path, "beta", _verdict("beta", "FAIL"))
    text = write_report(tmp_path, EXPS).read_text()
    table = [line for line in text.splitlines() if line.startswith("| ") and "[details]" in line]
    assert [line.split(" | ")[0] for line in table] == ["| alpha", "| beta", "| gamma"]
    # one short line per claim: the long claim is cut at a word, with an ellipsis
    beta_row = table[1]
    assert "**FAIL**" in beta_row and "…" in beta_row and len(beta_row) < 300
    assert "| alpha | a short claim | **PASS** | max ratio: 0.5 <= 1 | [details](#alpha) |" in text
    assert "| gamma | a claim that was never run | **NOT RUN** |" in text
    assert "1 PASS, 1 FAIL, 0 INFO, 0 ERROR, 0 interrupted, 1 not run (of 3 experiments)." in text
    # the details: the claim in full, the bound, the measured figures, how it ran, the figure
    details = text.split("## Details", 1)[1]
    assert EXPS["beta"].claim in details and "beta measured 0.5" in details
    assert "![alpha](alpha/fig.png)" in details and "### gamma" in details
    assert "quick, seed 0, backend numpy, 1.5 s" in details


def test_the_run_metadata_is_in_the_report(tmp_path):
    _write(tmp_path, "alpha", _verdict("alpha"))
    _write(tmp_path, "beta", _verdict("beta", quick=False, seed=3))
    text = write_report(tmp_path, EXPS).read_text()
    for row in ("| budget | full (1), quick (1) |", "| seed | 0 (1), 3 (1) |",
                "| backend | numpy |", "| package | minigrad-optim 9.9 |",
                "| git commit | abc123 |", "| Python | 3.11.7 |", "| NumPy | 2.4.6 |",
                "| dates (UTC) | 2026-01-01T00:00:00+00:00 to 2026-01-01T00:00:02+00:00 |",
                "| duration | 3.0 s of experiment time in all, the longest 1.5 s |"):
        assert row in text, row


def test_interrupted_error_and_stale_results_say_so(tmp_path):
    previous = _verdict("alpha")
    _write(tmp_path, "alpha", {"name": "alpha", "verdict": "INTERRUPTED", "claim": "c",
                               "summary": "interrupted after 2.0 s", "previous": previous})
    _write(tmp_path, "beta", _verdict("beta", "ERROR", traceback="Traceback...\nValueError: x"))
    stale = _verdict("gamma")
    stale["meta"]["fingerprint"]["source"] = "0" * 16        # the module changed since
    _write(tmp_path, "gamma", stale)
    text = write_report(tmp_path, EXPS).read_text()
    assert "| alpha | c | **INTERRUPTED** |" in text
    assert "**Previous result:** PASS, alpha ran" in text
    assert "ValueError: x" in text and "**ERROR**" in text
    assert "(stale)" in text and "**Stale:**" in text and "source" in text
    assert "0 PASS" not in text and "1 PASS" in text          # the stale one is still a PASS


def test_decisive_text_and_one_line():
    assert decisive_text({"label": "slope", "value": -1.02, "op": ">=",
                          "threshold": -1.1}) == "slope: -1.02 >= -1.1"
    assert decisive_text(None) == ""
    assert one_line("a  b\nc") == "a b c"
    cut = one_line("word " * 40, width=30)
    assert cut.endswith("…") and len(cut) <= 30 and "  " not in cut


def test_the_states_resume_acts_on():
    fp = _fingerprint("alpha")
    v = _verdict("alpha")
    assert state_of(None, fp) == "missing"
    assert state_of(dict(v, verdict="INTERRUPTED"), fp) == "interrupted"
    assert state_of(dict(v, verdict="ERROR"), fp) == "error"
    assert state_of(v, fp) == "done"
    for field, value in (("quick", False), ("seed", 1), ("backend", "strict"),
                         ("package_version", "0.0.1"), ("source", "f" * 16)):
        new = dict(fp, **{field: value})
        assert state_of(v, new) == "stale" and changed(v, new) == [field]
    assert state_of({"verdict": "PASS"}, fp) == "stale"          # no fingerprint recorded


def test_an_atomic_write_replaces_the_file_whole_or_not_at_all(tmp_path):
    path = tmp_path / "verdict.json"
    atomic.write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        atomic.write_text(path, 12345)                        # fails while writing
    assert json.loads(path.read_text()) == {"a": 1}           # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verdict.json"]   # no temporary left
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_committed_folder_replaces_the_old_one_and_a_killed_run_is_recovered(tmp_path):
    out = tmp_path
    _write(out, "alpha", _verdict("alpha"))
    (out / "alpha" / "old-file").write_text("old")
    part = jobs.partial_folder(out, "alpha")
    part.mkdir(parents=True)
    (part / "verdict.json").write_text(json.dumps(_verdict("alpha", summary="new")))
    jobs.commit(out, {"name": "alpha", "verdict": "PASS"})
    assert not part.exists() and not (out / "alpha" / "old-file").exists()
    assert jobs.load_verdict(out / "alpha")["summary"] == "new"
    # a run killed while beta was half done: its partial folder has started.json only
    part = jobs.partial_folder(out, "beta")
    part.mkdir(parents=True)
    (part / "started.json").write_text(json.dumps({"name": "beta", "claim": "c", "quick": True,
                                                   "seed": 0, "meta": {}}))
    # and a commit killed between its two renames: alpha's result moved aside, not back
    os.replace(out / "alpha", jobs.partial_folder(out, "alpha.old-123"))
    assert jobs.recover(out) == ["beta"]
    assert jobs.load_verdict(out / "beta")["verdict"] == "INTERRUPTED"
    assert jobs.load_verdict(out / "alpha")["summary"] == "new"      # put back
    assert not any((out / jobs.PARTIAL).iterdir())


def test_the_decisive_panel_shows_the_threshold_and_the_verdict_once_known(tmp_path):
    fig, (ax,) = plotting.subplots(1, 1)
    ax.plot([0, 1], [0.2, 0.5], label="measured")
    ax.legend(fontsize=5)
    record = plotting.decisive(ax, label="max ratio", value=0.5, threshold=1.0, line="h")
    assert record == {"label": "max ratio", "value": 0.5, "op": "<=", "threshold": 1.0}
    assert any(line.get_ydata()[0] == 1.0 for line in ax.get_lines()[1:])   # the threshold
    path = tmp_path / "fig.png"
    with plotting.collecting() as figures:
        assert plotting.save(fig, path) == path
        assert not path.exists()                               # held until the verdict
        assert figures.decisive() == record
        figures.finish("FAIL")
    assert path.stat().st_size > 1000
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["FAIL\nmax ratio: 0.5 <= 1"]
    assert all(t.get_fontsize() >= plotting.MIN_FONT for t in ax.get_legend().get_texts())
    assert ax.spines["left"].get_edgecolor() == pytest.approx(
        __import__("matplotlib").colors.to_rgba(plotting.VERDICT_COLORS["FAIL"]))


def test_a_figure_redrawn_later_reads_the_saved_verdict(tmp_path):
    (tmp_path / "verdict.json").write_text(json.dumps({"verdict": "PASS"}))
    fig, (ax,) = plotting.subplots(1, 1)
    plotting.decisive(ax, label="slope", value=-1.0, threshold=-1.1, op=">=")
    plotting.save(fig, tmp_path / "fig.png")
    assert [t.get_text() for t in ax.texts] == ["PASS\nslope: -1 >= -1.1"]
    fig, (ax,) = plotting.subplots(1, 1)
    plotting.decisive(ax, label="slope", value=-1.0, threshold=-1.1, op=">=")
    plotting.save(fig, tmp_path / "elsewhere" / "fig.png")    # no verdict there yet
    assert [t.get_text() for t in ax.texts] == ["no verdict yet\nslope: -1 >= -1.1"]
    with pytest.raises(ValueError, match="op"):
        plotting.decisive(ax, label="x", value=1, threshold=1, op="==")


def test_a_saved_figure_is_drawn_once_and_the_same_as_with_matplotlibs_tight_layout(
        tmp_path, monkeypatch):
    """plotting.save lays the figure out as ``fig.tight_layout()`` does and draws it once (with
    the placeholder engine that tight_layout leaves, savefig draws it twice), writing the same
    bytes as the two-draw way."""
    import matplotlib.figure

    def figure():
        fig, (a, b) = plotting.subplots(1, 2)
        for ax in (a, b):
            ax.plot([1, 2, 3], [1e-3, 1e-6, 1e-9])
            ax.set_yscale("log")
            ax.set_xlabel("iteration k")
            ax.set_ylabel("f(x_k) - f*")
        return fig

    draws = []
    real_draw = matplotlib.figure.Figure.draw
    monkeypatch.setattr(matplotlib.figure.Figure, "draw",
                        lambda self, renderer: draws.append(1) or real_draw(self, renderer))
    plotting.save(figure(), tmp_path / "ours.png", dpi=60)
    assert len(draws) == 1
    fig = figure()
    plotting._stamp(fig, None)
    fig.tight_layout()
    fig.savefig(tmp_path / "theirs.png", dpi=60)
    assert len(draws) == 3                      # matplotlib's way: two more
    assert (tmp_path / "ours.png").read_bytes() == (tmp_path / "theirs.png").read_bytes()


def test_the_layout_is_kept_whatever_the_rc_parameters_ask_for():
    """plotting.tight_layout leaves no engine even where the rc parameters ask for one (removing
    an engine with them set would install a tight or a constrained one, and the latter refuses a
    figure with a colorbar)."""
    import matplotlib

    for rc in ({"figure.autolayout": True}, {"figure.constrained_layout.use": True}):
        fig, (ax,) = plotting.subplots(1, 1)
        fig.colorbar(ax.imshow([[0.0, 1.0], [1.0, 0.0]]))
        with matplotlib.rc_context(rc):
            plotting.tight_layout(fig)
        assert fig.get_layout_engine() is None, rc
        matplotlib.pyplot.close(fig)


def test_every_figure_shares_the_colour_blind_safe_palette():
    import matplotlib

    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plotting.COLORS
    assert len(set(plotting.COLORS)) == len(plotting.COLORS) == 10


def test_a_decisive_number_next_to_its_threshold_shows_enough_digits_to_tell_them_apart():
    text = decisive_text({"label": "max ratio", "value": 0.9999999993, "op": "<=",
                          "threshold": 1.0 + 1e-9})
    value, threshold = text.split(": ")[1].split(" <= ")
    assert value != threshold and float(value) < float(threshold)
    assert decisive_text({"label": "n", "value": 0, "op": "<=", "threshold": 0}) == "n: 0 <= 0"


def test_progress_counts_the_gradient_passes_done_inside_the_block(tmp_path):
    import time

    import minigrad as mg
    from experiments import progress

    (mg.Tensor([3.0], requires_grad=True) * 2).sum().backward()   # before: not counted
    with progress.reporting(tmp_path, interval=0.01) as done:
        x = mg.Tensor([1.0, 2.0], requires_grad=True)
        for _ in range(3):
            (x * x).sum().backward()
        mg.grad(lambda z: (z * z).sum())(mg.Tensor([2.0]))          # a transform: one pass
        assert done() == 4
        time.sleep(0.1)
    assert json.loads((tmp_path / progress.FILE).read_text())["passes"] == 4


def test_without_a_terminal_progress_is_plain_lines(tmp_path):
    import time

    from experiments import progress

    (tmp_path / "exp").mkdir()
    atomic.write_json(tmp_path / "exp" / progress.FILE, {"passes": 4, "seconds": 2.0})
    lines = []
    with progress.Monitor(tmp_path, {"exp": 8}, tty=False, write=lines.append, interval=0.01,
                          plain_every=0.0):
        time.sleep(0.1)
    assert lines and lines[0] == "  exp: 4 gradient passes in 2 s, 50% of its last run's"


def test_progress_counts_the_value_only_evaluations_of_a_zero_order_method(tmp_path):
    import time

    from experiments import progress
    from optimizers.minimize import minimize
    from problems import Rosenbrock

    p = Rosenbrock()
    with progress.reporting(tmp_path, interval=0.01) as done:
        res = minimize(lambda x: p.f(x), p.x0, method="nelder-mead", options={"maxfev": 60})
        time.sleep(0.1)
        assert (done.passes(), done.evaluations()) == (0, res.nfev) and res.nfev >= 60
        assert done() == res.nfev
    state = json.loads((tmp_path / progress.FILE).read_text())
    assert (state["passes"], state["evaluations"]) == (0, res.nfev)
    lines = []
    (tmp_path / "exp").mkdir()
    atomic.write_json(tmp_path / "exp" / progress.FILE, {"passes": 0, "evaluations": 30,
                                                          "seconds": 2.0})
    with progress.Monitor(tmp_path, {"exp": 60}, tty=False, write=lines.append, interval=0.01,
                          plain_every=0.0):
        time.sleep(0.1)
    assert lines[0] == "  exp: 0 gradient passes, 30 value-only evaluations in 2 s, 50% of its " \
                       "last run's"


def test_the_details_list_every_condition_as_applied(tmp_path):
    from experiments import protocol
    from experiments.protocol import Condition, Rule

    rules = (Rule(1, (Condition("r", "ratio <= 1.1", "<=", 1.1),
                      Condition("c", "control ratio > 2", ">", 2.0, role="control"))),)
    v = protocol.verdict(rules, {"r": 1.05, "c": 1.5}, claim="a claim", measured="m",
                         figure=None, summary="s")
    (tmp_path / "exp").mkdir()
    atomic.write_json(tmp_path / "exp" / "verdict.json", dict(v, name="exp"))
    text = write_report(tmp_path, experiments={}).read_text()
    assert "**Bound checked.** ratio <= 1.1; control ratio > 2" in text
    assert "- ratio <= 1.1: measured 1.05, holds" in text
    assert "- control ratio > 2 (control): measured 1.5, **fails**" in text
    assert "**FAIL**" in text


def test_a_verdict_saved_before_the_declared_rules_is_reported_without_its_old_checks(tmp_path):
    # older runs kept their checks as a list of booleans or a dict of named booleans
    _write(tmp_path, "alpha", _verdict("alpha", checks=[True, False]))
    _write(tmp_path, "beta", _verdict("beta", checks={"slope": True}))
    text = write_report(tmp_path, experiments=EXPS).read_text()
    assert "### alpha" in text and "### beta" in text
    assert "**Bound checked.** x <= 1" in text
    assert "**Checks**" not in text
