#!/usr/bin/env python3
# report.py — collect the benchmark figures and write the results table.
#
#   report.py ratio ROWS --json F --sqlmig NAME --baseline NAME
#             --figure TEXT --n N --mode MODE --goal le:X|ge:X [--note TEXT]
#       one comparison from a hyperfine --export-json file: the commands named
#       NAME (hyperfine --command-name). The ratio is sqlmig / baseline
#       (medians); le:X passes when ratio <= X; ge:X when the sqlmig side is at
#       least X times faster (baseline / sqlmig >= X). With --info the goal does
#       not apply to this row: the result is shown as "(pass)" or "(miss)".
#   report.py value ROWS --figure TEXT --n N --mode MODE --goal le:X
#             (--value V --unit U | --json F --sqlmig NAME) [--note TEXT]
#       an absolute figure: a number (bytes, allocations) or the median time of
#       one hyperfine command, against a bound; --error TEXT: it could not be
#       measured (a miss).
#   report.py markdown ROWS OUT.md   (OUT.md '-': standard output)
#       the table: goal, N, journal mode, sqlmig median, baseline median,
#       ratio, spread (min–max of each side, and the standard deviation),
#       runs, CPU ratio (user + system time, means: what the work costs
#       without the waits for the disk, which are most of the noise), pass/miss.
#
# ROWS is a file of JSON lines that the first two commands append to.
# Python 3, standard library only.

import argparse
import json
import re
import sys


def stats(path, name):
    with open(path) as f:
        results = json.load(f)["results"]
    for r in results:
        if r["command"] == name:
            t = r["times"]
            return {"median": r["median"], "min": r["min"], "max": r["max"],
                    "stddev": r.get("stddev") or 0.0, "runs": len(t),
                    "cpu": r["user"] + r["system"]}
    sys.exit("report.py: no command named %r in %s" % (name, path))


def secs(t):
    if t >= 1:
        return "%.2f s" % t
    if t >= 0.01:
        return "%.1f ms" % (t * 1e3)
    return "%.2f ms" % (t * 1e3)


def spread(s):
    return "%s–%s (σ %s)" % (secs(s["min"]), secs(s["max"]), secs(s["stddev"]))


def goal_text(goal, kind):
    op, x = goal.split(":")
    if kind == "ratio":
        return ("≤ %sx" % x) if op == "le" else ("≥ %sx faster" % x)
    return "≤ %s" % x


def judge(goal, value):
    op, x = goal.split(":")
    return value <= float(x) if op == "le" else value >= float(x)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["ratio", "value", "markdown"])
    ap.add_argument("rows")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--json")
    ap.add_argument("--sqlmig")
    ap.add_argument("--baseline")
    ap.add_argument("--figure")
    ap.add_argument("--n", default="")
    ap.add_argument("--mode", default="")
    ap.add_argument("--goal")
    ap.add_argument("--value", type=float)
    ap.add_argument("--unit", default="")
    ap.add_argument("--note", default="")
    ap.add_argument("--error", help="the figure could not be measured: why")
    ap.add_argument("--info", action="store_true", help="show pass/miss as information only")
    a = ap.parse_args(argv)

    if a.cmd == "markdown":
        return markdown(a.rows, a.out)
    row = {"figure": a.figure, "n": a.n, "mode": a.mode, "goal": a.goal, "kind": a.cmd,
           "note": a.note, "info": a.info}
    if a.cmd == "ratio":
        s, b = stats(a.json, a.sqlmig), stats(a.json, a.baseline)
        ratio = s["median"] / b["median"]
        op = a.goal.split(":")[0]
        row.update(sqlmig=s, baseline=b, ratio=ratio,
                   ok=judge(a.goal, ratio if op == "le" else 1 / ratio))
    else:
        if a.error:
            row.update(value=None, unit="", error=a.error)
        elif a.json:
            s = stats(a.json, a.sqlmig)
            row.update(sqlmig=s, value=s["median"], unit="s")
        else:
            row.update(value=a.value, unit=a.unit)
        row["ok"] = row["value"] is not None and judge(a.goal, row["value"])
    with open(a.rows, "a") as f:
        f.write(json.dumps(row) + "\n")
    return 0


def short(note):
    """The tool's reason for embedding no snapshot, in a few words."""
    m = re.search(r"no snapshot: the snapshot would take ([0-9]+) bytes, more than the ([0-9]+)", note)
    if m:
        return "no snapshot: it would take %s bytes, over the default limit of %s" % m.groups()
    return note


def result(r):
    if r.get("info"):
        return "(%s)" % ("pass" if r["ok"] else "miss")
    return "pass" if r["ok"] else "**miss**"


def markdown(rows_path, out):
    rows = [json.loads(line) for line in open(rows_path) if line.strip()]
    # By figure, then size, then journal mode; otherwise in the order measured.
    modes = {"memory": 0, "rollback": 1, "wal": 2, "": 3}
    rows.sort(key=lambda r: (r["figure"].split()[0], int(r["n"] or 0), modes.get(r["mode"], 4)))
    lines = ["| figure | goal | N | journal | sqlmig median | baseline median | ratio "
             "| spread: sqlmig; baseline (min–max, σ) | runs | CPU ratio | result |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["kind"] == "ratio":
            s, b = r["sqlmig"], r["baseline"]
            ratio = "%.2fx" % r["ratio"]
            if r["goal"].startswith("ge"):
                ratio += " (speedup %.2fx)" % (1 / r["ratio"])
            cells = [secs(s["median"]), secs(b["median"]), ratio,
                     "%s; %s" % (spread(s), spread(b)),
                     str(s["runs"]) if s["runs"] == b["runs"] else "%d / %d" % (s["runs"], b["runs"]),
                     "%.2fx" % (s["cpu"] / b["cpu"]) if s.get("cpu") and b.get("cpu") else "—"]
        elif r.get("error"):
            cells = ["not measured: " + r["error"], "—", "—", "—", "—", "—"]
        elif r["unit"] == "s":
            s = r["sqlmig"]
            cells = [secs(s["median"]), "—", "—", spread(s), str(s["runs"]), "—"]
        else:
            v = r["value"]
            cells = ["%g %s" % (v, r["unit"]), "—", "—", "—", "—", "—"]
        figure = r["figure"] + (" (%s)" % short(r["note"]) if r["note"] else "")
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            figure, goal_text(r["goal"], r["kind"]), r["n"] or "—", r["mode"] or "—",
            " | ".join(cells), result(r)))
    text = "\n".join(lines) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        with open(out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
