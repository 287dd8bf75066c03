"""The session factory's set-up checks fail with messages that say what to do."""
import stat

import pytest

from jobs.session import SetupError, check_java


def _fake_java_home(tmp_path, version_line: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def test_java_too_old_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java_home(tmp_path, 'openjdk version "1.8.0_392"')))
    with pytest.raises(SetupError, match="needs Java 17 or newer.*Java 8"):
        check_java()


def test_java_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(SetupError, match="Java 17 or newer is required"):
        check_java()


def test_java_17_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java_home(tmp_path, 'openjdk version "17.0.15" 2025-04-15')))
    assert check_java() == 17


def test_machine_java_is_supported():
    # The real JVM the suite runs on (JAVA_HOME or PATH) passes the check.
    assert check_java() >= 17
