import { defineConfig } from "vitest/config";

// One vitest run over every workspace package. Packages resolve to their
// TypeScript sources through the "@hvkit/source" export condition, so tests
// never need a build first.
export default defineConfig({
  resolve: { conditions: ["@hvkit/source"] },
  ssr: { resolve: { conditions: ["@hvkit/source"] } },
  test: {
    include: ["packages/**/test/**/*.test.ts", "apps/**/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    pool: "forks",
    testTimeout: 60_000,
    coverage: {
      provider: "v8",
      include: ["packages/**/src/**", "apps/**/src/**"],
    },
  },
});
