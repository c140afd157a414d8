"""Headless Chromium driven over the DevTools protocol (a websocket, with aiohttp): open a page like a phone,
collect console errors, uncaught exceptions and blocked loads, measure the page, and take a screenshot."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--remote-debugging-port=0",
)
PHONE = {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True}


def chromium_binary() -> str:
    """Debian's `chromium` (or $CHROMIUM); skipped when absent unless REQUIRE_CHROMIUM=1 (as CI sets)."""
    found = os.environ.get("CHROMIUM") or next(
        (name for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    if found is None:
        if os.environ.get("REQUIRE_CHROMIUM") == "1":
            pytest.fail("Chromium is required (REQUIRE_CHROMIUM=1) but not installed: apt-get install -y chromium")
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    return found


class Page:
    """One browser tab; `problems` lists every console error, exception and failed or blocked load seen."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.problems: list[str] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._loaded = asyncio.Event()

    async def __aenter__(self) -> Page:
        self._process = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        self._http = aiohttp.ClientSession()
        async with self._http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self._socket = await self._http.ws_connect(url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        for domain in ("Page", "Runtime", "Log"):
            await self.call(f"{domain}.enable")
        await self.call("Emulation.setDeviceMetricsOverride", **PHONE)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._reader.cancel()
        await self._socket.close()
        await self._http.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    async def _read(self) -> None:
        """Answers go to whoever asked; events that mean trouble are kept."""
        async for message in self._socket:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            else:
                self._event(data.get("method", ""), data.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self._loaded.set()
        elif method == "Runtime.exceptionThrown":
            self.problems.append(f"uncaught: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            self.problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            self.problems.append(f"log: {params['entry'].get('text')}")

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result."""
        message_id = next(self._ids)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = answer
        await self._socket.send_json({"id": message_id, "method": method, "params": params})
        data = await asyncio.wait_for(answer, timeout=30)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        result: dict[str, Any] = data["result"]
        return result

    async def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self._loaded.clear()
        await self.call("Page.navigate", url=url)
        await asyncio.wait_for(self._loaded.wait(), timeout=30)

    async def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value (DevTools runs it even where the page's CSP forbids scripts)."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> None:
        """The whole page at phone width, as a PNG."""
        height = await self.evaluate("document.documentElement.scrollHeight")
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                               clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height, "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
