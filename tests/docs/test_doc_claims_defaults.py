"""The default columns of docs/mqtt.md's `[mqtt]` table and docs/go2rtc.md's `[go2rtc]` table
are the daemon's built-in defaults (what it runs with when the key is not set), and every key
those tables name exists in its section. A default changed in code but not in the page (or a
typo in the page) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lightnvr.core.config import config_to_ini, parse_config_text

DOCS = Path(__file__).resolve().parents[2] / "docs"
# | `key` ... | `default` | ...   (rows whose default is not in backticks are prose: skipped)
_ROW = re.compile(r"^\| `(\w+)`[^|]*\| `([^`]*)`", re.MULTILINE)


def _builtin(section: str) -> dict[str, str]:
    """`key -> value` of `[section]` as the daemon prints its built-in configuration."""
    # no file at all (load_config(None) would read /etc/lightnvr/lightnvr.conf where one exists)
    text = config_to_ini(parse_config_text("", "<defaults>", environ={}))
    body = text.split(f"[{section}]\n", 1)[1].split("\n[", 1)[0]
    pairs = (line.partition("=") for line in body.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, _, value in pairs}


@pytest.mark.parametrize(("doc", "section"), [("mqtt.md", "mqtt"), ("go2rtc.md", "go2rtc")])
def test_documented_defaults_are_the_builtin_ones(doc: str, section: str) -> None:
    text = (DOCS / doc).read_text()
    table = text.split("| key | default |", 1)[1].split("\n\n", 1)[0]
    rows = _ROW.findall(table)
    assert len(rows) >= 8, rows
    builtin = _builtin(section)
    for key, documented in rows:
        assert key in builtin, f"{doc} documents [{section}] {key}, which does not exist"
        want = "" if documented == '""' else documented
        assert builtin[key] == want, f"{doc}: [{section}] {key} default {documented!r}, " \
                                     f"the daemon's is {builtin[key]!r}"
