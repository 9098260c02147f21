#!/usr/bin/env bash
# End-to-end check of the Hiccup VS Code extension in a real VS Code (code-server 4.100.3 =
# VS Code 1.100.3) driven by headless Debian Chromium through playwright-core:
#   open claude-session.log → Hiccup diagnostic in the Problems panel (message contains "500",
#   source hiccup) → hover shows the advice → "Open (Claude) status page" offered as a code action
#   (whose titles also show that the settings reached the server) → "Hiccup: Check Claude status"
#   answered by the server; then a stand-in `claude` in an integrated terminal: its error appears
#   through the terminal bridge, "Hiccup: Restart Claude Code" stops it and runs `claude --continue`.
# Exit 0 = passed. Screenshots: tests/out/vscode/ (1-problems.png … 6-transcript.png, error.png).
#
#   bash tests/editors/vscode/run_e2e.sh
#
# Env: HICCUP_PYTHON   interpreter with hiccup installed (default: <repo>/.venv/bin/python),
#                      written into the settings as hiccup.interpreter
#      HICCUP_SERVER_COMMAND  JSON array for hiccup.serverCommand instead of the interpreter
#      VSIX            a built .vsix (default: build client-vscode/hiccup-<version>.vsix now)
#      E2E_CACHE       where code-server + playwright-core are installed (default ~/.cache/hiccup-e2e)
#      OUT             screenshots (default <repo>/tests/out/vscode)
#      EXPECT_*        override what the driver looks for (see drive.mjs)
#      E2E_TERMINAL=0  skip the terminal bridge / restart steps
#      E2E_SLOW=1      also the server-initiated restart through a reminder (adds ~70 s)
#      KEEP=1          leave code-server running afterwards and print its URL
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
E2E_CACHE=${E2E_CACHE:-$HOME/.cache/hiccup-e2e}
HICCUP_PYTHON=${HICCUP_PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-$ROOT/tests/out/vscode}
t_start=$(date +%s)

bash "$HERE/install.sh"
CS="$E2E_CACHE/node_modules/.bin/code-server"

if [ -z "${VSIX:-}" ]; then
  ext="$ROOT/client-vscode"
  version=$(node -p 'require(process.argv[1]).version' "$ext/package.json")
  VSIX="$ext/hiccup-$version.vsix"
  (cd "$ext" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run --silent build >/dev/null)
fi
[ -f "$VSIX" ] || { echo "no .vsix at $VSIX" >&2; exit 2; }

PORT=${PORT:-$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hiccup-vscode-e2e.XXXXXX")
mkdir -p "$WORK/ud/User" "$WORK/ext" "$WORK/ws" "$OUT"
rm -f "$OUT"/*.png

# A Claude Code session as it looks in a saved log.
cat > "$WORK/ws/claude-session.log" <<'LOG'
> fix the flaky test in tests/test_api.py

⏺ I'll look at the test first.

⏺ Read(tests/test_api.py)
  ⎿  Read 120 lines (ctrl+r to expand)

  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CE2E"}
LOG
[ -z "${EXTRA_LOG_LINE:-}" ] || printf '%s\n' "$EXTRA_LOG_LINE" >> "$WORK/ws/claude-session.log"

# A stand-in `claude` on the terminals' PATH, for the terminal bridge and restart steps: prints the
# API error the way Claude Code does, and, like Claude Code, exits on the second Ctrl+C.
mkdir -p "$WORK/bin"
cat > "$WORK/bin/claude" <<'SH'
#!/bin/bash
echo "Claude Code (stand-in) started with: ${*:-no arguments}"
printf '  \xe2\x8e\xbf  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CE2F"}\n'
presses=0
trap 'presses=$((presses + 1)); if [ $presses -ge 2 ]; then echo "bye"; exit 0; fi; echo "Press Ctrl-C again to exit"' INT
while :; do sleep 0.2; done
SH
chmod +x "$WORK/bin/claude"

# A status page of our own on 127.0.0.1 (a recorded Statuspage payload with an open incident): the status-bar
# item gets something to show, and nothing in the test reaches the internet.
mkdir -p "$WORK/status/api/v2"
cp "$ROOT/tests/data/status/minor_incident.json" "$WORK/status/api/v2/summary.json"
STATUS_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 -m http.server "$STATUS_PORT" --bind 127.0.0.1 --directory "$WORK/status" > "$WORK/status.log" 2>&1 &
STATUS_PID=$!

if [ -n "${HICCUP_SERVER_COMMAND:-}" ]; then
  server_setting="\"hiccup.serverCommand\": $HICCUP_SERVER_COMMAND,"
else
  server_setting="\"hiccup.interpreter\": \"$HICCUP_PYTHON\","
fi
# a config file of our own, or code-server writes ~/.config/code-server/config.yaml
printf 'auth: none\nbind-addr: 127.0.0.1:%s\ncert: false\n' "$PORT" > "$WORK/config.yaml"
cat > "$WORK/ud/User/settings.json" <<JSON
{
  $server_setting
  "hiccup.transcripts.enabled": false,
  "hiccup.debugLogs.enabled": false,
  "hiccup.reminderMinutes": 1,
  "hiccup.statusPage.url": "http://127.0.0.1:$STATUS_PORT",
  "terminal.integrated.env.linux": {"PATH": "$WORK/bin:\${env:PATH}"},
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "files.hotExit": "off"
}
JSON

common=(--config "$WORK/config.yaml" --user-data-dir "$WORK/ud" --extensions-dir "$WORK/ext")
"$CS" "${common[@]}" --install-extension "$VSIX" >/dev/null
# Own session and process group: teardown must kill code-server, its extension hosts (one per
# browser connection, outliving the tab) and the language servers they started.
setsid "$CS" "${common[@]}" --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override "$WORK/ws" > "$WORK/code-server.log" 2>&1 &
CS_PID=$!
cleanup() {
  if [ -z "${KEEP:-}" ]; then kill -- "-$CS_PID" 2>/dev/null || true; kill "$STATUS_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  sleep 0.2
done

# drive.mjs imports playwright-core, which lives in the cache's node_modules
cp "$HERE/drive.mjs" "$E2E_CACHE/hiccup-drive.mjs"
rc=0
t_drive=$(date +%s)
node "$E2E_CACHE/hiccup-drive.mjs" --url "http://127.0.0.1:$PORT" --folder "$WORK/ws" \
  --file claude-session.log --out "$OUT" || rc=$?
echo "driver: $(( $(date +%s) - t_drive ))s; total: $(( $(date +%s) - t_start ))s; screenshots in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
if [ "$rc" != 0 ]; then
  echo "--- code-server.log (tail)"; tail -n 20 "$WORK/code-server.log"
  echo "--- Hiccup output channel (tail)"
  find "$WORK/ud/logs" -name '*Hiccup*.log' -exec tail -n 40 {} + 2>/dev/null || true
fi
if [ -n "${KEEP:-}" ]; then
  echo "KEEP=1: http://127.0.0.1:$PORT/?folder=$WORK/ws  (stop: kill -- -$CS_PID)"
fi
echo "$([ "$rc" = 0 ] && echo PASSED || echo FAILED): VS Code e2e"
exit $rc
