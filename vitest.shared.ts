import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Sibling packages resolve to their TypeScript source in tests, so no build is needed first.
export default defineConfig({
  resolve: { conditions: ["@selmix/source"] },
  ssr: { resolve: { conditions: ["@selmix/source", ...defaultServerConditions] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["../../vitest.setup.ts"],
    restoreMocks: true,
    // The JSON report feeds scripts/test-summary.mjs, which prints one "N passed, N failed" line for CI.
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
