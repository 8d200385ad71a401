import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real-kernel tests create cgroups and processes: run files one at a time so two of
    // them never push the same machine's memory at once.
    fileParallelism: false,
    reporters: ['default'],
  },
});
