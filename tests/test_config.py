"""Settings: one table feeding flags, environment variables and the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import SETTINGS, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme_with_flag_and_env():
    readme = README.read_text()
    for setting in SETTINGS:
        assert f"`{setting.flag}`" in readme, setting.flag
        assert f"`{setting.env}`" in readme, setting.env


def test_flag_beats_environment_beats_default():
    assert load_settings({}, {}).port == 8000
    assert load_settings({}, {"CLICKTRAIL_PORT": "9001"}).port == 9001
    assert load_settings({"port": "9002"}, {"CLICKTRAIL_PORT": "9001"}).port == 9002


def test_bad_value_fails_loudly_naming_its_source():
    with pytest.raises(SettingsError, match="CLICKTRAIL_PORT"):
        load_settings({}, {"CLICKTRAIL_PORT": "eighty"})
    with pytest.raises(SettingsError, match="--max-body-bytes"):
        load_settings({"max_body_bytes": "-1"}, {})
