/**
 * The Node options every `mcp-director` process runs with. The command's shebang line passes
 * them (main.ts: `#!/usr/bin/env -S node …`, which a test keeps equal to this list), and so
 * must whatever starts `dist/src/cli/main.js` with `node` itself: `npm start` and the
 * benchmarks, so that they measure the daemon as it ships.
 *
 * `--max-semi-space-size=2`: V8 grows a thread's young generation to 2 × 8 MiB while the
 * daemon starts and never gives it back at rest; capped at 2 × 2 MiB the daemon idles ~9 MiB
 * lower with the same calls/s and CPU per call under load (docs/architecture.md#memory).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
