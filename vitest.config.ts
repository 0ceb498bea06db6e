// Two suites. `core` (npm test) is every test file except those named *.long.test.ts, so a
// new test lands there by default; `long` (npm run test:long) holds the files that need
// Chromium, pack and install the package, use gigabytes of memory, or run attacks that take
// minutes. test/README.md says which file belongs where and how long each takes.
import { defineConfig } from 'vitest/config';

const LONG = 'test/**/*.long.test.ts';

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'core', include: ['test/**/*.test.ts'], exclude: [LONG] } },
      { extends: true, test: { name: 'long', include: [LONG] } },
    ],
  },
});
