#!/bin/bash
# Loopback demo of the whole path: fixed_rtunnel in the background, allowlists set through the
# control socket, dynamic_rtunnel exposing a small local service, a client round trip through
# the tunnel port, and the listings. Everything it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="$(scripts/find-jdk)/bin/java"
work=$(mktemp -d /tmp/rtdemo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

password=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
tls_port=$("$JAVA" scripts/DemoService.java freeport)
sock="$work/ctl.sock"

say "a small local service (stands in for sshd on the remote box)"
"$JAVA" scripts/DemoService.java serve "$work/service.port" & pids+=($!)
for _ in $(seq 100); do [ -s "$work/service.port" ] && break; sleep 0.1; done
service_port=$(cat "$work/service.port")
echo "service listening on 127.0.0.1:$service_port"

say "start fixed_rtunnel (goes to the background once it listens)"
run ./fixed_rtunnel --notroot --port="$tls_port" --socketname="$sock" --password="$password" \
    --keyfile="$work/fixed.key" --certfile="$work/fixed.cert" --statefile="$work/fixed.state" --logfile="$work/fixed.log" \
    --pidfile="$work/fixed.pid"
pids+=("$(cat "$work/fixed.pid")")

say "nothing is allowed until the operator says so"
run ./fixed_rtunnel --socketname="$sock" --addip-tunnel=127.0.0.1 --addip-client=127.0.0.1 --list-allowed-tunnels --list-allowed-clients

say "start dynamic_rtunnel on the 'remote box' (here: the same machine)"
run ./dynamic_rtunnel --notroot --remoteip=127.0.0.1 --remoteport="$tls_port" --localport="$service_port" \
    --password="$password" --hostname=demo-box --known-servers="$work/known_servers" \
    --logfile="$work/dynamic.log" --pidfile="$work/dynamic.pid"
pids+=("$(cat "$work/dynamic.pid")")

say "the tunnel appears in the listing"
port=""
for _ in $(seq 100); do
    line=$(./fixed_rtunnel --socketname="$sock" --list-tunnels)
    port=$(sed -n 's/^Tunnel: id:[0-9]* port:\([0-9]*\) .*/\1/p' <<<"$line" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "no tunnel came up; logs:"; cat "$work"/*.log; exit 1; }
run ./fixed_rtunnel --socketname="$sock" --list-tunnels

say "a client connects to port $port and talks to the service through the tunnel"
exec 3<>"/dev/tcp/127.0.0.1/$port"
echo "hello through the tunnel" >&3
IFS= read -r -t 10 reply <&3
exec 3<&-
echo "sent:     hello through the tunnel"
echo "received: $reply"
[ "$reply" = "service got: hello through the tunnel" ] || { echo "unexpected reply"; exit 1; }

say "the dynamic side verified the server and remembered its certificate (trust on first use)"
cat "$work/known_servers"

say "machine-readable listing (protocol v2: the tunnel keeps its port; bytes are counted)"
sleep 1
run ./fixed_rtunnel --socketname="$sock" --list-tunnels --json

say "server log"
cat "$work/fixed.log"
say "demo passed"
