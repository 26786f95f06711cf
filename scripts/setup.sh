#!/usr/bin/env bash
# Installs what is missing (tmux, curl, pnpm, the workspace's packages) and builds.
# Idempotent: a second run only rebuilds what changed.
# FOR_TESTS=1 also installs what the tests use: Debian's Chromium (browser
# tests), the sqlite3 shell (tests read the daemon's database directly) and
# openssl (the HTTPS tests and the stand-in push service make self-signed certificates),
# zsh and fish (the completion scripts are read by them), systemd's
# systemd-analyze (it checks the unit `daemon install` writes), and OpenSSH's
# client and server (the hosts tests reach a real sshd on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# The agents' hook forwarders are tiny shell scripts that talk to the daemon with curl.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)  # ss: the daemon finds which process sent a policy, secret or auth change
if [ "${FOR_TESTS:-0}" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v zsh >/dev/null 2>&1 || missing+=(zsh)
  command -v fish >/dev/null 2>&1 || missing+=(fish)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; install it with your package manager (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

if ! command -v pnpm >/dev/null 2>&1; then
  say "installing pnpm"
  npm install -g --silent pnpm@12.4.2
fi

# sqlite3 compiles from source; offline, node-gyp needs Node's own headers.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

# A user's install takes the CLI and what it depends on; only the tests bring
# the agent CLIs (Claude Code, Codex) they drive, some 760 MB.
if [ "${FOR_TESTS:-0}" = 1 ]; then
  say "installing packages (with the test tools)"
  pnpm install --frozen-lockfile --reporter=silent
  say "building"
  pnpm exec tsc -b
  pnpm --filter @codepiper/cli --silent bundle
else
  say "installing packages"
  pnpm install --frozen-lockfile --reporter=silent --filter '@codepiper/cli...' --filter '@codepiper/web...'
  say "building"
  pnpm exec tsc -b cli
  pnpm --filter @codepiper/cli --silent bundle
fi
say "building the web dashboard"
pnpm --filter @codepiper/web --silent build >/dev/null
