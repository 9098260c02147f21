"""Real writer processes for the tailer and follower tests: a logger is another process, with its own buffers
and its own open file descriptor, which is what rotation handling has to cope with."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Writes "line 0" … "line 99" to argv[1]; after line 49 the file is renamed to argv[1] + ".1" while the logger
# still writes ten lines through its old descriptor, then it reopens the path: 60 lines in the first generation,
# 40 in the second.
ROTATING_LOGGER = """
import os, sys, time
path = sys.argv[1]
f = open(path, "a", buffering=1)
for i in range(50):
    f.write(f"line {i}\\n"); time.sleep(0.001)
os.rename(path, path + ".1")
for i in range(50, 60):  # the logger has not noticed the rotation yet
    f.write(f"line {i}\\n"); time.sleep(0.003)
f.close()
f = open(path, "a", buffering=1)
for i in range(60, 100):
    f.write(f"line {i}\\n"); time.sleep(0.001)
f.close()
"""


def run_writer(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args])
