"""Object storage (``s3://``) next to a local workspace: autosave cost per step, write -> screen
latency at the poll interval, and ``ls`` on 1,000 remote workspaces.

    .venv/bin/python bench/remote.py [--steps 200] [--rounds 3] [--seconds 24]
                                     [--workspaces 1000] [--quick] [--json out.json]

moto's S3 server runs on 127.0.0.1 in a child process of this script (started here, stopped at
the end; its work does not share this interpreter's lock). Loopback has no network latency, so
the s3:// figures are this code's overhead plus moto's; against a real store each request adds
its round trip (tens of ms in-region). Side by side in one run, each against a baseline
measured here:

- **autosave cost per step**: ``--steps`` steps of an instant offline model, one tool call
  each, on a local workspace and on ``s3://`` in turn, ``--rounds`` rounds: median wall time
  per step, ratio s3/local; and the requests the s3:// run made (S3Objects' methods counted in
  this process), PUTs by kind (journal step objects, config, lease, state) per step and per run;
- **write -> screen**: a writer process autosaving a step every 0.25 s for ``--seconds`` while
  this process runs ``Mirror.sync()`` every 1.5 s (``AGENT_TUI_POLL_INTERVAL``, as the app's
  poll worker) and reads the mirror's composed ``journal.jsonl``: the time from each record's
  ``ts`` to the sync that brought it down, p50/p95; the baseline is the same writer on a local
  folder and a stat loop on its ``journal.jsonl`` at the same interval. The paced writer also
  counts its own requests: per step at 4 steps/s, where the time-driven ones (config every 2 s,
  lease every 10 s) show;
- **ls on N remote workspaces**: ``--workspaces`` agent folders (the config.json, state file
  and journal.jsonl a real run of ours wrote, renamed) put into the bucket directly, then the
  first ``Mirror.sync()`` (cold cache), a second one (warm, nothing changed), ``agent-tui ls``
  on the mirror folder and ``agent-tui ls --workspace s3://...`` (a fresh process: warm cache,
  one sync), against ``agent-tui ls`` on the same folders written locally.
"""

from __future__ import annotations

import os

# Before anything imports litellm (through the agent): no price-list download, no network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

CLI = Path(sys.executable).parent / "agent-tui"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench-key-id",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-key",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance-metadata address
}
PACE_S = 0.25  # the paced writer's step
POLL_S = float(os.environ.get("AGENT_TUI_POLL_INTERVAL", "1.5"))


def lookup(term: str) -> str:
    """Look a term up."""
    return "result for " + term


def paced_lookup(term: str) -> str:
    """Look a term up, slowly."""
    time.sleep(PACE_S)
    return "result for " + term


# ------------------------------------------------------------------------- the store
@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 in a child process; its endpoint. Stopped on exit."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", "moto"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().strip()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"moto's server did not start: {endpoint!r}")
        yield endpoint
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the child stops its server when its stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)


def child_moto() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


def make_bucket(endpoint: str) -> str:
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return bucket


# ------------------------------------------------------------------------- counting
REQUESTS: Counter[str] = Counter()


def requests_sent() -> int:
    return sum(REQUESTS[k] for k in ("put", "get", "list", "delete"))


def kind_of(key: str) -> str:
    from agent_tui.store.mirror import part_seq

    if key.startswith(".agent-tui"):
        return "probe"
    if part_seq(key) is not None:
        return "journal"
    for tail, kind in (("/config.json", "config"), ("/agent.lock", "lease"),
                       ("_state.json", "state"), ("/journal.jsonl", "compacted")):  # fmt: skip
        if key.endswith(tail):
            return kind
    return "other"


def count_requests() -> None:
    """Count every request S3Objects sends in this process: ``put:<kind>``, ``get``, ``list``
    (one per page of 1,000), ``delete`` (one per batch of 1,000)."""
    from agent_tui.store.s3 import S3Objects

    if getattr(S3Objects, "_bench_counted", False):
        return
    get, listing, put, delete = S3Objects.get, S3Objects.list, S3Objects._put, S3Objects.delete

    def counted_get(self, key):
        REQUESTS["get"] += 1
        REQUESTS[f"get:{kind_of(key)}"] += 1
        return get(self, key)

    def counted_list(self, under=""):
        n = 0
        try:
            for info in listing(self, under):
                n += 1
                yield info
        finally:
            REQUESTS["list"] += max(1, -(-n // 1000))

    def counted_put(self, key, data, mode):
        REQUESTS["put"] += 1
        REQUESTS[f"put:{kind_of(key)}"] += 1
        return put(self, key, data, mode)

    def counted_delete(self, keys):
        batch = list(keys)
        REQUESTS["delete"] += max(1, -(-len(batch) // 1000)) if batch else 0
        return delete(self, batch)

    S3Objects.get, S3Objects.list = counted_get, counted_list  # type: ignore[method-assign]
    S3Objects._put, S3Objects.delete = counted_put, counted_delete  # type: ignore[method-assign]
    S3Objects._bench_counted = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------------- 1. autosave
def stepping_agent(root: str, name: str, steps: int, tool=lookup):
    """An agent whose run is ``steps`` steps of the offline model, one ``tool`` call each."""
    from agent_tui import Agent

    return Agent(
        agent_name=name,
        model_name=f"offline/demo?tool_steps={steps + 10}&words=20",
        max_loops=steps,
        tools=[tool],
        workspace_dir=root,
    )


def run_steps(root: str, name: str, steps: int) -> dict:
    agent = stepping_agent(root, name, steps)
    step_ms: list[float] = []
    mark = {"start": 0.0}

    def on_event(event) -> None:
        if event.kind == "step_start":
            mark["start"] = time.perf_counter()
        elif event.kind == "step_end" and mark["start"]:
            step_ms.append((time.perf_counter() - mark["start"]) * 1000)

    agent.on_event = on_event
    REQUESTS.clear()
    started = time.perf_counter()
    agent.run("keep researching")
    run_s = time.perf_counter() - started
    return {
        "steps": len(step_ms),
        "step_ms": statistics.median(step_ms),
        "step_ms_p95": quantile(step_ms, 0.95),
        "run_s": run_s,
        "requests": dict(REQUESTS),
    }


def autosave_part(url: str, scratch: Path, steps: int, rounds: int) -> dict:
    count_requests()
    os.environ["AGENT_TUI_CACHE_DIR"] = str(scratch / "cache-autosave")
    local_root = str(scratch / "ws-autosave")
    run_steps(local_root, "warm-up", 5)  # imports and first-use costs outside the figures
    run_steps(url, "warm-up", 5)
    runs: dict[str, list[dict]] = {"local": [], "s3": []}
    for n in range(rounds):
        runs["local"].append(run_steps(local_root, f"steps-local-{n}", steps))
        runs["s3"].append(run_steps(url, f"steps-s3-{n}", steps))
    out: dict = {"steps": steps, "rounds": rounds}
    for where, rows in runs.items():
        out[where] = {
            "step_ms": statistics.median(r["step_ms"] for r in rows),
            "step_ms_p95": statistics.median(r["step_ms_p95"] for r in rows),
            "run_s": statistics.median(r["run_s"] for r in rows),
        }
    out["ratio_step"] = out["s3"]["step_ms"] / out["local"]["step_ms"]
    out["ratio_run"] = out["s3"]["run_s"] / out["local"]["run_s"]
    last = runs["s3"][-1]
    out["requests_per_run"] = last["requests"]
    out["steps_counted"] = last["steps"]
    return out


def print_autosave(doc: dict) -> None:
    local, s3 = doc["local"], doc["s3"]
    print(f"\n1. autosave cost per step: {doc['steps']} steps of an instant offline model, one "
          f"tool call each; median of {doc['rounds']} rounds")  # fmt: skip
    print(f"   {'':26} {'local':>9} {'s3://':>9} {'s3/local':>9}")
    print(f"   {'step ms (median)':26} {local['step_ms']:9.2f} {s3['step_ms']:9.2f} "
          f"{doc['ratio_step']:8.1f}x")  # fmt: skip
    print(f"   {'step ms (p95)':26} {local['step_ms_p95']:9.2f} {s3['step_ms_p95']:9.2f} "
          f"{s3['step_ms_p95'] / local['step_ms_p95']:8.1f}x")  # fmt: skip
    print(f"   {'whole run s':26} {local['run_s']:9.2f} {s3['run_s']:9.2f} "
          f"{doc['ratio_run']:8.1f}x")  # fmt: skip
    print_requests("   requests of one s3:// run", doc["requests_per_run"], doc["steps_counted"])


def print_requests(title: str, requests: dict, steps: int) -> None:
    kinds = ("journal", "config", "lease", "state", "compacted", "probe")
    puts = "  ".join(
        f"{k} {requests.get(f'put:{k}', 0)} ({requests.get(f'put:{k}', 0) / steps:.3f}/step)"
        for k in kinds
        if requests.get(f"put:{k}", 0)
    )
    print(f"{title} ({steps} steps): PUT {requests.get('put', 0)}: {puts}")
    total = sum(requests.get(k, 0) for k in ("put", "get", "list", "delete"))
    gets = ", ".join(f"{k} {requests[f'get:{k}']}" for k in (*kinds, "other")
                     if requests.get(f"get:{k}"))  # fmt: skip
    print(f"   {'':5}GET {requests.get('get', 0)} ({gets or 'none'}), LIST "
          f"{requests.get('list', 0)}, DELETE {requests.get('delete', 0)}; all {total} = "
          f"{total / steps:.2f} per step")  # fmt: skip


# ------------------------------------------------------------------------- 2. latency
def child_writer(root: str, name: str, seconds: float) -> None:
    """A run of ``seconds / PACE_S`` steps of PACE_S each on ``root``; its requests as JSON."""
    count_requests()
    agent = stepping_agent(root, name, max(2, int(seconds / PACE_S)), paced_lookup)
    started = time.perf_counter()
    agent.run("keep researching, slowly")
    print(json.dumps({"steps": agent.loop_count, "run_s": time.perf_counter() - started,
                      "requests": dict(REQUESTS)}), flush=True)  # fmt: skip


def start_writer(root: str, name: str, seconds: float, cache: Path) -> subprocess.Popen:
    env = dict(os.environ, AGENT_TUI_CACHE_DIR=str(cache))  # another host: a cache of its own
    return subprocess.Popen(
        [sys.executable, __file__, "--child", "writer", root, name, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_records(path: Path, seen: dict[int, float], at: float) -> None:
    """Each record of ``path`` not seen before: ``seen[seq] = at - its ts``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for line in data.splitlines():
        try:
            record = json.loads(line)
            seq = int(record["seq"])
            ts = datetime.fromisoformat(record["ts"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        if seq not in seen:
            seen[seq] = at - ts


def follow(writer: subprocess.Popen, tick) -> dict:
    """``tick()`` every POLL_S (its own time counted in, as the app's poll worker does) until
    the writer has ended and one more tick has run; the writer's report."""
    ended = False
    while True:
        started = time.monotonic()
        done = writer.poll() is not None
        tick()
        if ended:
            break
        ended = done
        time.sleep(max(0.05, POLL_S - (time.monotonic() - started)))
    assert writer.stdout is not None
    out = writer.stdout.read().strip().splitlines()
    if writer.returncode != 0 or not out:
        raise RuntimeError(f"the writer failed (exit {writer.returncode})")
    return json.loads(out[-1])


def latency_part(url: str, scratch: Path, seconds: float) -> dict:
    from agent_tui.store.mirror import Mirror

    # The baseline: a local run, its journal.jsonl followed by a stat loop.
    local_root = scratch / "ws-latency"
    local_seen: dict[int, float] = {}
    last = {"stat": None}
    writer = start_writer(str(local_root), "paced-local", seconds, scratch / "cache-writer-a")

    def stat_tick() -> None:
        for path in local_root.glob("agents/*/journal.jsonl"):
            info = path.stat()
            if (info.st_size, info.st_mtime_ns) != last["stat"]:
                last["stat"] = (info.st_size, info.st_mtime_ns)
                read_records(path, local_seen, time.time())

    local_report = follow(writer, stat_tick)

    # Over the store: another "host" writes; this one's mirror polls.
    os.environ["AGENT_TUI_CACHE_DIR"] = str(scratch / "cache-screen")
    mirror = Mirror(url)
    remote_seen: dict[int, float] = {}
    sync_s: list[float] = []
    sync_requests: list[int] = []
    writer = start_writer(url, "paced-remote", seconds, scratch / "cache-writer-b")

    def sync_tick() -> None:
        before = requests_sent()
        started = time.perf_counter()
        mirror.sync()
        sync_s.append(time.perf_counter() - started)
        sync_requests.append(requests_sent() - before)
        at = time.time()
        for path in mirror.folder.glob("agents/paced-remote-*/journal.jsonl"):
            read_records(path, remote_seen, at)

    remote_report = follow(writer, sync_tick)
    mirror.close()
    local_ms = [v * 1000 for v in local_seen.values()]
    remote_ms = [v * 1000 for v in remote_seen.values()]
    return {
        "poll_s": POLL_S,
        "pace_s": PACE_S,
        "local": {
            "records": len(local_ms),
            "p50_ms": quantile(local_ms, 0.5),
            "p95_ms": quantile(local_ms, 0.95),
            "max_ms": max(local_ms),
        },  # fmt: skip
        "s3": {
            "records": len(remote_ms),
            "p50_ms": quantile(remote_ms, 0.5),
            "p95_ms": quantile(remote_ms, 0.95),
            "max_ms": max(remote_ms),
            "sync_ms_median": statistics.median(sync_s) * 1000,
            "sync_requests_median": statistics.median(sync_requests),
            "sync_requests_max": max(sync_requests),
            "syncs": len(sync_requests),
        },  # fmt: skip
        "writer_local": local_report,
        "writer_s3": remote_report,
    }


def print_latency(doc: dict) -> None:
    local, s3 = doc["local"], doc["s3"]
    print(f"\n2. write -> screen: a writer process autosaving a step every {doc['pace_s']} s; "
          f"polled every {doc['poll_s']} s (record ts -> seen)")  # fmt: skip
    print(f"   {'':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'records':>8}")
    print(f"   {'local journal.jsonl, stat loop':34} {local['p50_ms']:8.0f} {local['p95_ms']:8.0f} "
          f"{local['max_ms']:8.0f} {local['records']:8}")  # fmt: skip
    print(f"   {'s3://, Mirror.sync() loop':34} {s3['p50_ms']:8.0f} {s3['p95_ms']:8.0f} "
          f"{s3['max_ms']:8.0f} {s3['records']:8}")  # fmt: skip
    print(f"   {'s3 / local':34} {s3['p50_ms'] / local['p50_ms']:7.2f}x "
          f"{s3['p95_ms'] / local['p95_ms']:7.2f}x")  # fmt: skip
    print(f"   a sync of the root while it runs: {s3['sync_ms_median']:.0f} ms, "
          f"{s3['sync_requests_median']:g} requests (median of {s3['syncs']}), "
          f"{s3['sync_requests_max']} at most")  # fmt: skip
    report = doc["writer_s3"]
    print_requests(f"   requests of the paced s3:// run, {report['run_s']:.0f} s",
                   report["requests"], max(1, report["steps"]))  # fmt: skip


# ------------------------------------------------------------------------- 3. ls
def template_agent(scratch: Path) -> tuple[str, str, dict[str, bytes]]:
    """A real run's folder (local, 3 steps): its name, id and files, to copy."""
    agent = stepping_agent(str(scratch / "ws-template"), "template-agent", 3)
    agent.run("summarise the quarterly filings")
    folder = Path(agent._get_agent_workspace_dir())
    files = {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and p.name in ("config.json", "journal.jsonl", "template-agent_state.json")
    }
    assert len(files) == 3, sorted(files)
    return agent.agent_name, agent.agent_id, files


def fleet_objects(scratch: Path, count: int) -> dict[str, bytes]:
    """``count`` agent folders: the template's files with each one's name and id."""
    from agent_tui.format.naming import agent_folder_name, state_file_name

    name, agent_id, files = template_agent(scratch)
    objects: dict[str, bytes] = {}
    for n in range(count):
        new_name, new_id = f"fleet-{n:05d}", uuid.uuid4().hex[:12]
        folder = f"agents/{agent_folder_name(new_name, new_id)}"
        for file_name, data in files.items():
            data = data.replace(agent_id.encode(), new_id.encode())
            data = data.replace(name.encode(), new_name.encode())
            if file_name.endswith("_state.json"):
                file_name = state_file_name(new_name)
            objects[f"{folder}/{file_name}"] = data
    return objects


def timed_ls(workspace: str, env: dict[str, str], rounds: int) -> float:
    """Median seconds of ``agent-tui ls --workspace``, after one untimed run."""
    times = []
    for n in range(rounds + 1):
        started = time.perf_counter()
        subprocess.run([str(CLI), "ls", "--workspace", workspace], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        if n:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def ls_part(url: str, scratch: Path, count: int, rounds: int) -> dict:
    from agent_tui.store.mirror import Mirror
    from agent_tui.store.s3 import S3Objects

    objects = fleet_objects(scratch, count)
    store = S3Objects(url)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda item: store.put(*item), objects.items()))
    put_s = time.perf_counter() - started
    local = scratch / "ws-ls"
    for key, data in objects.items():
        path = local.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    cache = scratch / "cache-ls"
    os.environ["AGENT_TUI_CACHE_DIR"] = str(cache)
    mirror = Mirror(url)
    before = requests_sent()
    started = time.perf_counter()
    cold = mirror.sync()
    cold_s = time.perf_counter() - started
    cold_requests = requests_sent() - before
    started = time.perf_counter()
    warm = mirror.sync()
    warm_s = time.perf_counter() - started
    warm_requests = requests_sent() - before - cold_requests
    mirror.close()
    listed = sum(1 for p in (mirror.folder / "agents").iterdir() if p.is_dir())

    env = dict(os.environ, XDG_CACHE_HOME=str(scratch / "xdg-cache"),
               XDG_CONFIG_HOME=str(scratch / "xdg-config"))  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ls_local = timed_ls(str(local), env, rounds)
    ls_mirror = timed_ls(str(mirror.folder), env, rounds)
    ls_remote = timed_ls(url, env, rounds)
    return {
        "workspaces": count,
        "objects": len(objects),
        "put_s": put_s,
        "folders_in_mirror": listed,
        "cold_sync": {
            "s": cold_s,
            "requests": cold_requests,
            "fetched": cold.fetched,
            "mirror_counted": cold.requests,
        },
        "warm_sync": {
            "s": warm_s,
            "requests": warm_requests,
            "fetched": warm.fetched,
            "mirror_counted": warm.requests,
        },
        "ls_local_s": ls_local,
        "ls_mirror_s": ls_mirror,
        "ls_s3_s": ls_remote,
    }


def print_ls(doc: dict) -> None:
    base = doc["ls_local_s"]
    print(f"\n3. ls on {doc['workspaces']:,} remote workspaces ({doc['objects']:,} objects, put "
          f"in {doc['put_s']:.1f} s; {doc['folders_in_mirror']:,} folders mirrored)")  # fmt: skip
    print(f"   {'':44} {'s':>7} {'requests':>9} {'vs local ls':>12}")
    rows = [
        ("agent-tui ls, local copy (baseline)", base, "-"),
        ("Mirror.sync(), cold cache", doc["cold_sync"]["s"], doc["cold_sync"]["requests"]),
        ("Mirror.sync(), warm (nothing changed)", doc["warm_sync"]["s"],
         doc["warm_sync"]["requests"]),
        ("agent-tui ls on the mirror folder", doc["ls_mirror_s"], "-"),
        ("agent-tui ls --workspace s3://... (warm)", doc["ls_s3_s"], "-"),
    ]  # fmt: skip
    for what, seconds, requests in rows:
        print(f"   {what:44} {seconds:7.2f} {requests!s:>9} {seconds / base:11.2f}x")


# ------------------------------------------------------------------------- main
def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per autosave run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each timed part")
    parser.add_argument("--seconds", type=float, default=24.0, help="each paced writer's run")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--parts", default="autosave,latency,ls")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 40 s)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    if args.child:
        if args.child[0] == "moto":
            child_moto()
        else:
            child_writer(args.child[1], args.child[2], float(args.child[3]))
        return 0
    missing = [m for m in ("moto", "obstore") if importlib.util.find_spec(m) is None]
    if missing:
        # `make bench` installs the app alone; the store and its stand-in come with the dev extras.
        print(f"skipped: bench/remote.py needs {' and '.join(missing)} "
              "(pip install -e '.[dev]')")  # fmt: skip
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"skipped": f"missing {missing}"}) + "\n")
        return 0
    if args.quick:
        args.steps, args.rounds, args.seconds, args.workspaces = 50, 1, 6.0, 300
    parts = set(args.parts.split(","))
    count_requests()
    began = time.perf_counter()
    document: dict = {"cores": os.cpu_count()}
    scratch = Path(tempfile.mkdtemp(prefix="agent-tui-bench-remote-"))
    os.environ["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "xdg-config")
    try:
        with moto_server() as endpoint:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            print(f"moto's S3 server at {endpoint}; {os.cpu_count()} cores", flush=True)
            if "autosave" in parts:
                url = f"s3://{make_bucket(endpoint)}/team-a"
                document["autosave"] = autosave_part(url, scratch, args.steps, args.rounds)
                print_autosave(document["autosave"])
            if "latency" in parts:
                url = f"s3://{make_bucket(endpoint)}/team-a"
                document["latency"] = latency_part(url, scratch, args.seconds)
                print_latency(document["latency"])
            if "ls" in parts:
                url = f"s3://{make_bucket(endpoint)}/team-a"
                document["ls"] = ls_part(url, scratch, args.workspaces, args.rounds)
                print_ls(document["ls"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    document["seconds"] = time.perf_counter() - began
    print(f"\n{document['seconds']:.0f} s in all")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
