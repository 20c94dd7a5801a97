"""The map page's script parses, and asks the API only for what the API serves."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from schemas import load
from tracker.api.page import PAGE

SCRIPT = re.search(r"<script>(.*)</script>", PAGE.read_text(), re.S).group(1)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_script_is_valid_javascript(tmp_path):
    path = tmp_path / "map.js"
    path.write_text(SCRIPT)
    checked = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_every_path_the_page_asks_for_is_in_the_openapi_document():
    paths = set(load("openapi.json")["paths"])
    asked = {re.sub(r"\$\{[^}]*\}", "{plate}", p) for p in re.findall(r"/v1/[^`\"?\s]*", SCRIPT)}
    assert asked == {"/v1/geofences", "/v1/vehicles", "/v1/violations", "/v1/vehicles/{plate}/track", "/v1/live"}
    assert asked <= paths
