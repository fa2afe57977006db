#!/usr/bin/env bash
# Measures the resident memory of `okrd run` on config.example.toml after it
# has started, evaluated and served a few scrapes. Prints VmRSS and VmHWM in
# MiB. Usage: scripts/bench-memory.sh [config] (builds ./okrd first).
set -euo pipefail
cd "$(dirname "$0")/.."
cfg="${1:-config.example.toml}"
make -s build
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cp "$cfg" "$dir/okrd.toml"
port=$((20000 + RANDOM % 10000))
(cd "$dir" && exec "$OLDPWD/okrd" run --config okrd.toml --web.listen-address "127.0.0.1:$port" --log.level warn) &
pid=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
for _ in $(seq 1 20); do
  curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null
  curl -fsS "http://127.0.0.1:$port/api/v1/objectives" >/dev/null
  curl -fsS "http://127.0.0.1:$port/" >/dev/null
done
sleep 1
awk '/VmRSS|VmHWM/ {printf "%s %.1f MiB\n", $1, $2/1024}' "/proc/$pid/status"
