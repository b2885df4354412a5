#!/usr/bin/python3
"""The workbench end to end, driven like a user: real clicks and keys (xdotool) on the real window
under Xvfb, screenshots (ImageMagick `import`) checked for content. The application reports where
its widgets are and what it is doing through MBOLD_TEST_STATE (a JSON file it rewrites).

Usage (meson runs it under xvfb-run): test_workbench.py MBOLD ARTEFACT_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

MBOLD, ARTEFACTS = sys.argv[1], sys.argv[2]
os.makedirs(ARTEFACTS, exist_ok=True)
WORK = tempfile.mkdtemp(prefix="mbold-gui-")
STATE = os.path.join(WORK, "state.json")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait_for(pred, what, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = state()
        if s is not None and pred(s):
            return s
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)
    return state() or {}


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=False)


def window_origin():
    out = subprocess.run(["xdotool", "search", "--sync", "--name", "MBOLD Workbench"],
                         capture_output=True, text=True, timeout=60).stdout.split()
    wid = out[0]
    geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid], capture_output=True,
                         text=True).stdout
    vals = dict(line.split("=") for line in geo.split() if "=" in line)
    return wid, int(vals["X"]), int(vals["Y"])


def close_dialogs(main_wid):
    """Presses Return in every other visible window of the application (message dialogs)."""
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "mbold"],
                         capture_output=True, text=True).stdout.split()
    for wid in out:
        if wid != main_wid:
            xdo("windowfocus", "--sync", wid)
            xdo("key", "--window", wid, "Return")
    time.sleep(0.5)
    xdo("windowfocus", "--sync", main_wid)


def click(name, origin, button=1):
    s = state()
    r = s["widgets"].get(name)
    if not check(r is not None, "widget %s is on screen" % name):
        return
    x, y = origin[1] + r[0] + r[2] / 2, origin[2] + r[1] + r[3] / 2
    xdo("mousemove", int(x), int(y))
    time.sleep(0.1)
    xdo("click", button)


def screenshot(name):
    path = os.path.join(ARTEFACTS, name + ".png")
    subprocess.run(["import", "-window", "root", path], check=True)
    return path


def region_stddev(path, rect, origin, name):
    """Standard deviation of a screen region's pixels (0 = a flat colour), and the crop saved."""
    x, y, w, h = (int(v) for v in rect)
    crop = os.path.join(ARTEFACTS, name + ".png")
    geometry = "%dx%d+%d+%d" % (w, h, origin[1] + x, origin[2] + y)
    subprocess.run(["convert", path, "-crop", geometry, "+repage", crop], check=True)
    out = subprocess.run(["convert", crop, "-colorspace", "gray", "-format",
                          "%[fx:standard_deviation] %[fx:w*h]", "info:"],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), crop


def main():
    env = dict(os.environ, MBOLD_TEST_STATE=STATE, NO_AT_BRIDGE="1", GDK_BACKEND="x11")
    bad_png = os.path.join(WORK, "bad-goal.png")
    subprocess.run(["convert", "-size", "16x16", "xc:red", bad_png], check=True)
    app = subprocess.Popen([MBOLD, "--task", "push1", "--stats"], cwd=WORK, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        s = wait_for(lambda s: s["goals"] >= 12 and "thumb2" in s["widgets"], "the goal gallery")
        origin = window_origin()
        time.sleep(1)

        # Pick a goal by clicking its thumbnail.
        click("thumb2", origin)
        wait_for(lambda s: s["current_goal"] == 2, "goal 2 to be picked")

        # One replan with oracle dynamics and the pixel cost (key n).
        xdo("key", "n")
        s = wait_for(lambda s: s["replans"] >= 1 and s["step"] >= 6 and not s["planning"]
                     and s["filmstrip_groups"] == 3, "a replan and its 6 actions", timeout=240)
        check(s.get("step") == 6, "one replan executed 6 actions (step %s)" % s.get("step"))
        time.sleep(1)
        shot = screenshot("after-replan")
        sd, crop = region_stddev(shot, s["widgets"]["filmstrip"], origin, "candidates")
        check(sd > 0.05, "the candidate filmstrip shows images (stddev %.3f, %s)" % (sd, crop))
        sd, crop = region_stddev(shot, s["widgets"]["scene"], origin, "scene")
        check(sd > 0.05, "the scene view shows the scene (stddev %.3f)" % sd)

        # The distance heatmap for the current goal (key h): 16 x 16 cells, pixel l2.
        xdo("key", "h")
        s = wait_for(lambda s: s["heatmap_cells"] >= 256, "the heatmap", timeout=240)
        time.sleep(1.5)
        shot = screenshot("heatmap")
        s = state()
        sd, crop = region_stddev(shot, s["widgets"]["heatmaps"], origin, "heatmap-region")
        check(sd > 0.05, "the heatmap shows a map (stddev %.3f, %s)" % (sd, crop))

        # A goal image of the wrong size is a clear message, not a crash.
        errors = s["errors_shown"]
        xdo("key", "ctrl+o")
        time.sleep(2.5)
        xdo("type", "--delay", "20", bad_png)
        time.sleep(0.5)
        xdo("key", "Return")
        s = wait_for(lambda s: s["errors_shown"] > errors, "the bad-PNG message", timeout=60)
        msg = s.get("last_error", "")
        check("64" in msg and "16" in msg, "the message names the size: %r" % msg)
        screenshot("bad-png-message")
        close_dialogs(origin[0])
        time.sleep(1)

        # Clicking a tab does not take the keyboard focus: space still runs the episode.
        click("tab1", origin)
        time.sleep(0.5)
        xdo("key", "space")
        s = wait_for(lambda s: s["running"] or s["replans"] >= 2, "space to run the episode")
        check(s["running"] or s["replans"] >= 2, "space after a tab click ran the episode")
        xdo("key", "space")
        wait_for(lambda s: not s["running"], "space to pause", timeout=240)

        # Demo mode (key d) cycles through the goals by itself; any key stops it.
        xdo("key", "d")
        s = wait_for(lambda s: s["demo"] and s["planning"], "the demo to start planning")
        xdo("key", "shift")
        s = wait_for(lambda s: not s["demo"], "any key to stop the demo", timeout=60)
        check(not s["demo"], "a key press stopped the demo")

        # Start a collection job from the Training tab and cancel it.
        click("tab3", origin)
        s = wait_for(lambda s: "collect_start" in s["widgets"], "the training forms")
        before = s
        # Typing in a form must not trigger the window's one-key shortcuts (n, r, a, h, d, space).
        click("collect_out", origin)
        xdo("key", "ctrl+a")
        xdo("type", "--delay", "20", "data/hand run.h5")
        click("collect_episodes", origin)
        xdo("key", "ctrl+a")
        xdo("type", "--delay", "20", "100000")
        xdo("key", "Tab")
        time.sleep(1)
        s = state()
        check(s["replans"] == before["replans"] and not s["planning"] and not s["demo"] and
              s["agent_view"] == before["agent_view"] and
              s["heatmap_cells"] == before["heatmap_cells"] and s["tab"] == 3,
              "typing in the forms triggered no shortcut (a, n, d, h, r, space): %s" %
              {k: (before.get(k), s.get(k)) for k in
               ("replans", "planning", "demo", "agent_view", "heatmap_cells", "tab")})
        click("collect_start", origin)
        s = wait_for(lambda s: s["jobs"] and s["jobs"][-1]["running"] and s["jobs"][-1]["done"] > 0,
                     "the collection job to make progress", timeout=120)
        screenshot("job-running")
        click("job_cancel", origin)
        s = wait_for(lambda s: s["jobs"] and s["jobs"][-1]["finished"], "the job to stop")
        job = s["jobs"][-1]
        check(job["cancel_requested"], "the job was cancelled")
        check(job["done"] < 100000, "it stopped early (%d episodes)" % job["done"])
        stats = subprocess.run([MBOLD, "dataset", "stats", os.path.join(WORK, "data/hand run.h5")],
                               capture_output=True, text=True)
        check(stats.returncode == 0, "the cancelled collection left a valid file: " +
              (stats.stdout + stats.stderr).strip().replace("\n", " | ")[:200])
        screenshot("job-cancelled")

        # Quit (Ctrl+Q): no job runs, so no question; --stats prints its figures.
        xdo("key", "ctrl+q")
        out, err = app.communicate(timeout=60)
        check(app.returncode == 0, "the workbench quit cleanly (exit %s)" % app.returncode)
        line = [l for l in out.splitlines() if l.startswith("{")]
        if check(bool(line), "--stats printed its figures"):
            figures = json.loads(line[-1])
            print("stats:", json.dumps(figures), flush=True)
            with open(os.path.join(ARTEFACTS, "stats.json"), "w") as f:
                json.dump(figures, f)
        crit = [l for l in err.splitlines() if "CRITICAL" in l or "Gtk-ERROR" in l]
        check(not crit, "no GTK criticals: %s" % crit[:3])

        # Goals from a dataset (read on a worker thread): the collection's file, then a bad one.
        episodes = [int(l.split()[1]) for l in stats.stdout.splitlines()
                    if l.startswith("episodes")] or [0]
        os.remove(STATE)  # the next window's state only
        app = subprocess.Popen([MBOLD, "--goals", os.path.join(WORK, "data/hand run.h5")], cwd=WORK,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        s = wait_for(lambda s: 0 < s["goals"] <= min(episodes[0], 24) and s["errors_shown"] == 0,
                     "goals from the dataset's %d episodes" % episodes[0])
        check(s.get("errors_shown") == 0, "no error loading the dataset's goals: %s" %
              s.get("last_error"))
        check(s.get("task") == "push1", "the task follows the dataset (%s)" % s.get("task"))
        screenshot("dataset-goals")
        app.terminate()
        app.communicate(timeout=60)
        bad = os.path.join(WORK, "not-a-dataset.h5")
        with open(bad, "w") as f:
            f.write("no HDF5 here")
        os.remove(STATE)
        app = subprocess.Popen([MBOLD, "--goals", bad], cwd=WORK, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        s = wait_for(lambda s: s["errors_shown"] > 0, "the bad-dataset message", timeout=60)
        check("not-a-dataset.h5" in s.get("last_error", ""), "the message names the file: %s" %
              s.get("last_error"))
        app.terminate()
        app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        shutil.rmtree(WORK, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
