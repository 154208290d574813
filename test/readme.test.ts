import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// Built from dist/ (npm test builds first): the tables come from the code that runs.
// @ts-expect-error: a plain ESM script without type declarations
import { render } from '../scripts/readme-tables.mjs';

describe('README.md', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('has the generated configuration and conformance tables as the code has them', () => {
    expect(render(readme)).toBe(readme);
  });

  it('has a quick start with the two commands', () => {
    expect(readme).toMatch(/## Quick start/);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
