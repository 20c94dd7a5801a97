"""The console's files: scripts that parse, no inline script or handler, no other origin,
every element the script asks for present, every API path it asks for in the OpenAPI
document."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from schemas import load
from tracker.api.page import PAGE, STATIC, basemap_origin, content_security_policy
from tracker.settings import Settings

SCRIPTS = sorted((STATIC / "console").glob("*.js"))
HTML = PAGE.read_text()
CODE = "\n".join(p.read_text() for p in SCRIPTS)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_script_is_valid_javascript(script):
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_page_has_no_inline_script_handler_or_style():
    assert re.findall(r"<script(?![^>]*\bsrc=)", HTML) == []
    assert re.findall(r"\son[a-z]+\s*=", HTML) == []
    assert "<style" not in HTML and " style=" not in HTML


def test_nothing_names_another_origin():
    for text in [HTML, CODE, (STATIC / "console" / "console.css").read_text()]:
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I) == []


def test_data_is_never_written_as_html():
    assert re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", CODE) == []


def test_every_element_the_script_asks_for_is_in_the_page():
    asked = set(re.findall(r"\$\(\"([a-z0-9-]+)\"\)", CODE))
    present = set(re.findall(r'\bid="([a-z0-9-]+)"', HTML))
    assert asked and asked <= present, asked - present


def test_every_path_the_page_asks_for_is_in_the_openapi_document():
    paths = set(load("openapi.json")["paths"])
    asked = {re.sub(r"\$\{[^}]*\}", "{x}", p) for p in re.findall(r"/v1/[^`\"?\s]*", CODE)}
    templates = {re.sub(r"\{[^}]*\}", "{x}", p): p for p in paths}
    assert asked == {"/v1/geofences", "/v1/vehicles", "/v1/violations", "/v1/violations/{x}", "/v1/vehicles/{x}",
                     "/v1/vehicles/{x}/track", "/v1/violations/{x}/ack", "/v1/violations/{x}/resolve", "/v1/live",
                     "/v1/incidents", "/v1/incidents/{x}",
                     "/v1/checkpoints", "/v1/vehicles/{x}/reads", "/v1/terminals/{x}/messages"}
    assert asked <= set(templates)


@pytest.mark.parametrize("url, origin", [
    (None, None),
    ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}", "https://*.is.autonavi.com"),
    ("http://tiles.example.cn:8081/{z}/{x}/{y}.png", "http://tiles.example.cn:8081"),
])
def test_images_come_from_the_basemap_origin_only_when_one_is_set(url, origin):
    assert basemap_origin(url) == origin
    policy = content_security_policy(Settings(basemap_url=url))
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert policy.split("img-src ")[1].split(";")[0] == " ".join(filter(None, ["'self'", "data:", origin]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_console_feature_redefines_another_ones_words(lang):
    """Each feature adds its words with Object.assign(WORDS.<lang>, {...}); a key given twice
    silently replaces the other feature's word (the incident desk's `vehicles` once broke
    the fleet list's count)."""
    source = (STATIC / "console" / "i18n.js").read_text()
    start = source.index(f"  {lang}: {{", source.index("const WORDS"))
    blocks = [source[start:source.index("\n  },", start)]]
    blocks += [source[m.end():source.index("});", m.end())]
               for m in re.finditer(rf"Object\.assign\(WORDS\.{lang}, \{{", source)]
    owner: dict[str, int] = {}
    for i, block in enumerate(blocks):
        code = re.sub(r'"(?:\\.|[^"\\])*"|`[^`]*`', '""', block)  # the words themselves may hold colons
        for key in re.findall(r"(?:^|[,{\s])([A-Za-z_]\w*)\s*:", code):
            assert owner.setdefault(key, i) == i, f"{key!r} is defined by two features"
