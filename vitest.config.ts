import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// The default memory store lives in the user's cache directory (src/core/memory/session.ts): tests
// get a cache of their own, so they neither read nor leave stores in ~/.cache/perfloop.
const cache = mkdtempSync(path.join(tmpdir(), "perfloop-test-cache-"));

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests time real processes; running them in parallel on a 2-core machine would
    // make their measurements noisy, so files run one at a time.
    fileParallelism: false,
    env: { XDG_CACHE_HOME: cache },
  },
});
