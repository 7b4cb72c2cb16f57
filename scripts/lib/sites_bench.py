"""Site discovery on the shaped-WAN testbed (issue 17): see scripts/bench-sites for usage.

2 sites x 3 hosts, every agent with `site: auto` and a roaming certificate (`ca issue --site auto`),
no site names anywhere. Measures: the site names the agents found (each site one name, the two
different); WAN bytes into each site for a rollout (bound: 1.02 x size); a host moved from site 2
to site 1 (its veth re-plumbed to site 1's bridge, new address and default route): how long until
the seed lists it in site 1's name, and the WAN bytes per site of a second rollout after the move.
Reuses scripts/lib/bench.py's Run (processes, testbed, counters, identities).
"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

SITES, HOSTS = 2, 3
MOVER = (2, 3)  # moves to site 1
MOVED_IP = "10.101.0.20"


def status(run, token):
    r = run.sh(["curl", "-sf", "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:7701/api/v1/status"],
               ns=f"{B.NS}-dc", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def agent_sites(run, token):
    """Alive agents at the seed: {advertised ip: (node id, site)}."""
    out = {}
    for m in status(run, token).get("members", []):
        if m.get("state") != "alive" or "seed" in m.get("roles", []):
            continue
        for a in m.get("addresses", []):
            out[a.rsplit(":", 1)[0].lstrip("/")] = (m["id"], m["site"])
    return out


def rollout(run, token, agents, version, size, seed):
    src = os.path.join(run.work, f"v{version}")
    os.makedirs(src, exist_ok=True)
    fname = f"patch{version}.bin"  # a new name: its appearance says v{version} is applied
    B.make_patch(os.path.join(src, fname), size, seed=seed)
    t0, times, before, after, pub, ro, pub_s = B.pm_rollout(run, SITES, agents, "http://127.0.0.1:7701", token, src, version,
                                                            fname=fname)
    # as bench wan: Ethernet frames into the site, and their TCP payload (frames less 66 header bytes each)
    wan = {s: after[s][0] - before[s][0] for s in range(1, SITES + 1)}
    payload = {s: wan[s] - B.HDR * (after[s][1] - before[s][1]) for s in range(1, SITES + 1)}
    return {"version": version, "size": size, "chunks": pub["chunks"], "publish_s": round(pub_s, 1),
            "completion_s": {f"s{s}-h{h}": round(t, 1) for (s, h, _), t in times.items()},
            "wan_rx_bytes": {f"s{s}": wan[s] for s in wan},
            "wan_frames_ratio": {f"s{s}": round(wan[s] / size, 4) for s in wan},
            "wan_ratio": {f"s{s}": round(payload[s] / size, 4) for s in wan}}


def move(run, s_from, h, s_to, ip):
    """Re-plumbs host (s_from, h): its veth leaves site s_from's bridge; a new one joins site s_to's."""
    ns = B.host_ns(s_from, h)
    run.sh(["ip", "-n", f"{B.NS}-r{s_from}", "link", "del", f"h{h}"])
    run.sh(["ip", "link", "add", f"m{h}", "netns", f"{B.NS}-r{s_to}", "type", "veth", "peer", "name", "eth0", "netns", ns])
    run.sh(["ip", "-n", f"{B.NS}-r{s_to}", "link", "set", f"m{h}", "master", "br0"])
    run.sh(["ip", "-n", f"{B.NS}-r{s_to}", "link", "set", f"m{h}", "up"])
    run.sh(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
    run.sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
    run.sh(["ip", "-n", ns, "route", "add", "default", "via", f"10.{100 + s_to}.0.1"])
    run.sh(["ping", "-c1", "-W2", f"10.{100 + s_to}.0.1"], ns=ns, check=False)  # the new router's MAC in ARP


def bench_sites(run):
    a = run.args
    size = B.parse_size(a.size)
    w = run.work
    run.testbed(SITES, HOSTS)
    for s in range(1, SITES + 1):
        # a Linux bridge takes the lowest MAC of its ports: pin it, or plumbing a host in would change
        # the "router's" MAC (and so the site's name), which a real router never does
        r = f"{B.NS}-r{s}"
        mac = run.sh(["cat", "/sys/class/net/br0/address"], ns=r).stdout.strip()
        run.sh(["ip", "-n", r, "link", "set", "br0", "address", mac])
    names = [("seed", "dc")] + [(f"s{s}-h{h}", "auto") for s in range(1, SITES + 1) for h in range(1, HOSTS + 1)]
    B.log(f"sites: keys, trust root, CA, a seed certificate and {len(names) - 1} roaming agent certificates")
    run.pm_identities(names)
    seed = run.bg("pm-seed", [B.PM, "seed", "--data", f"{w}/pm/seed", "--trust", f"{w}/keys/root.pb",
                              "--listen", f"{B.DC_IP}:7700", "--site", "dc", "--admin", "127.0.0.1:7701",
                              "--tls", f"{w}/tls/seed"], ns=f"{B.NS}-dc")
    token = run.pm_seed_token(seed, f"{w}/pm/seed")
    agents = {}
    for s in range(1, SITES + 1):
        for h in range(1, HOSTS + 1):
            n = f"s{s}-h{h}"
            # the gateway's MAC is in the ARP table on any used LAN; a fresh namespace needs one packet
            run.sh(["ping", "-c1", "-W2", f"10.{100 + s}.0.1"], ns=B.host_ns(s, h), check=False)
            cfg = f"{w}/pm/{n}.yaml"
            os.makedirs(os.path.dirname(cfg), exist_ok=True)
            with open(cfg, "w") as f:
                f.write("site: auto\nlisten: 0.0.0.0:7700\n")  # no site names, no advertised address
            apply_dir = f"{w}/pm/apply/{n}"
            p = run.bg(f"pm-{n}", [B.PM, "agent", "--config", cfg, "--data", f"{w}/pm/{n}", "--trust", f"{w}/keys/root.pb",
                                   "--join", f"{B.DC_IP}:7700", "--apply-dir", apply_dir, "--tls", f"{w}/tls/{n}"],
                       ns=B.host_ns(s, h))
            agents[(s, h, 1)] = (p, apply_dir)
    deadline = time.time() + 300
    while len(agent_sites(run, token)) < SITES * HOSTS:
        dead = [p.bench_name for p, _ in agents.values() if p.poll() is not None]
        if dead:
            raise B.BenchError(f"agents exited: {', '.join(dead)} (see logs/)")
        if time.time() > deadline:
            raise B.BenchError(f"only {len(agent_sites(run, token))}/{SITES * HOSTS} agents alive after 300 s")
        time.sleep(1)
    found = agent_sites(run, token)
    site_of = {s: {found[B.host_ip(s, h)][1] for h in range(1, HOSTS + 1)} for s in range(1, SITES + 1)}
    B.log(f"sites found: {site_of}")
    ok_names = all(len(v) == 1 for v in site_of.values()) and len(set.union(*site_of.values())) == SITES
    name = {s: next(iter(site_of[s])) for s in site_of}
    results = {"load_before": os.getloadavg(), "sites_found": {f"s{s}": sorted(v) for s, v in site_of.items()},
               "each_site_one_name_and_distinct": ok_names}
    if not ok_names:
        raise B.BenchError(f"the agents did not agree per site: {site_of}")

    results["v1"] = rollout(run, token, agents, 1, size, 42)
    B.log(f"v1 WAN/size per site: {results['v1']['wan_ratio']}")

    mover_id = found[B.host_ip(*MOVER)][0]
    t_move = time.time()
    move(run, MOVER[0], MOVER[1], 1, MOVED_IP)
    deadline = t_move + 180
    while True:
        now = {ip: v for ip, v in agent_sites(run, token).items() if v[0] == mover_id}
        if any(site == name[1] for _, site in now.values()):
            break
        if time.time() > deadline:
            raise B.BenchError(f"the moved host is not in site 1's name {name[1]} after 180 s: {now}")
        time.sleep(0.5)
    results["move_rejoin_s"] = round(time.time() - t_move, 1)
    B.log(f"moved host s{MOVER[0]}-h{MOVER[1]} listed in {name[1]} after {results['move_rejoin_s']} s")
    with open(os.path.join(run.out, "logs", f"pm-s{MOVER[0]}-h{MOVER[1]}.log")) as f:
        results["mover_log"] = [line.strip() for line in f if "site discovery" in line or "(discovered)" in line][-6:]

    results["v2_after_move"] = rollout(run, token, agents, 2, size, 43)
    B.log(f"v2 (after the move) WAN/size per site: {results['v2_after_move']['wan_ratio']}")
    results["load_after"] = os.getloadavg()
    with open(os.path.join(run.out, "sites.json"), "w") as f:
        json.dump(results, f, indent=1)
    md = [f"# Site discovery: {SITES} sites x {HOSTS} hosts, site: auto, {a.size}, down {a.down} up {a.up} rtt {a.rtt}", "",
          f"- sites found: {results['sites_found']} (one name per site, distinct: {ok_names})",
          f"- v1 WAN payload / size per site: {results['v1']['wan_ratio']} (bound 1.02); Ethernet frames / size: "
          f"{results['v1']['wan_frames_ratio']}",
          f"- host s{MOVER[0]}-h{MOVER[1]} moved to site 1: listed in site 1's name after {results['move_rejoin_s']} s",
          f"- v2 after the move, WAN payload / size per site: {results['v2_after_move']['wan_ratio']}; frames / size: "
          f"{results['v2_after_move']['wan_frames_ratio']}",
          f"- load average before {tuple(round(x, 2) for x in results['load_before'])}, after "
          f"{tuple(round(x, 2) for x in results['load_after'])}", ""]
    with open(os.path.join(run.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))
    bad = [s for r in ("v1", "v2_after_move") for s, x in results[r]["wan_ratio"].items() if x > 1.02]
    if bad:
        raise B.BenchError(f"WAN bytes over 1.02 x size in {bad} (see {run.out}/sites.json)")


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench-sites")
    ap.add_argument("--size", default="32MB")
    ap.add_argument("--down", default="20mbit")
    ap.add_argument("--up", default="10mbit")
    ap.add_argument("--rtt", default="40ms")
    ap.add_argument("--loss", default="0")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per rollout")
    ap.add_argument("--out")
    try:
        args = ap.parse_args()
        B.parse_size(args.size)
    except SystemExit as e:
        raise SystemExit(2 if e.code else 0)
    except (ValueError, B.BenchError):
        print("bench-sites: bad --size", file=sys.stderr)
        raise SystemExit(2)
    run = B.Run(args, "sites")

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        bench_sites(run)
        B.shutil.rmtree(run.work, ignore_errors=True)
    except B.BenchError as e:
        print(f"bench-sites: {e}", file=sys.stderr)
        print(f"bench-sites: logs in {run.out}/logs", file=sys.stderr)
        raise SystemExit(1)
    except KeyboardInterrupt:
        print("bench-sites: interrupted; tearing the testbed down", file=sys.stderr)
        raise SystemExit(130)
    finally:
        run.close()


if __name__ == "__main__":
    main()
