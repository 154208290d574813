import { defineConfig } from 'vitest/config';

/** `npm run bench`: the whole-system benchmark (bench/*.bench.ts), never part of `npm test`. */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 900_000,
    reporters: ['default'],
  },
});
