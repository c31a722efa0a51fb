"""`osp demo` twice, seeds 0 and 1, at a short budget: the table is the run's own and both
seeds order Adam and OSP the same way (the demo issue's reproducibility requirement).

120 steps are enough for the ordering: Adam's hidden states have kurtosis ~2-3 by then, OSP's
stay at the Gaussian floor (docs/results.md). The W4A4KV4 degradation is not compared: at demo
scale its ordering depends on the training length (docs/results.md), so a seed test on it would
test the budget, not the seed.
"""
import json
import re
import subprocess

import pytest

STEPS = 120
# Columns whose ordering between adam and osp must not depend on the seed.
ORDERED = ["ppl_fp", "kurtosis_token", "kurtosis_sequence", "max_act_ratio"]


@pytest.fixture(scope="module")
def demo_runs(osp_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    data = root / "data"
    subprocess.run([osp_bin, "data", "prepare", "--out", str(data), "--quiet"], check=True,
                   capture_output=True, text=True)
    runs = {}
    for seed in (0, 1):
        out = root / f"seed{seed}"
        p = subprocess.run([osp_bin, "demo", "--steps", str(STEPS), "--seed", str(seed), "--out", str(out),
                            "--data", str(data)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr[-2000:]
        results = json.loads((out / "results.json").read_text())
        runs[seed] = (p.stdout, {r["name"]: r for r in results["runs"]}, results)
        assert (out / "report.html").stat().st_size > 10_000
    return runs


def table_rows(stdout):
    """variant -> the numbers of its table row, as printed."""
    rows = {}
    for line in stdout.splitlines():
        m = re.match(r"^(adam|osp)\s+([-+\d.%\s]+)$", line)
        if m and m.group(1) not in rows:  # the main table; the W/A/KV split follows it
            rows[m.group(1)] = [float(x.rstrip("%")) for x in m.group(2).split()]
    return rows


@pytest.mark.parametrize("seed", [0, 1])
def test_table_is_the_runs_own(demo_runs, seed):
    stdout, runs, results = demo_runs[seed]
    assert results["seed"] == seed and results["steps"] == STEPS
    rows = table_rows(stdout)
    assert set(rows) == {"adam", "osp"}
    for name, printed in rows.items():
        r = runs[name]
        fp, rtn, had = r["ppl_fp"], r["ppl_w4a4kv4_rtn"], r["ppl_w4a4kv4_ffn_had"]
        expected = [fp, rtn, 100 * (rtn / fp - 1), had, 100 * (had / fp - 1), r["kurtosis_token"],
                    r["kurtosis_sequence"], r["max_act_ratio"]]
        assert printed == pytest.approx(expected, rel=2e-3, abs=0.06), name


@pytest.mark.parametrize("seed", [0, 1])
def test_split_sites_and_continuations(demo_runs, seed):
    """eval.json splits the RTN error into W, A and KV alone, names the three costliest sites, and
    holds each model's continuation of the prompt at FP and at W4A4KV4."""
    stdout, runs, _ = demo_runs[seed]
    for name, r in runs.items():
        fp = r["ppl_fp"]
        for key in ("ppl_w4a16kv16", "ppl_w16a4kv16", "ppl_w16a16kv4"):
            assert r[key] > 0 and r[key] != fp, (name, key)
            assert f"{100 * (r[key] / fp - 1):.1f}%" in stdout, (name, key)
        costs = [s["cost"] for s in r["costliest_sites"]]
        assert len(costs) == 3 and costs == sorted(costs, reverse=True), name
        assert all(s["name"].startswith("model.layers.") for s in r["costliest_sites"]), name
        c = r["continuation"]
        assert c["prompt"] and c["fp"] and c["w4a4kv4"], name


def test_seeds_give_different_numbers(demo_runs):
    for name in ("adam", "osp"):
        a, b = demo_runs[0][1][name], demo_runs[1][1][name]
        assert a["ppl_fp"] != b["ppl_fp"] and a["kurtosis_token"] != b["kurtosis_token"], name


def test_seeds_give_the_same_ordering(demo_runs):
    for key in ORDERED:
        signs = {seed: demo_runs[seed][1]["adam"][key] > demo_runs[seed][1]["osp"][key] for seed in (0, 1)}
        assert signs[0] == signs[1], f"{key}: adam > osp is {signs[0]} for seed 0, {signs[1]} for seed 1"


def test_adam_grows_outliers_and_osp_does_not(demo_runs):
    for seed in (0, 1):
        runs = demo_runs[seed][1]
        for key in ("kurtosis_token", "kurtosis_sequence"):
            # OSP at the Gaussian floor (≈0.17 at D = 128), Adam several times above it (measured:
            # 1.0–4.8 against 0.08–0.13 at 120 steps for seeds 0 and 1).
            adam, osp = runs["adam"][key], runs["osp"][key]
            assert osp < 0.3 and adam > 4 * osp, (seed, key, adam, osp)
        assert runs["adam"]["max_act_ratio"] > runs["osp"]["max_act_ratio"], seed
