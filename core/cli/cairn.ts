#!/usr/bin/env node
// The `cairn` command. Node's compile cache goes on first: an ES module's imports are compiled before its body
// runs, so the CLI itself (cli-main.ts) is loaded only once the cache is there.
import { enableCompileCache } from './compile-cache.js';

enableCompileCache();
await import('./cli-main.js');
