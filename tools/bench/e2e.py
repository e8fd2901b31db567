"""End-to-end benchmark through the real `pulumi` CLI on a local file backend.

Each case is one `pulumi up --skip-preview` (then one `pulumi destroy --skip-preview`) of
tools/bench/program with a given kind and count, on a fresh stack. While it runs, the provider
process (a child of the CLI) is sampled from /proc for CPU time and peak RSS (VmHWM), and the
local backend servers (kube-apiserver + etcd, or OpenBao) for CPU time, so every figure is read,
not estimated. The engine's floor is measured in the same run: the same program with count 0,
and with the cheapest key work zerotrust has (kind `floor`: the same resources, inputs and
outputs with ED25519 keys), so engine and SDK work are the same on both sides of the comparison.
Figures, not a test: the exit status only says whether the runs themselves worked.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """User + system CPU seconds of a process (all its threads), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def proc_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def exe_of(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return None


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


class ProcessSampler(threading.Thread):
    """Follows the processes the CLI starts, until stopped: every instance of the provider binary,
    and the program side (the language host and the program it runs), so the CPU time of the
    engine, the program and the provider are separate figures."""

    def __init__(self, cli_pid, binary, interval=0.02):
        super().__init__(daemon=True)
        self.cli_pid, self.binary, self.interval = cli_pid, binary, interval
        self.cpu, self.hwm, self.program_cpu = {}, {}, {}
        self.done = threading.Event()

    def run(self):
        cli_exe = exe_of(self.cli_pid)
        decided = set()
        while not self.done.is_set():
            for pid in descendants(self.cli_pid):
                if pid in decided:
                    continue
                exe = exe_of(pid)
                # Between fork and exec a child still runs the CLI's binary: look again later.
                if exe is None or exe == cli_exe:
                    continue
                decided.add(pid)
                if exe == self.binary:
                    self.cpu[pid] = 0.0
                    self.hwm[pid] = 0
                else:
                    self.program_cpu[pid] = 0.0
            for pid in self.cpu:
                cpu, hwm = proc_cpu(pid), proc_hwm_kib(pid)
                if cpu is not None:
                    self.cpu[pid] = max(self.cpu[pid], cpu)
                if hwm is not None:
                    self.hwm[pid] = max(self.hwm[pid], hwm)
            for pid in self.program_cpu:
                cpu = proc_cpu(pid)
                if cpu is not None:
                    self.program_cpu[pid] = max(self.program_cpu[pid], cpu)
            self.done.wait(self.interval)

    def result(self):
        return (sum(self.cpu.values()), max(self.hwm.values(), default=0), len(self.cpu),
                sum(self.program_cpu.values()))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def backend_cpu(pids):
    return sum(c for c in (proc_cpu(p) for p in pids) if c is not None)


def run_measured(cmd, cwd, env, binary, backend_pids):
    """Run one CLI command; return wall, provider CPU/peak RSS, engine and program CPU, backend CPU."""
    before_children, before_backend = children_cpu(), backend_cpu(backend_pids)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sampler = ProcessSampler(proc.pid, binary)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(output[-6000:])
        raise SystemExit(f"bench: {' '.join(cmd[:2])} failed with exit {proc.returncode}")
    provider_cpu, hwm_kib, instances, program_cpu = sampler.result()
    total_cpu = children_cpu() - before_children
    return {
        "wall_s": wall,
        "provider_cpu_s": provider_cpu,
        "provider_rss_mib": hwm_kib / 1024,
        "provider_instances": instances,
        "engine_cpu_s": max(total_cpu - provider_cpu - program_cpu, 0.0),
        "program_cpu_s": program_cpu,
        "backend_cpu_s": backend_cpu(backend_pids) - before_backend,
    }


def project(root, name, plugin_dir):
    """A project directory holding the benchmark program, with the provider at plugin_dir."""
    work = root / name
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(HERE / "program", work)
    (work / "Pulumi.yaml").write_text(
        "name: zt-bench\nruntime: python\n"
        "description: zerotrust benchmark program (generated by tools/bench/e2e.py)\n"
        f"plugins:\n  providers:\n    - name: zerotrust\n      path: {plugin_dir}\n"
    )
    return work


def pulumi(args, cwd, env):
    subprocess.run(["pulumi", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure_case(root, opts, kind, count, checkpoints, extra_config, rep):
    work = project(root, f"{kind}-{count}-{checkpoints}-{rep}", opts.plugin_dir)
    state = work / "state"
    state.mkdir()
    env = dict(os.environ, PULUMI_BACKEND_URL=f"file://{state}")
    env.pop("PULUMI_SKIP_CHECKPOINTS", None)
    if checkpoints == "off":
        env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    stack = f"b{rep}"
    pulumi(["stack", "init", stack, "--non-interactive"], work, env)
    pulumi(["config", "set", "kind", kind], work, env)
    pulumi(["config", "set", "count", str(count)], work, env)
    for key, value in extra_config.items():
        pulumi(["config", "set", key, value], work, env)
    flags = ["--yes", "--skip-preview", "--non-interactive", "--stack", stack]
    if opts.parallel:
        flags += ["--parallel", str(opts.parallel)]
    up = run_measured(["pulumi", "up", *flags], work, env, opts.binary, opts.backend_pids)
    down = run_measured(["pulumi", "destroy", *flags], work, env, opts.binary, opts.backend_pids)
    shutil.rmtree(work, ignore_errors=True)
    return up, down


def median_of(runs):
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin-dir", required=True, help="directory of pulumi-resource-zerotrust")
    ap.add_argument("--kinds", default="empty,floor,ecdsa")
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--checkpoints", default="off,on")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=0, help="pulumi --parallel (0: engine default)")
    ap.add_argument("--config", action="append", default=[], help="extra stack config key=value")
    ap.add_argument("--backend-pid-files", default="", help="comma-separated pid files to sample")
    ap.add_argument("--label", default="tls")
    ap.add_argument("--json", help="append the results, one JSON object per line, to this file")
    opts = ap.parse_args()
    opts.plugin_dir = str(Path(opts.plugin_dir).resolve())
    opts.binary = os.path.realpath(os.path.join(opts.plugin_dir, "pulumi-resource-zerotrust"))
    opts.backend_pids = []
    for f in filter(None, opts.backend_pid_files.split(",")):
        opts.backend_pids.append(int(Path(f).read_text().strip()))
    extra = dict(kv.split("=", 1) for kv in opts.config)

    rows = []
    root = Path(tempfile.mkdtemp(prefix="zt-bench-"))
    try:
        for checkpoints in opts.checkpoints.split(","):
            for size in (int(s) for s in opts.sizes.split(",")):
                for kind in opts.kinds.split(","):
                    count = 0 if kind == "empty" else size
                    ups, downs = [], []
                    for rep in range(opts.reps):
                        up, down = measure_case(root, opts, kind, count, checkpoints, extra, rep)
                        ups.append(up)
                        downs.append(down)
                    for phase, runs in (("up", ups), ("destroy", downs)):
                        row = {"suite": opts.label, "size": size, "kind": kind, "count": count,
                               "checkpoints": checkpoints, "phase": phase, "reps": opts.reps,
                               "parallel": opts.parallel or "default", **median_of(runs)}
                        rows.append(row)
                        print_row(row, header=len(rows) == 1)
                        if opts.json:
                            with open(opts.json, "a") as out:
                                out.write(json.dumps(row) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summarize(rows)


COLUMNS = [("suite", "{:<6}"), ("size", "{:>5}"), ("checkpoints", "{:<4}"), ("kind", "{:<6}"),
           ("count", "{:>5}"), ("phase", "{:<7}"), ("wall_s", "{:>7.2f}"),
           ("provider_cpu_s", "{:>8.3f}"), ("provider_rss_mib", "{:>7.1f}"),
           ("engine_cpu_s", "{:>8.2f}"), ("program_cpu_s", "{:>8.2f}"), ("backend_cpu_s", "{:>8.2f}")]
HEADERS = {"checkpoints": "ckpt", "wall_s": "wall s", "provider_cpu_s": "prov cpu",
           "provider_rss_mib": "rss MiB", "engine_cpu_s": "eng cpu", "program_cpu_s": "prog cpu",
           "backend_cpu_s": "back cpu"}


def print_row(row, header):
    if header:
        print(" ".join(f"{HEADERS.get(k, k):>{len(fmt.format(row[k]))}}" for k, fmt in COLUMNS))
    print(" ".join(fmt.format(row[k]) for k, fmt in COLUMNS), flush=True)


# The reference programs a summary line compares with, when the run has them: the empty program
# is reported as a plain figure, the floors as a difference.
FLOORS = ("empty", "floor", "keys")


def summarize(rows):
    """Per size and checkpoint mode: each program's wall time against the floor, and per-resource
    provider CPU; the provider's and the backend's share of the wall time."""
    print()
    by = {(r["size"], r["checkpoints"], r["phase"], r["kind"]): r for r in rows}
    for (size, ckpt, phase, kind), r in sorted(by.items(), key=lambda kv: kv[0][:3]):
        if kind in FLOORS or r["count"] == 0:
            continue
        parts = [f"{r['suite']} {phase} N={r['count']} checkpoints {ckpt}: {kind} {r['wall_s']:.2f} s"]
        for name in FLOORS[1:]:
            floor = by.get((size, ckpt, phase, name))
            if floor:
                parts.append(f"{name} {floor['wall_s']:.2f} s "
                             f"({(r['wall_s'] / floor['wall_s'] - 1) * 100:+.0f}%)")
        empty = by.get((size, ckpt, phase, "empty"))
        if empty:
            parts.append(f"empty program {empty['wall_s']:.2f} s")
        parts.append(f"program CPU {r['program_cpu_s']:.2f} s")
        parts.append(f"provider {r['provider_cpu_s'] / r['count'] * 1000:.2f} ms CPU/resource")
        parts.append(f"provider CPU {r['provider_cpu_s'] / r['wall_s'] * 100:.0f}% of wall")
        if r["backend_cpu_s"] > 0:
            parts.append(f"backend CPU {r['backend_cpu_s'] / r['wall_s'] * 100:.0f}% of wall")
        parts.append(f"peak RSS {r['provider_rss_mib']:.1f} MiB")
        print("; ".join(parts))


if __name__ == "__main__":
    main()
