/** mcpwatch's version (as in package.json): reported in logs, traces, User-Agent and clientInfo. */
export const VERSION = '0.1.0';
