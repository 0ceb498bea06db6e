#!/usr/bin/env bash
# Builds, then runs the benchmark on Node.js of the given major version (installed from the npm
# registry into a cache by node-runtime.sh the first time):
#   npm run bench:node -- 24 --quick --only W2,W3
# The arguments after the version go to the benchmark (see dist/bench/index.js --help).
set -euo pipefail
major="${1:?usage: npm run bench:node -- MAJOR [benchmark arguments]}"
shift
here="$(cd "$(dirname "$0")" && pwd)"
node_binary="$("$here/node-runtime.sh" "$major")"
cd "$here/.."
npm run build
exec "$node_binary" dist/bench/index.js "$@"
