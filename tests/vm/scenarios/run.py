"""Inside the VM: run every scenario_*.py next to this file and print one JSON object.

Each module's ``run()`` returns something JSON-serialisable; the output is
``{module name: result}`` (e.g. ``"scenario_smoke"``), where a scenario that raised (or
did not import) gives ``{"error": traceback text}``.  scenario_smoke runs first (the
others may leave devices such as zram0 in use), the rest in name order.  The object is
printed on one line between the BEGIN and END marker lines, which tests/vm/vm.py looks
for on the serial console.  Progress lines go to stderr (the console too).

``python3 run.py NAME...`` runs only those scenarios (``scenario_smoke`` or ``smoke``).
"""

import glob
import importlib
import json
import os
import sys
import time
import traceback

BEGIN = "=====OOMUTIL-JSON-BEGIN====="
END = "=====OOMUTIL-JSON-END====="
HERE = os.path.dirname(os.path.abspath(__file__))
FIRST = "scenario_smoke"


def scenario_names():
    files = sorted(glob.glob(os.path.join(HERE, "scenario_*.py")))
    names = [os.path.basename(f)[:-3] for f in files]
    return sorted(names, key=lambda name: (name != FIRST, name))


def uptime():
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return 0.0


def run_one(module_name):
    started = time.monotonic()
    try:
        module = importlib.import_module(module_name)
        result = module.run()
        json.dumps(result)  # not serialisable: reported as this scenario's error
    except BaseException as exc:  # noqa: B902  (SystemExit from a scenario too)
        if isinstance(exc, KeyboardInterrupt):
            raise
        result = {"error": traceback.format_exc()}
    took = time.monotonic() - started
    state = "ERROR" if isinstance(result, dict) and set(result) == {"error"} else "ok"
    sys.stderr.write(f"run.py: {module_name}: {state} in {took:.1f} s (uptime {uptime():.1f} s)\n")
    if state == "ERROR":
        sys.stderr.write(result["error"])
    sys.stderr.flush()
    return result


def quiet_console():
    """Keep kernel messages off the console while the JSON is printed (only emergencies
    pass); returns the previous setting, to restore."""
    try:
        with open("/proc/sys/kernel/printk") as f:
            previous = f.read().split()
        with open("/proc/sys/kernel/printk", "w") as f:
            f.write("1")
        return previous[0]
    except OSError:
        return None


def drain(stream):
    """Wait until the console has sent everything (init powers off right after us)."""
    try:
        import termios
        termios.tcdrain(stream.fileno())
    except (ImportError, OSError, ValueError):
        pass


def main(argv):
    sys.path.insert(0, HERE)
    wanted = [a if a.startswith("scenario_") else "scenario_" + a for a in argv] or scenario_names()
    results = {}
    for name in wanted:
        results[name] = run_one(name)
    text = json.dumps(results, sort_keys=True)
    previous = quiet_console()
    sys.stdout.write(f"\n{BEGIN}\n{text}\n{END}\n")
    sys.stdout.flush()
    drain(sys.stdout)
    if previous is not None:
        with open("/proc/sys/kernel/printk", "w") as f:
            f.write(previous)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
