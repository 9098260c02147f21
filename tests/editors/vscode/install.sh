#!/usr/bin/env bash
# Install what the VS Code end-to-end test needs, once, into a cache reused across runs:
#   apt: chromium (Playwright drives it), libkrb5-dev (code-server's `kerberos` builds from source),
#        ripgrep (seeds @vscode/ripgrep's download), build-essential/pkg-config (node-gyp)
#   npm: code-server@4.100.3 (= VS Code 1.100.3; the newest code-server that runs on Node 20) and
#        playwright-core, into $E2E_CACHE (default ~/.cache/hiccup-e2e).
# Never downloads a browser or VS Code itself: only the npm and Debian registries are reachable.
set -euo pipefail
CS_VERSION=${CS_VERSION:-4.100.3}
PW_VERSION=${PW_VERSION:-1.65.1}
E2E_CACHE=${E2E_CACHE:-$HOME/.cache/hiccup-e2e}
TMP=${TMPDIR:-/tmp}

export DEBIAN_FRONTEND=noninteractive
need=()
for p in chromium libkrb5-dev ripgrep build-essential pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  echo "apt-get install ${need[*]}"
  apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"
fi

marker="$E2E_CACHE/.installed-$CS_VERSION-$PW_VERSION"
if [ -f "$marker" ] && [ -x "$E2E_CACHE/node_modules/.bin/code-server" ]; then
  exit 0
fi
mkdir -p "$E2E_CACHE"
cd "$E2E_CACHE"
[ -f package.json ] || echo '{"name":"hiccup-e2e-tools","private":true}' > package.json

# code-server 4.100.x depends on @vscode/ripgrep, whose postinstall downloads rg from
# api.github.com (unreachable: "Downloading ripgrep failed ... ENOTFOUND"). It first looks in
# $TMPDIR/vscode-ripgrep-cache-<version>/ripgrep-<tag>-<target>.tar.gz, so put Debian's rg there.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm pack --silent "code-server@$CS_VERSION" >/dev/null \
  && tar xzf code-server-*.tgz package/lib/vscode/npm-shrinkwrap.json)
rgver=$(node -e 'const p=require(process.argv[1]).packages["node_modules/@vscode/ripgrep"];console.log(p?p.version:"")' \
  "$scratch/package/lib/vscode/npm-shrinkwrap.json")
if [ -n "$rgver" ]; then
  (cd "$scratch" && npm pack --silent "@vscode/ripgrep@$rgver" >/dev/null \
    && tar xzf vscode-ripgrep-*.tgz package/lib/postinstall.js)
  tag=$(sed -n "s/^const VERSION = '\(.*\)';/\1/p" "$scratch/package/lib/postinstall.js")
  case "$(uname -m)" in aarch64) target=aarch64-unknown-linux-musl ;; *) target=x86_64-unknown-linux-musl ;; esac
  cache="$TMP/vscode-ripgrep-cache-$rgver"
  mkdir -p "$cache" "$scratch/rg" && cp "$(command -v rg)" "$scratch/rg/rg"
  tar czf "$cache/ripgrep-$tag-$target.tar.gz" -C "$scratch/rg" rg
fi

# npm_config_unsafe_perm: code-server's postinstall refuses to run as root without it.
# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, and ~/.npmrc may say yes=false.
start=$(date +%s)
npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund "code-server@$CS_VERSION" "playwright-core@$PW_VERSION"
echo "npm install code-server + playwright-core: $(( $(date +%s) - start ))s"
"$E2E_CACHE/node_modules/.bin/code-server" --config /dev/null --version
touch "$marker"
