import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: OCR tests are CPU-bound, so running files two at a time is the sweet spot.
    maxWorkers: 2,
  },
});
