"""The provisioner's background loop for slices: every ``reconcile_interval_s``, expiry,
re-placement of lost slivers and reconciliation, each pass in its own transaction."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from guificloud.db.uow import UnitOfWork
from guificloud.failure_log import FailureLog
from guificloud_provisioner.runtime import ProvisionerRuntime
from guificloud_provisioner.settings import ProvisionerSettings
from guificloud_provisioner.slices.expiry import expire_slices
from guificloud_provisioner.slices.reconciler import reconcile_slivers
from guificloud_provisioner.slices.removal import sweep_deleted_slices
from guificloud_provisioner.slices.replacement import replace_lost

Pass = Callable[[UnitOfWork, ProvisionerSettings], Awaitable[int]]
PASSES: tuple[Pass, ...] = (expire_slices, replace_lost, reconcile_slivers, sweep_deleted_slices)


async def run_passes(runtime: ProvisionerRuntime, failures: FailureLog) -> None:
    settings = runtime.settings
    for one_pass in PASSES:
        try:
            async with runtime.uow() as uow:
                await one_pass(uow, settings)
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - database away or a lost race: next tick
            failures.failed("slices.pass_failed", exc, step=one_pass.__name__)


async def reconcile_slices(runtime: ProvisionerRuntime, stop: asyncio.Event) -> None:
    """Background loop (``ServiceDefinition.background``)."""
    settings = runtime.settings
    failures = FailureLog(runtime.database.suspect)
    while not stop.is_set():
        await run_passes(runtime, failures)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.reconcile_interval_s)
