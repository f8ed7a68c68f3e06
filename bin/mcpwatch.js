#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, or `prepare` on install).
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    console.error('mcpwatch: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  throw err;
});
