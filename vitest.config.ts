import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests time real processes; running them in parallel on a 2-core machine would
    // make their measurements noisy, so files run one at a time.
    fileParallelism: false,
  },
});
