"""Background work of the analytics, on the "default" queue (run `smarketing worker`)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task(queue_name="default")
def kernels_compile_task() -> dict[str, Any]:
    """Compile every analytics kernel into Numba's on-disk cache by running each command once
    (`analytics.warm.compile_kernels`): on a fresh install, so no command typed later compiles them."""
    from smarketing.analytics.warm import compile_kernels

    return compile_kernels()
