"""Updates from different tenants run side by side; one tenant's updates run one at a time, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

BUSY_UPDATES = 8  # in hand at once: from here on, one getUpdates per update would cost more than it saves


def tenant_key(update: object) -> int | None:
    """The user an update belongs to (None for updates with no user, e.g. channel posts)."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerTenantUpdateProcessor(BaseUpdateProcessor):
    """A lock per tenant: tasks are created in arrival order and asyncio locks are FIFO, so order is kept."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, tuple[asyncio.Lock, int]] = {}
        self.in_hand = 0

    def busy(self) -> bool:
        """Enough updates in hand that the next poll can wait a moment and bring a batch (see TolerantBot)."""
        return self.in_hand >= BUSY_UPDATES

    def in_hand_for(self, tenant: int) -> int:
        """How many of this tenant's updates are in hand, the one being handled included: more than one is a flood."""
        entry = self._locks.get(tenant)
        return entry[1] if entry is not None else 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = tenant_key(update)
        self.in_hand += 1
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            self.in_hand -= 1
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
