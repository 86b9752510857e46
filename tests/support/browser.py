"""Headless Chromium (Debian's `chromium` and `chromium-driver`) through selenium, for
the tests that look at a page as a person would: sign in, wait for what must show, read
the console, keep a screenshot."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("COPNET_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COPNET_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
# Where screenshots are kept for people to look at (ignored by git).
ARTIFACTS = Path(
    os.environ.get("COPNET_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)


def require_chromium() -> None:
    """Fails (never skips) in CI when the browser is missing: .ci/run installs it."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        message = f"missing {missing}: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium(width: int = 1280, height: int = 1600) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    # The demo's pages are served over HTTPS with the demo's own CA, which Chromium's
    # store does not hold; the HTTP tests check the certificate against that CA.
    options.accept_insecure_certs = True
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """The console's errors since the last call (reading the log empties it)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def save_screenshot(driver: Any, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        driver.set_window_size(width, min(int(height) + 50, 12000))
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
    return path
