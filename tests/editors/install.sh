#!/usr/bin/env bash
# Install the headless editors the editor tests drive: Neovim (0.7.2 on Debian 12) and Emacs + eglot.
# Idempotent: a quick no-op when they are already there.
set -euo pipefail
need=()
command -v nvim >/dev/null 2>&1 || need+=(neovim)
command -v emacs >/dev/null 2>&1 || need+=(emacs-nox)
dpkg -s elpa-eglot >/dev/null 2>&1 || need+=(elpa-eglot)
if ((${#need[@]} == 0)); then
  echo "editors present: $(nvim --version | head -1), $(emacs --version | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
