"""The same bits on every x86-64 machine: one choice of numpy's and OpenBLAS's CPU kernels.

numpy picks its SIMD kernels for some functions (``exp``, ``log``, ``power``, ...) by the
CPU it runs on, and OpenBLAS picks its matrix kernels the same way; on a CPU with AVX-512 both
take kernels that round in other places than on one without. The same drsim, libraries and
scenario then give results that differ in the last bits from machine to machine (seen: every
example's arrays on an Intel Xeon with AVX-512 against the saved outputs of an AMD EPYC,
under identical library versions; ``benchmarks/golden.py`` showed it, and this pin made them
identical again).

:func:`pin` therefore asks, before numpy is first imported, for the kernels that every
x86-64 CPU of the last decade has (AVX2 and FMA): it sets ``NPY_DISABLE_CPU_FEATURES`` to
numpy's AVX-512 feature groups and ``OPENBLAS_CORETYPE`` to ``Haswell`` (the AVX2 kernels).
Both are environment variables that numpy and OpenBLAS read when they load, and that
processes started from this one (local Dask workers, sweep workers) inherit. A value the user
set is kept. ``DRSIM_NATIVE_NUMERICS=1`` skips the pin (the machine's own kernels: results
reproducible on that kind of machine only). Where numpy was imported before drsim, or the CPU
lacks AVX2 or FMA, or it is not x86-64, nothing is pinned; :func:`profile` says what holds,
and every run's manifest records it (``numerics``).

This module imports nothing heavy: it runs when ``sim`` is first imported.
"""

from __future__ import annotations

import os
import platform
import sys

__all__ = ["AVX512_GROUPS", "BLAS_CORETYPE", "KERNEL_KEYS", "differing", "pin", "profile"]

#: numpy's names for its AVX-512 feature groups (numpy 2.4: X86_V4 and above; older names too,
#: which a numpy that does not know them ignores).
AVX512_GROUPS = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512CD", "AVX512_KNL", "AVX512_KNM",
                 "AVX512_SKX", "AVX512_CLX", "AVX512_CNL")

#: OpenBLAS's kernel family for every AVX2 + FMA CPU (AMD's Zen uses the same kernels).
BLAS_CORETYPE = "Haswell"

#: What :func:`pin` did in this process: "pinned", or why not.
_STATE = {"status": "not run"}


def _cpu_flags() -> set[str]:
    """The CPU's feature flags on Linux (empty elsewhere or when unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pin() -> str:
    """Ask for the portable kernels (see the module docstring) if it is still possible; returns
    the status also kept for :func:`profile`."""
    if os.environ.get("DRSIM_NATIVE_NUMERICS", "").strip().lower() in ("1", "true", "yes"):
        status = "native: DRSIM_NATIVE_NUMERICS is set"
    elif "numpy" in sys.modules:
        status = "native: numpy was imported before drsim"
    elif platform.machine().lower() not in ("x86_64", "amd64"):
        status = f"native: not x86-64 ({platform.machine()})"
    elif not {"avx2", "fma"} <= _cpu_flags():
        status = "native: the CPU's flags do not show AVX2 and FMA"
    else:
        os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", " ".join(AVX512_GROUPS))
        os.environ.setdefault("OPENBLAS_CORETYPE", BLAS_CORETYPE)
        status = "pinned"
    _STATE["status"] = status
    return status


def profile() -> dict:
    """The numerical kernels of this process: the pin's status, the two variables as they are,
    and the SIMD extensions numpy found and uses (the manifest's ``numerics``)."""
    out = {"status": _STATE["status"],
           "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES"),
           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
            out["numpy_simd_in_use"] = sorted(k for k in __cpu_dispatch__ if __cpu_features__.get(k))
        except ImportError:  # another numpy layout: its version is in the manifest's packages
            pass
    return out


#: The parts of a :func:`profile` that decide the bits.
KERNEL_KEYS = ("numpy_simd_in_use", "OPENBLAS_CORETYPE")


def differing(own: dict, others: dict) -> list[str]:
    """The names of ``others`` (name -> :func:`profile`, e.g. each Dask worker's) whose kernels
    differ from ``own``: their results could differ from this process's in the last bits."""
    return sorted(name for name, p in others.items()
                  if any(p.get(k) != own.get(k) for k in KERNEL_KEYS))
