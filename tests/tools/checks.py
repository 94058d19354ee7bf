"""One line per check, "ok" or "FAIL"; finish() exits 1 if any failed."""
import sys

failed = []


def check(name, cond):
    print(("ok   " if cond else "FAIL ") + name, flush=True)
    if not cond:
        failed.append(name)


def finish():
    sys.exit(1 if failed else 0)
