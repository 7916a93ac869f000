#!/bin/sh
# Run a command in a fresh user + network namespace (no link to the host's network) whose
# loopback device also carries 11.0.0.1/8 and 11.0.0.2/8: addresses js-libp2p's AutoNAT deems
# public, so the js interop test (tests/autonat/autonat_js_test.ts) can run its full exchanges.
# Usage: tests/autonat/netns.sh npx -y deno@2.9.6 test -A tests/autonat/autonat_js_test.ts
set -eu
if [ "${AUTONAT_NETNS_INSIDE:-}" != "1" ]; then
  # Resolved outside: inside there is no network for npx to check the registry with.
  DENO_BIN="${DENO_BIN:-$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())')}"
  export DENO_BIN
  exec unshare -rn env AUTONAT_NETNS_INSIDE=1 sh "$0" "$@"
fi
ip link set lo up
ip addr add 11.0.0.1/8 dev lo
ip addr add 11.0.0.2/8 dev lo
export AUTONAT_NETNS=1
exec "$@"
