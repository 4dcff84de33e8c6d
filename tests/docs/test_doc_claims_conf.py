"""conf/lightnvr.conf "documents every section and key" (README, docs/core.md): each key the
daemon reads appears in ITS section of the shipped file - set, or commented out for the keys
accepted but not acted on - and every key the file names, set or commented, exists in that
section. (tests/core/test_config.py checks the file loads clean; a key name found in another
section, `path` say, must not count.)"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from lightnvr.core.config import Config

CONF = Path(__file__).resolve().parents[2] / "conf" / "lightnvr.conf"
_SECTION = re.compile(r"^\[(\w+)\]\s*$")
_KEY = re.compile(r"^;?(\w+) =")  # "key = value" or ";key = value" (commented out)


def _keys_by_section() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    section = ""
    for line in CONF.read_text().splitlines():
        if m := _SECTION.match(line):
            section = m.group(1)
            found.setdefault(section, set())
        elif section and (m := _KEY.match(line)):
            found[section].add(m.group(1))
    return found


def test_every_key_is_in_its_own_section_and_every_named_key_exists() -> None:
    defaults = Config()
    daemon = {f.name: {k.name for k in dataclasses.fields(getattr(defaults, f.name))}
              for f in dataclasses.fields(defaults)
              if dataclasses.is_dataclass(getattr(defaults, f.name))}
    shipped = _keys_by_section()
    # LightNVR's sections we accept but whose keys all do nothing are named in the closing
    # comment block rather than as sections of their own
    summarised = {"detection_engine", "hardware"}
    for section, keys in daemon.items():
        if section in summarised and section not in shipped:
            text = CONF.read_text()
            assert f"[{section}]" in text, f"[{section}] is not mentioned in {CONF.name}"
            continue
        assert section in shipped, f"[{section}] is missing from {CONF.name}"
        assert keys - shipped[section] == set(), \
            f"[{section}] keys missing from {CONF.name}: {sorted(keys - shipped[section])}"
    for section, keys in shipped.items():
        assert section in daemon, f"{CONF.name} has [{section}], which the daemon does not read"
        assert keys - daemon[section] == set(), \
            f"{CONF.name} [{section}] names unknown keys: {sorted(keys - daemon[section])}"
