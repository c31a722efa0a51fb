"""Renders `osp report` output for synthetic runs (fresh random curves each time) in headless
Chromium and checks the screenshot is not blank, that dark mode is dark, and that every section
and every run is in the page. Skips only when the `chromium` binary is not installed."""
import html
import json
import os
import random
import shutil
import subprocess

import numpy as np
import pytest

from png_pixels import read_png

SECTIONS = ["Loss curves", "Outlier watch during training", "Per-layer kurtosis",
            "Last-layer channel max |activation|", "Quantization",
            "Paper numbers (Park et al. 2025), for orientation only", "Commands and configs", "Input notes"]


@pytest.fixture
def rng(request):
    seed = int(os.environ.get("OSP_TEST_SEED", random.randrange(1 << 31)))
    print(f"{request.node.name}: seed {seed} (replay with OSP_TEST_SEED={seed})")
    return np.random.default_rng(seed)


def write_run(folder, rng, name, recipe, outlier_scale, layers=6, width=64, steps=200):
    """A run folder like the trainer and `osp eval` write: loss decays with noise, kurtosis grows
    with `outlier_scale`, one outlier channel in the last hidden state."""
    folder.mkdir(parents=True)
    groups, norm, emb_proj = recipe
    config = {"model": {"layers": layers, "hidden": width, "norm": norm, "emb_proj": emb_proj},
              "optim": {"groups": groups, "adamw": {"lr": float(rng.uniform(1e-3, 1e-2))}},
              "data": {"seq": 128}, "train": {"steps": steps, "seed": int(rng.integers(1 << 30))},
              "eval": {"kurtosis_every": 20}}
    (folder / "config.json").write_text(json.dumps(config))
    lines = []
    floor = rng.uniform(2.5, 3.5)
    for step in range(1, steps + 1):
        rec = {"step": step, "loss": floor + 7 * np.exp(-step / rng.uniform(20, 40)) + rng.normal(0, 0.05),
               "lr": 1e-3, "grad_norm": float(rng.uniform(0.2, 2)), "tokens_per_s": 5000.0}
        if step % 50 == 0:
            rec["val_loss"] = rec["loss"] + 0.1
        if step % 20 == 0:
            rec["kurtosis"] = float(outlier_scale * step / steps * rng.uniform(0.8, 1.2) + rng.uniform(0, 0.1))
            rec["max_act_ratio"] = float(4 + outlier_scale ** 0.5 * step / steps * rng.uniform(1, 3))
        lines.append(json.dumps(rec))
    (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    channels = np.abs(rng.normal(1, 0.2, width))
    outlier = int(rng.integers(width))
    channels[outlier] *= 1 + outlier_scale
    ppl = float(rng.uniform(20, 30))
    evaluation = {"name": name, "command": f"osp eval {folder} --kurtosis-protocol token",
                  "ppl_fp": ppl, "ppl_w4a4kv4_rtn": ppl * (1 + outlier_scale / 10), "ppl_w4a4kv4_ffn_had": ppl * 1.05,
                  "kurtosis_token": outlier_scale, "kurtosis_sequence": outlier_scale * 1.3,
                  "max_act_ratio": float(channels.max() / np.sqrt((channels ** 2).mean())), "max_act_channel": outlier,
                  "per_state_kurtosis": [float(outlier_scale * rng.uniform(0.2, 1.5)) for _ in range(layers + 1)],
                  "last_state_channel_max": channels.tolist()}
    (folder / "eval.json").write_text(json.dumps(evaluation))


def make_report(osp_bin, tmp_path, rng):
    runs = tmp_path / "runs"
    write_run(runs / "adam", rng, "adam", ("adam", "rms", False), outlier_scale=float(rng.uniform(50, 500)))
    write_run(runs / "osp", rng, "osp", ("muon", "ssnorm", True), outlier_scale=float(rng.uniform(0.05, 0.5)))
    broken = runs / "broken"  # no config, a torn metrics line, no eval.json
    broken.mkdir()
    (broken / "metrics.jsonl").write_text('{"step": 1, "loss": 9.5}\n{"step": 2, "lo\n{"step": 3, "loss": 9.1}\n')
    out = tmp_path / "report.html"
    result = subprocess.run([osp_bin, "report", str(runs / "adam"), str(runs / "osp"), str(broken),
                             "--out", str(out), "--title", "Adam <vs> OSP"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out, result.stderr


def screenshot(page, png, dark=False):
    args = [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--screenshot={png}", "--window-size=1200,3000"]
    if dark:
        args.append("--force-dark-mode")  # makes prefers-color-scheme: dark match
    subprocess.run(args + [page.as_uri()], capture_output=True, timeout=60, check=True)
    return read_png(png).astype(np.float64)


def test_report_has_every_section_and_run(osp_bin, tmp_path, rng):
    page, stderr = make_report(osp_bin, tmp_path, rng)
    text = page.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert html.escape(title, quote=True).replace("&#x27;", "&#39;") in text, title
    for name in ("adam", "osp", "broken", "Adam &lt;vs&gt; OSP"):
        assert name in text
    assert "<script" not in text and "https://" not in text and " src=" not in text  # self-contained
    assert text.count("<svg") >= 5  # loss, kurtosis, max-act, per-layer bars, heat strip
    assert "1818.56" in text and "NOT OUR MEASUREMENTS" in text
    # The broken run's problems are one line each, naming the file, on stderr and in the page.
    assert "broken/config.json: missing" in stderr
    assert "broken/metrics.jsonl: line 2: not valid JSON (1 malformed line skipped)" in stderr
    assert "broken/metrics.jsonl: line 2" in text


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (apt-get install chromium; scripts/setup installs it)")
def test_report_renders_non_blank_in_light_and_dark(osp_bin, tmp_path, rng):
    page, _ = make_report(osp_bin, tmp_path, rng)
    light = screenshot(page, tmp_path / "light.png")
    assert light.shape[0] == 3000 and light.shape[1] == 1200
    grey = light[..., :3].mean(axis=2)
    assert grey.std() > 10, f"the screenshot looks blank (pixel std {grey.std():.2f})"
    assert (np.abs(grey - np.median(grey)) > 30).mean() > 0.01  # charts and text, not a few stray pixels
    colourful = (light[..., :3].max(axis=2) - light[..., :3].min(axis=2)) > 60
    assert colourful.mean() > 0.001, "no coloured series or heat cells were drawn"
    dark = screenshot(page, tmp_path / "dark.png", dark=True)
    dark_grey = dark[..., :3].mean(axis=2)
    assert np.median(grey) > 200 and np.median(dark_grey) < 60, "light/dark backgrounds did not follow the theme"
    assert dark_grey.std() > 10


def test_missing_run_folder_fails_naming_it(osp_bin, tmp_path):
    result = subprocess.run([osp_bin, "report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{tmp_path / 'nope'}: not a directory" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_names_form_a_scale_trend_and_sections_select(osp_bin, tmp_path, rng):
    """Two runs named alike at two widths give the scale section, and --sections renders only what
    it names; a wrong count of names or an unknown section is refused before anything is written."""
    runs = tmp_path / "runs"
    widths = sorted(int(w) for w in rng.choice(np.arange(32, 512, 32), size=2, replace=False))
    for i, width in enumerate(widths):
        write_run(runs / f"w{width}", rng, f"eval-name-{i}", ("adam", "rms", False),
                  outlier_scale=float(rng.uniform(1, 50)), width=width)
    dirs = [str(runs / f"w{w}") for w in widths]
    out = tmp_path / "scale.html"
    result = subprocess.run([osp_bin, "report", *dirs, "--names", "adam,adam", "--sections", "scale",
                             "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "Scale trend" in text and text.count("<svg") == 4
    assert "Loss curves" not in text and "Commands and configs" not in text
    for w in widths:
        evaluation = json.loads((runs / f"w{w}" / "eval.json").read_text())
        delta = 100 * (evaluation["ppl_w4a4kv4_rtn"] / evaluation["ppl_fp"] - 1)
        assert f"<td class=\"num\">{w}</td>" in text
        assert f"+{delta:.3g}%" in text or f"+{delta:.4g}%" in text, delta
    # Without the shared name the two runs are two one-point series: no trend.
    result = subprocess.run([osp_bin, "report", *dirs, "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0 and "Scale trend" not in out.read_text(encoding="utf-8")
    out.unlink()
    for bad, message in ((["--names", "adam"], "--names has 1 name for 2 run folders"),
                         (["--sections", "scale,nope"], "unknown section 'nope'")):
        result = subprocess.run([osp_bin, "report", *dirs, *bad, "--out", str(out)], capture_output=True, text=True)
        assert result.returncode == 2 and message in result.stderr
        assert not out.exists()
