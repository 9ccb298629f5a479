#!/usr/bin/env node
/**
 * Runs in `prepare`, after `npm install` has linked every dependency's commands.
 *
 * The dev dependency `node22` (the npm package `node`, which brings a Node 22 binary for the MCP
 * conformance suite) declares a command named `node`, so npm links `node_modules/.bin/node` to
 * it, and every `npm run` script and `npm exec` puts that folder first on PATH: the daemon, the
 * build and the tests would all run on Node 22 instead of the Node that runs npm. This removes
 * that one link; the tests call the binary by its path (`node_modules/node22/bin/node`).
 *
 * Plain JavaScript because it runs before anything is compiled.
 */
import { lstatSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'node_modules', '.bin');
const node22 = path.join(root, 'node_modules', 'node22');

const link = path.join(bin, 'node');
let target;
try {
  target = lstatSync(link).isSymbolicLink() ? path.resolve(bin, readlinkSync(link)) : undefined;
} catch {
  target = undefined; // no such command: nothing to do
}
// Only the link npm made for node22; anything else named `node` there is left alone.
if (target !== undefined && target.startsWith(node22 + path.sep)) rmSync(link);
