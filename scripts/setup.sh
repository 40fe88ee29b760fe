#!/usr/bin/env bash
# Sets up Ennio on a fresh Debian machine with Node 20: system tools, npm packages,
# the build, and the `ennio` command on PATH. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in git tmux ssh sshd tmate; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for tool in "${need[@]}"; do
    case "$tool" in
      ssh) pkgs+=(openssh-client) ;;
      sshd) pkgs+=(openssh-server) ;;
      *) pkgs+=("$tool") ;;
    esac
  done
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
# `ennio` on PATH (npm link needs write access to the global prefix; fall back to a note).
if npm link --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
  echo "ennio is on your PATH: $(command -v ennio || echo "$(npm prefix -g)/bin/ennio")"
else
  echo "could not npm link; run ennio as: node $(pwd)/dist/cli.js"
fi
