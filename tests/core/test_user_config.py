"""The user config file: where it is found, what it may hold, the errors a user reads, the one
setting the app writes back, and the CLI that reads it (run as a subprocess, with
XDG_CONFIG_HOME in a temporary folder)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent_tui.format.persistence import UnsafePathError
from agent_tui.user_config import (
    CONFIG_ENV,
    UserConfig,
    UserConfigError,
    check_binding_ids,
    load_user_config,
    save_setting,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_CONFIG_HOME in tmp_path, no AGENT_TUI_CONFIG; returns the default config file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    return tmp_path / "xdg" / "agent-tui" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------- finding and reading
def test_no_file_at_the_default_place_means_the_defaults(config_home: Path) -> None:
    config = load_user_config(environ={})
    assert config == UserConfig(path=config_home)
    assert (config.theme, config.model, config.keys, config.workspaces) == (None, None, {}, ())
    assert (config.bell, config.notify, config.action_log_mb) == (False, True, 5.0)
    assert not config_home.parent.exists()  # reading creates nothing


def test_every_setting_is_read(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    write(
        config_home,
        "# mine\n"
        'theme = "nord"\n'
        'model = "gpt-4o-mini"\n'
        'workspaces = ["~/agents", "/srv/runs"]\n'
        "bell = true\n"
        "notify = false\n"
        "action_log_mb = 0.5\n"
        "[keys]\n"
        'cleanup = "C"\n'
        '"new-run" = "ctrl+n"\n',
    )
    config = load_user_config(environ={})
    assert config == UserConfig(
        theme="nord",
        keys={"cleanup": "C", "new-run": "ctrl+n"},
        workspaces=("/home/someone/agents", "/srv/runs"),
        model="gpt-4o-mini",
        bell=True,
        notify=False,
        action_log_mb=0.5,
        path=config_home,
    )


def test_the_option_wins_over_the_environment_which_wins_over_the_default(
    config_home: Path, tmp_path: Path
) -> None:
    write(config_home, 'theme = "default-place"\n')
    by_env = write(tmp_path / "env.toml", 'theme = "from-env"\n')
    by_option = write(tmp_path / "option.toml", 'theme = "from-option"\n')
    environ = {CONFIG_ENV: str(by_env)}
    assert load_user_config(environ=environ).theme == "from-env"
    assert load_user_config(by_option, environ=environ).theme == "from-option"
    assert load_user_config(environ={}).theme == "default-place"


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_named_file_that_does_not_exist_is_an_error(
    config_home: Path, tmp_path: Path, how: str
) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(UserConfigError) as error:
        if how == "option":
            load_user_config(missing, environ={})
        else:
            load_user_config(environ={CONFIG_ENV: str(missing)})
    assert str(error.value) == f"config file not found: {missing}"


def test_invalid_toml_names_the_file_line_and_column(config_home: Path) -> None:
    write(config_home, 'theme = "nord"\nbell = yes\n')
    with pytest.raises(UserConfigError) as error:
        load_user_config(environ={})
    assert str(error.value).startswith(f"{config_home}: not valid TOML: ")
    assert "(at line 2, column 8)" in str(error.value)


def test_an_unknown_setting_is_named_with_the_closest_known_one(config_home: Path) -> None:
    write(config_home, 'them = "nord"\n')
    with pytest.raises(UserConfigError) as error:
        load_user_config(environ={})
    assert str(error.value) == f"{config_home}: unknown setting `them`; did you mean `theme`?"
    write(config_home, "zzz = 1\n")
    with pytest.raises(UserConfigError, match="unknown setting `zzz`; known: theme, keys"):
        load_user_config(environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("theme = 3", "`theme` must be a string (a Textual theme name), got an integer"),
        ('bell = "yes"', "`bell` must be true or false, got a string"),
        ("notify = 1", "`notify` must be true or false, got an integer"),
        ('workspaces = "~/agents"', "`workspaces` must be an array of folder paths, got a string"),
        ('workspaces = ["~/a", 2]', "`workspaces[1]` must be a folder path, got an integer"),
        ('keys = "C"', '`keys` must be a table of binding id = "key", got a string'),
        ("[keys]\ncleanup = 3", '`keys.cleanup` must be a key such as "C" or "ctrl+n", got an '),
        ("action_log_mb = true", "`action_log_mb` must be a number of megabytes, got a boolean"),
        ("action_log_mb = 0", "`action_log_mb` must be more than 0 and finite"),
        ("action_log_mb = nan", "`action_log_mb` must be more than 0 and finite"),
        ("action_log_mb = inf", "`action_log_mb` must be more than 0 and finite"),
        ('model = ""', "`model` is empty (remove the line for the default)"),
        ("model = 2024-01-01", "`model` must be a string (a model name), got a date"),
    ],
)
def test_a_wrong_type_names_the_setting_what_it_expects_and_what_it_got(
    config_home: Path, text: str, message: str
) -> None:
    write(config_home, text + "\n")
    with pytest.raises(UserConfigError) as error:
        load_user_config(environ={})
    assert str(error.value).startswith(f"{config_home}: {message}")


def test_a_link_at_the_config_path_is_not_followed(config_home: Path, tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere.toml", 'theme = "linked"\n')
    config_home.parent.mkdir(parents=True)
    config_home.symlink_to(target)
    with pytest.raises(UserConfigError) as error:
        load_user_config(environ={})
    assert f"{config_home}: is a symbolic link (to {target}), not followed" in str(error.value)
    assert "--config" in str(error.value)  # what to do instead
    # The real file, named explicitly, is read.
    assert load_user_config(target, environ={}).theme == "linked"


def test_a_linked_config_folder_is_not_followed(config_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "dotfiles" / "config.toml", 'theme = "linked"\n')
    config_home.parent.parent.mkdir(parents=True)
    config_home.parent.symlink_to(tmp_path / "dotfiles")
    with pytest.raises(UserConfigError, match="is a symbolic link .*, not followed"):
        load_user_config(environ={})


def test_a_fifo_or_a_huge_file_is_refused_without_blocking(
    config_home: Path, tmp_path: Path
) -> None:
    config_home.parent.mkdir(parents=True)
    os.mkfifo(config_home)
    outcome: list[str] = []
    reader = threading.Thread(
        target=lambda: outcome.append(_error_of(lambda: load_user_config(environ={}))),
        daemon=True,
    )
    reader.start()
    reader.join(5)
    assert outcome and "FIFO" in outcome[0]
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as out:
        out.truncate(2 * 1024 * 1024)
    assert "too large for a config file" in _error_of(lambda: load_user_config(huge, environ={}))


def _error_of(call) -> str:
    try:
        call()
    except UserConfigError as exc:
        return str(exc)
    return "no error"


def test_binding_ids_are_checked_against_the_apps(config_home: Path) -> None:
    config = UserConfig(keys={"cleanup": "C", "new-rnu": "ctrl+n"}, path=config_home)
    with pytest.raises(UserConfigError) as error:
        check_binding_ids(config, ["cleanup", "new-run", "quit"])
    assert str(error.value) == (
        f"{config_home}: unknown binding `keys.new-rnu`; did you mean `new-run`?"
    )
    check_binding_ids(UserConfig(keys={"cleanup": "C"}, path=config_home), ["cleanup"])


# ------------------------------------------------------------------------- saving one setting
def test_save_setting_replaces_one_line_and_keeps_the_rest(config_home: Path) -> None:
    text = (
        "# my agent-tui settings\n"
        'theme = "nord"   # the old one\n'
        "bell = true\n"
        "\n"
        "# keys I changed\n"
        "[keys]\n"
        'cleanup = "C"\n'
    )
    write(config_home, text)
    config = load_user_config(environ={})
    saved = save_setting(config, "theme", "gruvbox")
    assert saved.theme == "gruvbox" and saved.bell is True
    assert config_home.read_text() == text.replace(
        'theme = "nord"   # the old one', 'theme = "gruvbox"'
    )
    assert load_user_config(environ={}) == saved
    assert [p.name for p in config_home.parent.iterdir()] == ["config.toml"]  # no temp left


def test_save_setting_adds_a_missing_line_above_the_first_table(config_home: Path) -> None:
    write(config_home, 'bell = true\n\n# keys I changed\n[keys]\ncleanup = "C"\n')
    save_setting(load_user_config(environ={}), "theme", "nord")
    assert config_home.read_text() == (
        'bell = true\n\ntheme = "nord"\n# keys I changed\n[keys]\ncleanup = "C"\n'
    )
    assert load_user_config(environ={}).keys == {"cleanup": "C"}


def test_save_setting_creates_the_folder_and_the_file(config_home: Path) -> None:
    saved = save_setting(load_user_config(environ={}), "theme", "textual-dark")
    assert config_home.read_text() == 'theme = "textual-dark"\n'
    assert load_user_config(environ={}) == saved


def test_save_setting_keeps_crlf_and_a_last_line_without_newline(config_home: Path) -> None:
    config_home.parent.mkdir(parents=True)
    config_home.write_bytes(b"bell = true\r\nnotify = false")
    save_setting(load_user_config(environ={}), "model", "gpt-4o")
    assert config_home.read_bytes() == b'bell = true\r\nnotify = false\r\nmodel = "gpt-4o"\r\n'


@pytest.mark.parametrize(
    "value", ['say "hi"', "C:\\Users\\me", "tab\there", "caf\u00e9 \U0001f600"]
)
def test_save_setting_round_trips_any_text(config_home: Path, value: str) -> None:
    save_setting(load_user_config(environ={}), "model", value)
    assert load_user_config(environ={}).model == value


def test_save_setting_refuses_a_link_and_leaves_its_target_alone(
    config_home: Path, tmp_path: Path
) -> None:
    target = write(tmp_path / "elsewhere.toml", 'theme = "theirs"\n')
    before = digest(target)
    config_home.parent.mkdir(parents=True)
    config_home.symlink_to(target)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        save_setting(UserConfig(path=config_home), "theme", "mine")
    assert digest(target) == before and config_home.is_symlink()


def test_save_setting_refuses_what_it_cannot_write_safely(config_home: Path) -> None:
    with pytest.raises(UserConfigError, match="`bell` is not a setting saved from the app"):
        save_setting(UserConfig(path=config_home), "bell", "true")
    write(config_home, "theme = [\n")
    with pytest.raises(UserConfigError, match="not valid TOML"):
        save_setting(UserConfig(path=config_home), "theme", "nord")
    # A value over several lines is not rewritten line by line: refused, file unchanged.
    write(config_home, 'theme = """\nnord"""\n')
    before = digest(config_home)
    with pytest.raises(UserConfigError, match="could not rewrite `theme` safely"):
        save_setting(UserConfig(path=config_home), "theme", "gruvbox")
    assert digest(config_home) == before


# ------------------------------------------------------------------------- the CLI
@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORKSPACE_DIR", CONFIG_ENV)}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), PYTHONPATH=str(REPO), HOME=str(tmp_path))
    return env


def agent_tui(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return python(env, cwd, "-m", "agent_tui.cli", *argv)


def python(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_a_bad_config_is_one_line_and_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    config = write(tmp_path / "xdg" / "agent-tui" / "config.toml", 'them = "nord"\n')
    done = agent_tui(cli_env, tmp_path, "ls")
    assert done.returncode == 2
    assert done.stderr == (
        f"agent-tui: error: {config}: unknown setting `them`; did you mean `theme`?\n"
    )
    done = agent_tui(cli_env, tmp_path, "--config", str(tmp_path / "missing.toml"), "ls")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        f"agent-tui: error: config file not found: {tmp_path / 'missing.toml'}",
    )
    # Also after the command name, and through the environment.
    env = {**cli_env, CONFIG_ENV: str(tmp_path / "gone.toml")}
    assert agent_tui(cli_env, tmp_path, "ls", "--config", str(tmp_path / "x.toml")).returncode == 2
    assert "config file not found" in agent_tui(env, tmp_path, "ls").stderr


def test_cli_help_names_the_option_the_platform_path_and_the_env_var(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = agent_tui(cli_env, tmp_path, "--help").stdout
    flat = " ".join(out.split()).replace("- ", "-")  # argparse wraps at hyphens
    expected = tmp_path / "xdg" / "agent-tui" / "config.toml"
    assert f"--config PATH the user config file (default: {expected}; env AGENT_TUI_CONFIG)" in flat


def test_cli_config_workspace_is_the_default_root(cli_env: dict[str, str], tmp_path: Path) -> None:
    config_ws, env_ws, flag_ws = tmp_path / "from-config", tmp_path / "from-env", tmp_path / "flag"
    write(tmp_path / "xdg" / "agent-tui" / "config.toml", 'workspaces = ["~/from-config"]\n')
    for root, name in ((config_ws, "in-config"), (env_ws, "in-env"), (flag_ws, "in-flag")):
        env = {**cli_env, "WORKSPACE_DIR": str(root)}
        assert (
            agent_tui(env, tmp_path, "run", "hi", "--name", name, "--max-loops", "1").returncode
            == 0
        )

    def names(*argv: str, env: dict[str, str] = cli_env) -> list[str]:
        done = agent_tui(env, tmp_path, "ls", "--json", *argv)
        assert done.returncode == 0, done.stderr
        return [record["name"] for record in json.loads(done.stdout)]

    assert names() == ["in-config"]  # ~ expanded (HOME is tmp_path)
    assert names(env={**cli_env, "WORKSPACE_DIR": str(env_ws)}) == ["in-env"]
    assert names("--workspace", str(flag_ws)) == ["in-flag"]
    # run without --workspace writes into the config's workspace too.
    assert (
        agent_tui(cli_env, tmp_path, "run", "hi", "--name", "second", "--max-loops", "1").returncode
        == 0
    )
    assert sorted(names()) == ["in-config", "second"]


def test_cli_run_uses_the_configs_model_unless_given(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path / "xdg" / "agent-tui" / "config.toml", 'model = "offline/demo?delay=0"\n')
    env = {**cli_env, "WORKSPACE_DIR": str(tmp_path / "ws")}
    assert agent_tui(env, tmp_path, "run", "hi", "--name", "a", "--max-loops", "1").returncode == 0
    argv = ("run", "hi", "--name", "b", "--max-loops", "1", "--model", "offline/demo")
    assert agent_tui(env, tmp_path, *argv).returncode == 0
    models = {
        record["name"]: record["model"]
        for record in json.loads(agent_tui(env, tmp_path, "ls", "--json").stdout)
    }
    assert models == {"a": "offline/demo?delay=0", "b": "offline/demo"}


def test_loading_the_config_imports_neither_litellm_nor_textual(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path / "xdg" / "agent-tui" / "config.toml", 'theme = "nord"\nworkspaces = ["~"]\n')
    listed = "from agent_tui.cli import main; import sys; assert main(['ls']) == 0; "
    loaded = "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'textual')))"
    done = python(cli_env, tmp_path, "-c", listed + loaded)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_configs_root_comes_after_workspace_dir_from_the_environment_or_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_tui import settings

    monkeypatch.delenv("WORKSPACE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "_loaded_dotenv_for", set())
    assert settings.configured_root(("~/mine",)) == "~/mine"
    assert settings.configured_root(()) is None
    (tmp_path / ".env").write_text("WORKSPACE_DIR=/from/dotenv\n")
    monkeypatch.setattr(settings, "_loaded_dotenv_for", set())
    monkeypatch.setenv("WORKSPACE_DIR", "")  # undone after the test, whatever .env sets
    monkeypatch.delenv("WORKSPACE_DIR")
    assert settings.configured_root(("~/mine",)) is None  # .env named one: it wins
