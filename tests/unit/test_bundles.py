"""server/bundles.py: our scripts and styles joined into one file each, in Dash's order."""

from __future__ import annotations

import re

from fakeai_dash.app import ASSETS_DIR
from fakeai_dash.server.bundles import ASSETS_IGNORE, NOT_BUNDLED, build_bundle, bundled_files


def test_bundles001_every_script_and_style_dash_would_link_is_bundled_once_in_its_order():
    for kind in ("css", "js"):
        files = bundled_files(ASSETS_DIR, kind)
        names = [path.name for path in files]
        expected = sorted(path.name for path in ASSETS_DIR.glob(f"*.{kind}") if path.name not in NOT_BUNDLED)
        assert names == expected and names  # Dash links an assets folder's files sorted by name
        bundle = build_bundle(files, kind)
        assert bundle.sources == tuple(names)
        for path in files:
            assert path.read_bytes() in bundle.body
        # Dash links none of them itself (assets_ignore); the vendored files stay out of the bundles.
        assert all(re.search(ASSETS_IGNORE, name) for name in names)
        assert not any("vendor" in name for name in bundle.sources)
    assert "theme_boot.js" in NOT_BUNDLED  # it runs in <head>, before the body paints


def test_bundles002_the_name_follows_the_content(tmp_path):
    (tmp_path / "a.js").write_text("var a = 1")
    (tmp_path / "b.js").write_text("var b = 2")
    before = build_bundle(bundled_files(tmp_path, "js"), "js")
    assert before.name == "_bundle.js" and re.fullmatch(r"[0-9a-f]{16}", before.version)
    # A file without a final semicolon cannot run into the next one.
    assert b"var a = 1\n;\n" in before.body
    (tmp_path / "b.js").write_text("var b = 3")
    after = build_bundle(bundled_files(tmp_path, "js"), "js")
    assert after.version != before.version


# A name declared at a file's top level with let, const or class, twice in one classic script,
# is a SyntaxError that would stop every script of the bundle.
_LEXICAL = re.compile(r"^(?:let|const|class)\s+([A-Za-z_$][\w$]*)", re.MULTILINE)


def test_bundles003_no_two_scripts_declare_the_same_top_level_lexical_name():
    seen: dict[str, str] = {}
    for path in bundled_files(ASSETS_DIR, "js"):
        for name in _LEXICAL.findall(path.read_text(encoding="utf-8")):
            assert name not in seen, f"{name} is declared at top level by {seen.get(name)} and {path.name}"
            seen[name] = path.name
