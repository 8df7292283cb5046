"""Work in forked processes: results, warnings and errors come back whole."""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest

from servicecircle._parallel import Background, pmap
from servicecircle.errors import CRSError, DataWarning, OutputError, warn_data


def test_errors_and_warnings_pickle_with_every_field():
    err = CRSError("no coordinate system", file="a.shp", layer="x", feature=3, fix="name one")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is CRSError and back.message == err.message and back.fix == "name one"
    w = DataWarning("far_snap", "far from a street", file="f.csv", feature=7, count=4)
    wb = pickle.loads(pickle.dumps(w))
    assert (wb.code, wb.count, str(wb)) == ("far_snap", 4, str(w))


def test_background_returns_the_value_and_reissues_the_childs_warnings():
    big = np.arange(1_000_000)  # inherited by the child, never pickled

    def work():
        warn_data("probe", "something was assumed", count=2)
        return os.getpid(), int(big.sum())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Background(work) as job:
            pid, total = job.result()
    assert pid != os.getpid()  # it really ran in another process
    assert total == int(big.sum())
    assert [w.message.code for w in caught if isinstance(w.message, DataWarning)] == ["probe"]


def test_background_reraises_user_errors_as_they_are_and_bugs_with_the_childs_traceback():
    def user_error():
        raise OutputError("disk full", file="out.gpkg", fix="free some space")

    with pytest.raises(OutputError) as info, Background(user_error) as job:
        job.result()
    assert info.value.message == "out.gpkg: disk full. Fix: free some space"

    def bug():
        return 1 / 0

    with pytest.raises(RuntimeError, match="ZeroDivisionError"), Background(bug) as job:
        job.result()


def test_background_disabled_runs_in_process_and_a_dead_child_is_reported():
    with Background(os.getpid, enabled=False) as job:
        assert job.result() == os.getpid()
    with pytest.raises(RuntimeError, match="died"), Background(lambda: os._exit(3)) as job:
        job.result()


def test_pmap_keeps_the_order():
    assert list(pmap(lambda x: x * x, range(7), 2)) == [x * x for x in range(7)]
