#!/usr/bin/env python3
"""What the nodes' metrics cost (docs/performance.md, issue 16): alternating
runs with geth's --metrics and the bench exporter on, or both off, each on
a fresh network (topologies/saturation.yaml renamed m16). Per run, the CPU
seconds of the sealer and the member (/proc/<pid>/stat) over a fixed-rate
round the chain takes whole (load.yaml), and the report's figures; one JSON
line per run on stdout and in <work>/runs.jsonl.

  M=<release medchain> GETH=<cached geth v1.13.15> run.py <runs> [<first>]

Work files go to $WORK (default /tmp/m16). Stops and purges each network
it started; runs nothing else.
"""
import json, os, shutil, subprocess, sys, time
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
M = os.environ["M"]
os.environ["GETH"]  # the wrappers exec it
WORK = os.environ.get("WORK", "/tmp/m16")
HOME = os.path.join(WORK, "home")
os.makedirs(WORK, exist_ok=True)
shutil.copy(os.path.join(HERE, "load.yaml"), WORK)
with open(os.path.join(ROOT, "topologies/saturation.yaml")) as f, open(os.path.join(WORK, "topo.yaml"), "w") as t:
    t.write(f.read().replace("network: saturation", "network: m16"))
os.environ["MEDCHAIN_HOME"] = HOME
os.environ["MEDCHAIN_RUNTIME"] = "process"
TICK = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def sh(*a):
    r = subprocess.run([M, *a], cwd=WORK, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        raise SystemExit(f"{a} exited {r.returncode}")
    return r.stdout

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
order = ["on", "off"]
out = open(os.path.join(WORK, "runs.jsonl"), "a")
for i in range(first, first + runs):
    mode = order[i % 2] if (i // 2) % 2 == 0 else order[1 - i % 2]  # on off off on on off ...
    wrapper = os.path.join(HERE, "geth-plain" if mode == "on" else "geth-nometrics")
    load0 = os.getloadavg()[0]
    sh("up", "-f", "topo.yaml", "--seed", str(100 + i), "-q", "--geth", wrapper)
    state = json.load(open(f"{HOME}/m16/state.json"))
    pids = state["pids"]
    cmdlines = {n: open(f"/proc/{p}/cmdline").read().replace("\0", " ") for n, p in pids.items()}
    metrics_flags = sum(" --metrics " in c + " " for c in cmdlines.values())
    before = {n: cpu(p) for n, p in pids.items()}
    args = ["--network", "m16", "bench", "load.yaml", "--json", f"r{i}.json", "-q"]
    if mode == "off":
        args.append("--no-metrics")
    t0 = time.time()
    sh(*args)
    wall = time.time() - t0
    after = {n: cpu(p) for n, p in pids.items()}
    rep = json.load(open(os.path.join(WORK, f"r{i}.json")))
    rd = rep["rounds"][0]
    succ = rd["succ"]
    node_cpu = {n: after[n] - before[n] for n in pids}
    row = dict(run=i + 1, mode=mode, load=round(load0, 2), succ=succ, fail=rd["fail"],
               metrics_flags=metrics_flags, wall_s=round(wall, 1),
               node_cpu_s={n: round(v, 2) for n, v in node_cpu.items()},
               nodes_us_per_tx=round(sum(node_cpu.values()) / max(succ, 1) * 1e6, 1),
               driver_us_per_tx=rd.get("driver_cpu_per_tx_us"),
               throughput=rd.get("throughput_tps"), send=rd.get("send_rate_tps"))
    print(json.dumps(row), flush=True)
    out.write(json.dumps(row) + "\n"); out.flush()
    sh("--network", "m16", "down", "--purge")
