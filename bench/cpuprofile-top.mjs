#!/usr/bin/env node
/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. from `BENCH_PROFILE=DIR npm run bench`):
 * top functions by self time, and self time grouped by source file.
 *
 *   node bench/cpuprofile-top.mjs FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const topIndex = process.argv.indexOf('--top');
const TOP = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time of a node = number of samples that landed on it × the mean sampling interval.
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const totalUs = profile.endTime - profile.startTime;
const usPerSample = totalUs / Math.max(1, profile.samples.length);

const byFunction = new Map();
const byFile = new Map();
let idleUs = 0;
for (const node of profile.nodes) {
  const us = (counts.get(node.id) ?? 0) * usPerSample;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') {
    idleUs += us;
    continue;
  }
  const short = url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const where = short ? short.replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, '$1') : functionName;
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const busyUs = totalUs - idleUs;
const pct = (us) => `${((100 * us) / busyUs).toFixed(1)}%`;
console.log(`profile ${(totalUs / 1e6).toFixed(2)} s, busy ${(busyUs / 1e6).toFixed(2)} s (percentages of busy time)\n`);
console.log('| self ms | % | function |\n|---|---|---|');
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${(us / 1000).toFixed(0)} | ${pct(us)} | ${name} |`);
console.log('\n| self ms | % | file or package |\n|---|---|---|');
for (const [name, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${(us / 1000).toFixed(0)} | ${pct(us)} | ${name} |`);
