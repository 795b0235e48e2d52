"""The marks the suite sets itself (tests/conftest.py), on which the README's test command relies:
its second run (``--backend strict -m "not slow and not every_backend"``) leaves out the tests
marked ``every_backend`` because the first run has already run each of them on strict."""
import pathlib


def test_a_test_that_takes_the_backend_fixture_is_marked_every_backend(request, backend):
    assert request.node.get_closest_marker("every_backend") is not None


def test_a_test_that_takes_xp_takes_the_backend_fixture_too(request, xp):
    assert "backend" in request.node.fixturenames
    assert request.node.get_closest_marker("every_backend") is not None


def test_a_test_without_the_backend_fixture_is_not_marked(request):
    assert request.node.get_closest_marker("every_backend") is None


def _suite_conftest(config):
    """The module tests/conftest.py, as pytest loaded it."""
    return next(p for p in config.pluginmanager.get_plugins()
                if pathlib.Path(str(getattr(p, "__file__", ""))).parts[-2:]
                == ("tests", "conftest.py"))


def test_without_the_option_the_fixture_runs_each_test_on_numpy_and_strict(request, backend):
    """What makes leaving the ``every_backend`` tests out of the strict run lose nothing: a run
    without ``--backend`` gives each of them a numpy and a strict case."""
    chosen = request.config.getoption("--backend")
    backends = _suite_conftest(request.config)._fixture_backends(request.config)
    if chosen is None:
        assert backends[:2] == ["numpy", "strict"] and backend in backends
    else:
        assert backends == [chosen] == [backend]
