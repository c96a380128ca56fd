#!/usr/bin/env node
// Entry for `npx gatehouse` / the installed bin: Node 24 runs the TypeScript source directly.
import '../src/cli/main.ts';
