#!/usr/bin/env node
// The entry point: first sizes V8's young generation (young-generation.ts), then loads the command
// line. A dynamic import, so that the modules are read and compiled after the setting, not before.
import './young-generation.js';

await import('./cli-main.js');
