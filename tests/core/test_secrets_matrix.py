"""The secrets matrix (issue 11): every secret source x every sink in one scenario, 0 hits.

One workspace is built once for the module, as a user would build it: real CLI children (a
litellm model against the fake OpenAI server on loopback that echoes the key in a 401 or spells
it out across chunks, and the offline model with the demo tools), a child script that builds an
``Agent`` with ``api_key=``, ``api_base=`` with a password, ``headers=``, ``llm_args=``, a memory
URL and a tool whose output holds a key, a swarms folder written by hand with its keys in
``config.json`` and ``error.txt``, two resumes, and the app (Pilot) browsing every agent and
starting a run of its own. The environment holds a key under every provider name the redactor
knows (one with a trailing newline, one of 4 characters), a ``.env`` in the working folder holds
another (every command uses ``--workspace``, never ``$WORKSPACE_DIR``), and the texts people
type paste them, also base64- and URL-encoded.

Then each secret, raw and in each encoded form, is searched for in each sink: every file under
the workspace (bytes and names), stdout and stderr of every CLI command, and what the app shows
(screenshots and the views' full text of each tab, the resume preview, the Run tab,
notifications). Any hit fails with a source x sink table of counts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from children import agent_tui
from fake_openai import FakeOpenAI
from hostile_corpus import outside_digest
from textual.notifications import Notify
from textual.widgets import Static
from tui_fixtures import wait_until
from workspace_fixtures import write_swarms

from agent_tui.redaction import LITELLM_SECRET_ENV_NAMES, REDACTED, is_secret_env_name
from agent_tui.runner import RunSpec
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.display import LOADING
from agent_tui.tui.run_pane import RunPane
from agent_tui.tui.runs import Run
from agent_tui.workspace import step_history

REPO = Path(__file__).resolve().parents[2]
MODEL = "openai/gpt-4o-mini"
RUN_TRIES = 1600  # x 50 ms: three children importing litellm at once on a loaded 2-core machine

# ----------------------------------------------------------------------- the secrets
# Lower case (the offline model lowercases the words it repeats, so it repeats these exactly),
# and shaped like no well-known token and holding no word such as "key" or "secret": only
# knowing the value can catch them, so a lost source of knowledge shows as a hit.
ENV_SECRETS = {
    "OPENAI_API_KEY": "mx-env-openai-7qz4lw9v",
    "OPENAI_KEY": "mx-env-openaik-3hd8pq2m",
    "AZURE_OPENAI_KEY": "mx-env-azure-5tn2xc7r",
    "LITELLM_MASTER_KEY": "mx-env-master/7q+z4=lw",  # changes under URL encoding
    "AWS_BEARER_TOKEN_BEDROCK": "mx-env-bedrock-9wm3kd5s",
    "AIMLAPI_KEY": "mx-env-aimlapi-2rv6yb8n",  # exported with a trailing newline
    "ANTHROPIC_API_KEY": "mx-env-anthropic-6pc1fz4h",
    "GROQ_API_KEY": "mx-env-groq-8jx5ns3t",
}
# Every other name litellm reads for a credential that the redactor lists.
for _index, _name in enumerate(LITELLM_SECRET_ENV_NAMES):
    ENV_SECRETS.setdefault(
        _name, f"mx-env-lit{_index}-{hashlib.sha256(_name.encode()).hexdigest()[:8]}"
    )
NEWLINE_NAME = "AIMLAPI_KEY"
SHORT_NAME, SHORT = "DB_PASSWORD", "k9yj"  # 4 characters, under MIN_SECRET_LEN
DOTENV_NAME, DOTENV = "MISTRAL_API_KEY", "mx-dotenv-mistral-5hq2vd8k"
CTOR_KEY = "mx-ctor/7q+zk=lw9 vb2c"  # changes under base64, URL and JSON-ish encodings
APIBASE_PASS = "mx-apibase-3kd9wq"
MEM_PASS = "mx-mempass-7vx2nc"
TOOL_KEY = "sk-mxtool7qz4lw9vb2xc3"  # an unknown key: only its shape can give it away
TOOL_PASS = "mx-toolpass-4bn8"
HEADER = "mx-header-6tr3wz9q"
LLM_ARGS = "mx-llmargs-2yh7kd4p"
STREAM_KEY = "mx-stream-8qw3ze5r"  # the key of the run whose answer spells it out
ERROR_KEY = "mx-err401-5mc9tx2g"  # the key of the run whose 401 echoes it
SWARMS_LLM = "mx-swarms-llm-3pz8rk6d"
SWARMS_MCP = "mx-swarms-mcp-9cv4hn1w"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# The Basic header of ``user:CTOR_KEY``: the characters that hold only the key's bits.
BASIC = b64(f"user:{CTOR_KEY}")
BASIC_INNER = BASIC[8:-4]

SOURCES: dict[str, str] = {
    **{
        f"env {name}" + (" (+newline)" if name == NEWLINE_NAME else ""): value
        for name, value in ENV_SECRETS.items()
    },
    f"env {SHORT_NAME} (4 chars)": SHORT,
    f".env {DOTENV_NAME} (--workspace)": DOTENV,
    "constructor api_key=": CTOR_KEY,
    "api_base URL password": APIBASE_PASS,
    "memory URL password": MEM_PASS,
    "tool output key": TOOL_KEY,
    "tool output URL password": TOOL_PASS,
    "headers X-Custom-Auth": HEADER,
    "llm_args key": LLM_ARGS,
    "model answer (split chunks)": STREAM_KEY,
    "401 error body": ERROR_KEY,
    "swarms llm_api_key (+error.txt)": SWARMS_LLM,
    "swarms mcp_api_key": SWARMS_MCP,
}


def search_forms(secret: str) -> dict[str, bytes]:
    """How ``secret`` may be written: raw, JSON-escaped, URL-encoded, base64 (of it and of it
    with its newline, both alphabets, unpadded so a padded one is found too). Computed here,
    not with the redactor's own list, so a form it forgets is still looked for."""
    if len(secret) < 6:  # a short secret is masked where it stands as a word
        return {"raw": secret.encode()}
    data = secret.encode()
    forms = {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "url": quote(secret, safe=""),
        "url+": quote_plus(secret),
        "base64": base64.b64encode(data).decode().rstrip("="),
        "base64 of +newline": base64.b64encode(data + b"\n").decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
    }
    if secret == CTOR_KEY:
        forms["base64 inside Basic"] = BASIC_INNER
    unique: dict[str, bytes] = {}
    for name, form in forms.items():
        if form.encode() not in unique.values():
            unique[name] = form.encode()
    return unique


FORMS = {source: search_forms(secret) for source, secret in SOURCES.items()}


def pasted(*values: str) -> str:
    """What a user pastes into a task: the values, then encoded and short forms of known keys."""
    env = ENV_SECRETS
    encoded = [
        b64(env["AZURE_OPENAI_KEY"]),
        b64(env["GROQ_API_KEY"] + "\n"),
        quote(env["LITELLM_MASTER_KEY"], safe=""),
        quote_plus(env["LITELLM_MASTER_KEY"]),
    ]
    return f"{' '.join(values)} pin {SHORT} ; encoded {' '.join(encoded)} then {DOTENV} done"


# Every key the environment and .env give every child (and the app).
ALL_ENV = [*ENV_SECRETS.values(), DOTENV]
# What a run whose OPENAI_API_KEY is another key knows of the environment.
OTHER_ENV = [v for v in ALL_ENV if v != ENV_SECRETS["OPENAI_API_KEY"]]


# ----------------------------------------------------------------------- sinks
@dataclass
class Scenario:
    workspace: Path
    swarms: Path
    # sink name -> (what, bytes) pieces searched for every secret form
    sinks: dict[str, list[tuple[str, bytes]]] = field(default_factory=lambda: defaultdict(list))
    outputs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    server_keys: dict[str, str] = field(default_factory=dict)
    swarms_before: dict[str, str] = field(default_factory=dict)
    swarms_after: dict[str, str] = field(default_factory=dict)
    app_run: Run | None = None

    def record(self, label: str, sink: str, done: subprocess.CompletedProcess) -> None:
        self.outputs[label] = done
        for stream, text in (("stdout", done.stdout), ("stderr", done.stderr)):
            self.sinks[f"{sink} {stream}"].append((label, text.encode("utf-8", "surrogateescape")))

    def text(self, sink: str) -> str:
        return "\n".join(piece.decode("utf-8", "replace") for _, piece in self.sinks[sink])


def hits_of(scenario: Scenario) -> tuple[Counter, list[str]]:
    """(source, sink) -> how many times a form of the source's secret is in the sink; and
    where, one line per form and piece."""
    counts: Counter = Counter()
    where: list[str] = []
    for sink, pieces in scenario.sinks.items():
        for what, piece in pieces:
            for source, forms in FORMS.items():
                for form_name, form in forms.items():
                    found = piece.count(form)
                    if found:
                        counts[source, sink] += found
                        where.append(f"{source} [{form_name}] x{found} in {sink}: {what}")
    return counts, where


def matrix(counts: Counter, where: list[str]) -> str:
    """Hit counts, a row per source and a numbered column per sink that had any, then where."""
    sinks = sorted({sink for _, sink in counts})
    sources = [s for s in SOURCES if any(counts[s, sink] for sink in sinks)]
    width = max(map(len, sources))
    head = " ".join(f"{n:>5}" for n in range(1, len(sinks) + 1))
    lines = [f"{'source':<{width}} | {head}"]
    for source in sources:
        cells = " ".join(f"{counts[source, sink] or '.':>5}" for sink in sinks)
        lines.append(f"{source:<{width}} | {cells}")
    legend = [f"{n:>5} = {sink}" for n, sink in enumerate(sinks, 1)]
    shown = sorted(where, key=lambda line: line.split(" in ", 1)[-1])[:40]
    more = [f"... and {len(where) - len(shown)} more"] if len(where) > len(shown) else []
    return "\n".join(["secrets found (source x sink):", *lines, "sinks:", *legend, *shown, *more])


def workspace_files(scenario: Scenario) -> list[tuple[str, bytes]]:
    """Every file under the workspace but the swarms folder we wrote (a source): its bytes,
    and its path (a folder or file name is shown too)."""
    pieces = []
    for folder, dirs, files in os.walk(scenario.workspace):
        here = Path(folder)
        if here == scenario.swarms:
            dirs.clear()
            continue
        for name in [*dirs, *files]:
            path = here / name
            relative = str(path.relative_to(scenario.workspace))
            pieces.append((f"name {relative}", relative.encode("utf-8", "surrogateescape")))
            if name in files and path.is_file() and not path.is_symlink():
                pieces.append((relative, path.read_bytes()))
    return pieces


# ----------------------------------------------------------------------- writers
CTOR_SCRIPT = """
import json, sys
from agent_tui import Agent

given = json.load(sys.stdin)


def read_settings(name: str) -> str:
    \"\"\"Read the deployment settings.

    Args:
        name: Which settings to read.
    \"\"\"
    return given["tool_output"]


agent = Agent(
    model_name="offline/demo",
    agent_name="mx-ctor",
    max_loops=2,
    api_key=given["api_key"],
    api_base=given["api_base"],
    headers={"X-Custom-Auth": given["header"], "Accept": "text/plain"},
    llm_args={"key": given["llm_args"]},
    tools=[read_settings],
    workspace_dir=given["workspace"],
    system_prompt=given["system_prompt"],
)
agent.memory["db"] = given["memory_url"]
agent.run(given["task"])
agent.save()
print(agent._get_agent_workspace_dir())
"""


def base_env() -> dict[str, str]:
    """The environment of every child: none of the developer's own keys, ours instead; no
    ``$WORKSPACE_DIR`` (``--workspace`` says where) and no ``.env`` key (the file has it)."""
    env = {k: v for k, v in os.environ.items() if not is_secret_env_name(k)}
    env.pop("WORKSPACE_DIR", None)
    env.update(ENV_SECRETS)
    env[NEWLINE_NAME] = ENV_SECRETS[NEWLINE_NAME] + "\n"  # as `export K=$(cat keyfile)` leaves
    env[SHORT_NAME] = SHORT
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_swarms_agent(workspace: Path) -> Path:
    folder = write_swarms(
        workspace, "Mx-Swarms-Agent", loop_count=None,
        error_text=f"AuthenticationError: bad key {SWARMS_LLM}\n",
    )  # fmt: skip
    config = json.loads((folder / "config.json").read_text())
    config["llm_api_key"] = SWARMS_LLM
    config["mcp_api_key"] = SWARMS_MCP
    config["stopping_token"] = "<DONE>"
    config["system_prompt"] = f"Use {SWARMS_LLM} for the finance API. Stop with <DONE>."
    config["short_memory"].append(
        {"role": "Human", "content": "my keys are " + pasted(SWARMS_LLM, SWARMS_MCP, *ALL_ENV),
         "timestamp": None}
    )  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def run_ctor_child(workspace: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    given = {
        "api_key": CTOR_KEY,
        "api_base": f"https://alice:{APIBASE_PASS}@host/v1",
        "header": HEADER,
        "llm_args": LLM_ARGS,
        "workspace": str(workspace),
        "memory_url": f"postgres://app:{MEM_PASS}@db/prod",
        "tool_output": f"{TOOL_KEY} postgres://app:{TOOL_PASS}@db/prod",
        "system_prompt": f"Deploy with {HEADER} against postgres://app:{MEM_PASS}@db/prod.",
        "task": pasted(
            HEADER,
            LLM_ARGS,
            APIBASE_PASS,
            CTOR_KEY,
            quote(CTOR_KEY, safe=""),
            quote_plus(CTOR_KEY),
            b64(CTOR_KEY),
            b64(CTOR_KEY + "\n"),
            f"Basic {BASIC}",
            f"connect to postgres://app:{MEM_PASS}@db/prod",
            *ALL_ENV,
        ),  # fmt: skip
    }
    return subprocess.run(
        [sys.executable, "-c", CTOR_SCRIPT],
        input=json.dumps(given), env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def cli_run(workspace: Path, env: dict[str, str], name: str, task: str, *model: str):
    return agent_tui(
        "run", task, "--name", name, "--max-loops", "3", *model, "--workspace", str(workspace),
        env=env,
    )  # fmt: skip


# ----------------------------------------------------------------------- the app
VIEWS = (
    ("tab-config", "app Config", ("#config-header", "#config-problems", "#config-body")),
    ("tab-state", "app State", ("#state-view",)),
    ("tab-diff", "app Diff", ("#diff-summary", "#diff-body")),
)


def screen_text(app: AgentTUI) -> str:
    """What the terminal shows, as text: the screenshot's SVG without its markup."""
    text = html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot()))
    return text.replace("\xa0", " ")


def contents(app: AgentTUI, ids: Iterable[str], root=None) -> str:
    """The whole text of the views (scrolled out of sight too)."""
    root = root or app
    return "\n".join(
        app.state_view.text if i == "#state-view" else str(root.query_one(i, Static).content)
        for i in ids
    )


def view_ready(app: AgentTUI, tab: str, folder: Path) -> Callable[[], bool]:
    def ready() -> bool:
        if tab == "tab-config":
            return app.config_view.document_folder == folder
        view = app.state_view if tab == "tab-state" else app.diff_view
        ids = ("#state-view",) if tab == "tab-state" else ("#diff-summary", "#diff-body")
        shown = contents(app, ids)
        return (
            view.record is not None and view.record.folder == folder
            and LOADING not in shown and bool(shown.strip())
        )  # fmt: skip

    return ready


async def select(pilot, app: AgentTUI, key: str) -> None:
    app.table.move_cursor(app.table.row_of(key))
    assert await wait_until(pilot, lambda: app.selected == key), key


async def browse(pilot, app: AgentTUI, scenario: Scenario) -> None:
    """Each tab (switched once: a switch costs a repaint), each agent on it, then each agent's
    resume preview; keeps what is shown."""
    keys = sorted(app.table.records)
    for tab, sink, ids in VIEWS:
        app.tabs.active = tab
        for key in keys:
            await select(pilot, app, key)
            assert await wait_until(pilot, view_ready(app, tab, Path(key))), (tab, key)
            await pilot.pause()
            shown = f"{screen_text(app)}\n{contents(app, ids)}"
            scenario.sinks[sink].append((Path(key).name, shown.encode()))
    app.tabs.active = "tab-config"
    for key in keys:
        await select(pilot, app, key)
        app.action_resume()
        assert await wait_until(pilot, lambda: getattr(app.screen, "loaded", False)), key
        preview = app.screen.query_one("#resume-preview-body", Static)
        shown = f"{screen_text(app)}\n{preview.content}"
        scenario.sinks["app resume preview"].append((Path(key).name, shown.encode()))
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is app.screen_stack[0])


def run_screen(app: AgentTUI, run: Run) -> str:
    view = app.run_pane.views[run.key]
    return f"{screen_text(app)}\n{view.header.content}\n{view.log_view.text}"


async def app_session(scenario: Scenario, children: Children) -> None:
    """The app on the workspace while the children write it, then browsing it while the CLI
    readers run."""
    notes: list[str] = []
    lines: list[bytes] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify):
            notes.append(f"{message.notification.title}\n{message.notification.message}")
        elif isinstance(message, RunPane.Output):  # the runner's lines, before the app sees them
            lines.append(json.dumps(message.record).encode())

    app = AgentTUI(workspace_dir=scenario.workspace, watch=False)
    async with app.run_test(size=(200, 50), message_hook=hook) as pilot:
        # A run of the app's own, started with the CLI's: their children import litellm at once.
        spec = RunSpec(agent_name="mx-app", task=pasted(*ALL_ENV), model=MODEL, max_loops=1,
                       workspace=str(scenario.workspace))  # fmt: skip
        run = scenario.app_run = app.run_pane.start(spec)
        writers = children.writers()
        assert await wait_until(pilot, lambda: all(f.done() for f in writers), RUN_TRIES)
        assert await wait_until(pilot, lambda: not run.live, RUN_TRIES), run
        assert await wait_until(pilot, lambda: run.process.returncode is not None)
        # A resume rewrites config and state: what the first runs wrote is a sink of its own.
        scenario.sinks["files before the resumes"] = workspace_files(scenario)
        resuming = children.resumes()
        assert await wait_until(pilot, lambda: all(f.done() for f in resuming), RUN_TRIES)
        children.readers()  # every write is done: the CLI readers run while the app browses

        app.tabs.active = "tab-run"
        app.run_pane.show(run.key)
        assert await wait_until(pilot, lambda: "keep it safe" in run_screen(app, run)), run.error
        await pilot.pause()
        scenario.sinks["app Run"].append((run.name, run_screen(app, run).encode()))
        app.action_rescan()
        count = len(agent_folders(scenario.workspace))
        assert await wait_until(pilot, lambda: len(app.table.records) == count, 200)
        await browse(pilot, app, scenario)
        # A worker error or a problem that quotes what the app knows (env, .env, swarms keys
        # it read, URL passwords, a key's shape): shown as a notification.
        quoted = " ".join([*ALL_ENV, SHORT, SWARMS_LLM, SWARMS_MCP, TOOL_KEY,
                           f"postgres://app:{MEM_PASS}@db/prod"])  # fmt: skip
        app.table.notify(f"request failed: {quoted}", title=f"401 {SWARMS_LLM}")
        assert await wait_until(pilot, lambda: any("request failed" in n for n in notes))
        await pilot.pause()
        scenario.sinks["app notifications"].append(("toasts", screen_text(app).encode()))
    scenario.sinks["app notifications"] += [("notify", n.encode()) for n in notes]
    scenario.sinks["app runner stdout"] += [("line", line) for line in lines]


# ----------------------------------------------------------------------- the scenario
def agent_folders(workspace: Path) -> list[Path]:
    return sorted(p for p in (workspace / "agents").iterdir() if p.is_dir())


@dataclass
class Children:
    """The scenario's child processes, in three waves: writers, resumes, readers."""

    pool: ThreadPoolExecutor
    workspace: Path
    swarms: Path
    env: dict[str, str]
    servers: dict[str, FakeOpenAI]
    jobs: dict[str, tuple[str, Future]] = field(default_factory=dict)

    def _start(self, label: str, sink: str, call: Callable, *args: object, **kwargs) -> Future:
        job = self.pool.submit(call, *args, **kwargs)
        self.jobs[label] = (sink, job)
        return job

    def _cli(self, label: str, sink: str, *argv: str, env: dict[str, str] | None = None):
        where = ("--workspace", str(self.workspace))
        return self._start(label, sink, agent_tui, *argv, *where, env=env or self.env)

    def writers(self) -> list[Future]:
        def keyed(key: str, server: str) -> dict[str, str]:
            return {**self.env, "OPENAI_API_KEY": key,
                    "OPENAI_BASE_URL": self.servers[server].base_url}  # fmt: skip

        def run(name: str, task: str, *model: str) -> tuple[str, ...]:
            return ("run", task, "--name", name, "--max-loops", "3", *model)

        return [
            self._cli("run (stream)", "run", *run("mx-cli-stream", pasted(STREAM_KEY, *OTHER_ENV),
                      "--model", MODEL), env=keyed(STREAM_KEY, "stream")),
            self._cli("run (401)", "run", *run("mx-cli-401", pasted(ERROR_KEY, *OTHER_ENV),
                      "--model", MODEL), env=keyed(ERROR_KEY, "401")),
            self._cli("run (offline)", "run", *run("mx-cli-offline", pasted(*reversed(ALL_ENV)))),
            self._start("constructor script", "constructor script", run_ctor_child,
                        self.workspace, self.env),
        ]  # fmt: skip

    def resumes(self) -> list[Future]:
        said = self.jobs["run (offline)"][1].result().stderr
        ours = said.rsplit("workspace: ", 1)[-1].strip()
        follow_up = pasted(ENV_SECRETS["GROQ_API_KEY"], SHORT, *ALL_ENV)
        return [
            self._cli("resume (swarms)", "resume", "resume", str(self.swarms), follow_up,
                      "--model", "offline/demo", "--max-loops", "2"),
            self._cli("resume (ours)", "resume", "resume", ours, follow_up, "--max-loops", "1"),
        ]  # fmt: skip

    def readers(self) -> None:
        every = ("--status", "completed,error,interrupted,unknown,broken")
        self._cli("ls", "ls", "ls")
        self._cli("ls --json", "ls --json", "ls", "--json")
        self._cli("clean", "clean", "clean", *every)
        self._cli("clean --json", "clean --json", "clean", *every, "--json")
        for folder in agent_folders(self.workspace):
            self._cli(f"show {folder.name}", "show", "show", str(folder))
            self._cli(f"show --json {folder.name}", "show --json", "show", str(folder), "--json")
            steps = step_history(folder).loop_counts if folder != self.swarms else []
            if len(steps) >= 2:
                self._cli(f"diff --steps {folder.name}", "diff --steps", "diff", str(folder),
                          "--steps", str(steps[0]), str(steps[-1]))  # fmt: skip


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("matrix")
    workspace, project = base / "ws", base / "project"
    project.mkdir()
    (project / ".env").write_text(f"{DOTENV_NAME}={DOTENV}\n")
    swarms = write_swarms_agent(workspace)
    found = Scenario(workspace, swarms, swarms_before=outside_digest(swarms))
    env = base_env()
    with (
        pytest.MonkeyPatch.context() as mp,
        ThreadPoolExecutor(4) as pool,
        FakeOpenAI("leak_key") as stream,
        FakeOpenAI("echo_key") as echo,
        FakeOpenAI("leak_key") as app_server,
    ):
        # The app (this process) sees what the children see; .env is read from the cwd.
        for name in [k for k in os.environ if is_secret_env_name(k)] + ["WORKSPACE_DIR"]:
            mp.delenv(name, raising=False)
        mp.setenv(DOTENV_NAME, "")  # recorded, so the value .env loads here is undone too
        mp.delenv(DOTENV_NAME)
        for name, value in env.items():
            if is_secret_env_name(name):
                mp.setenv(name, value)
        mp.setenv("OPENAI_BASE_URL", app_server.base_url)
        mp.chdir(project)
        children = Children(pool, workspace, swarms, env, {"stream": stream, "401": echo})
        asyncio.run(app_session(found, children))
        for label, (sink, job) in children.jobs.items():
            found.record(label, sink, job.result())
        found.server_keys = {"stream": stream.key, "401": echo.key, "app": app_server.key}
    found.sinks["files"] = workspace_files(found)
    found.swarms_after = outside_digest(swarms)
    return found


# ----------------------------------------------------------------------- the matrix
def test_no_secret_reaches_any_sink(scenario: Scenario) -> None:
    counts, where = hits_of(scenario)
    assert not counts, matrix(counts, where)


def test_the_scenario_really_carried_every_secret(scenario: Scenario) -> None:
    """0 hits means something only if each source reached the sinks masked."""
    outs = scenario.outputs
    for label, done in outs.items():
        assert "Traceback" not in done.stderr, (label, done.stderr[-2000:])
    assert scenario.server_keys == {"stream": STREAM_KEY, "401": ERROR_KEY,
                                    "app": ENV_SECRETS["OPENAI_API_KEY"]}  # fmt: skip
    assert outs["run (401)"].returncode == 1
    assert "failed (auth)" in outs["run (401)"].stderr and REDACTED in outs["run (401)"].stderr
    assert f"Your key is {REDACTED} - keep it safe." in outs["run (stream)"].stdout
    assert outs["run (offline)"].returncode == 0 and REDACTED in outs["run (offline)"].stdout
    assert outs["constructor script"].returncode == 0, outs["constructor script"].stderr
    for label in ("resume (swarms)", "resume (ours)"):
        assert outs[label].returncode == 0, outs[label].stderr
    assert scenario.swarms_after == scenario.swarms_before  # nothing written into a foreign folder
    files = b"".join(
        piece
        for sink in ("files before the resumes", "files")
        for what, piece in scenario.sinks[sink]
        if not what.startswith("name ")
    ).replace(b'": "', b'":"')  # indented or compact JSON alike
    for masked in (
        f'"X-Custom-Auth":"{REDACTED}"', f'"key":"{REDACTED}"',
        f"https://alice:{REDACTED}@host/v1", f"postgres://app:{REDACTED}@db/prod",
        f"pin {REDACTED}", "my keys are", "<DONE>",
    ):  # fmt: skip
        assert masked.encode() in files, masked
    shows = scenario.text("show stdout")
    assert f"bad key {REDACTED}" in shows and f"https://alice:{REDACTED}@host/v1" in shows
    assert f"bad key {REDACTED}" in scenario.text("ls --json stdout")
    assert scenario.text("diff --steps stdout").strip()
    app_sinks = ("app Config", "app State", "app Diff", "app resume preview")
    for sink in app_sinks:
        assert len(scenario.sinks[sink]) == len(agent_folders(scenario.workspace)), sink
    assert f"bad key {REDACTED}" in scenario.text("app Config")
    assert REDACTED in scenario.text("app State")
    assert scenario.app_run is not None and scenario.app_run.status == "completed"
    assert f"Your key is {REDACTED} - keep it safe." in scenario.text("app Run")
    assert f"request failed: {REDACTED}" in scenario.text("app notifications")
