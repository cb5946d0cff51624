"""A run that would exceed memory is refused before it simulates, in one process and with
workers (a local cluster before it starts; a scheduler's workers against their own limits).

The limit is injected (``--max-memory``, ``memory_limit=``, or the machine's memory
patched), so that these tests do not depend on the machine and simulate nothing.
"""

from __future__ import annotations

import pytest

import sim
import sim.cluster
import sim.engine.backends as backends
import sim.runner
from sim.cli import main
from sim.engine import memory_plan
from sim.errors import InputError

from .conftest import scenario_dict


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if any customer is simulated or a local cluster is started."""
    def refuse(*a, **k):
        raise AssertionError("the run started")

    monkeypatch.setattr(sim.runner, "simulate", refuse)
    monkeypatch.setattr(sim.cluster, "_start_local_cluster", refuse)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_over_the_limit_is_refused_before_it_starts(write_yaml, tmp_path, capsys, no_simulation, workers):
    """`drsim run --max-memory 300MiB` (with and without --workers) exits 2 before any
    work, names the figures and how to proceed, and writes nothing."""
    path = write_yaml(scenario_dict())
    root = tmp_path / "r"
    code = main(["run", str(path), "--results", str(root), "--quiet", "--max-memory", "300MiB",
                 "--workers", str(workers)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "Traceback" not in err
    assert "GiB of memory" in err and "--max-memory allows 0.3 GiB" in err and "To proceed: fewer customers" in err
    if workers == 2:
        assert "in each of 2 workers" in err and "in this process" in err
    assert not root.exists()


def test_the_default_limit_is_a_share_of_the_machine(write_yaml, monkeypatch, capsys, no_simulation):
    """Without --max-memory a run may use 80 % of the machine's memory."""
    monkeypatch.setattr(backends, "physical_memory", lambda: 2**29)
    assert main(["run", str(write_yaml(scenario_dict())), "--quiet", "--workers", "2"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "80% of this machine's 0.5 GiB, 0.4 GiB" in err and "--max-memory SIZE to allow more" in err


def test_workers_of_a_scheduler_are_held_to_their_own_limit(no_simulation):
    """A client whose workers have a 64 MiB memory limit: each would need more than Dask's
    pause threshold, so the run is refused before a shard is built."""
    from distributed import Client, LocalCluster

    sc = sim.load_scenario(_scenario_file(), [])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, memory_limit="64MiB",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(InputError, match="each of the 2 workers needs about .* their limit is 0.1 GiB"):
            sim.run(sc, client=client)
        with pytest.raises(InputError, match="in this process, which gathers every customer's bills"):
            sim.run(sc, client=client, memory_limit=2**20)


def _scenario_file():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "scenarios" / "flat.yaml"


def test_memory_plan_adds_up():
    """More workers: a smaller share each, the same coordinator; one process needs at least
    what a worker does; doubling the customers adds as much again (the base apart)."""
    sc = sim.load_scenario(_scenario_file(), ["populations.households.count=400000"])
    big = sim.load_scenario(_scenario_file(), ["populations.households.count=800000",
                                               "populations.shops.count=600"])
    one, two, four = memory_plan(sc), memory_plan(sc, 2), memory_plan(sc, 4)
    assert one.workers == 0 and one.total == one.coordinator
    assert two.coordinator == four.coordinator and two.worker > four.worker > backends.BASE_BYTES
    assert two.total == two.coordinator + 2 * two.worker
    assert one.coordinator > two.worker
    base = backends.BASE_BYTES + backends.WRITE_BYTES
    assert memory_plan(big).coordinator - base == pytest.approx(2 * (one.coordinator - base), rel=1e-3)
    assert sim.engine.memory_estimate(sc) == one.coordinator
