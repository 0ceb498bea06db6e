// The Node that runs the suite is the one the tests spawn. CI (.ci/run) runs the suite under
// each tested Node by putting that Node's directory first on PATH; tests that start `node`
// (the package tests, the bin's shebang) must then get that Node, not the machine's own.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the Node under test', () => {
  it('is the `node` that tests spawn', () => {
    const spawned = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    expect(spawned).toBe(process.version);
  });

  const expectedMajor = process.env.KNNET_TEST_NODE_MAJOR;
  it.runIf(expectedMajor)(`is Node ${expectedMajor}, the major CI asked for`, () => {
    expect(process.versions.node.split('.')[0]).toBe(expectedMajor);
  });
});
