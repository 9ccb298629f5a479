/**
 * Prints the config file's JSON Schema, generated from the zod schema so the two cannot
 * drift (test/unit/shared/config.test.ts fails when the checked-in copy is stale).
 * Regenerate with:
 *   npx tsc -p tsconfig.json && node dist/src/shared/config/print-schema.js schema/config.schema.json
 *   npx prettier --write schema/config.schema.json
 */
import { writeFileSync } from 'node:fs';

import { configJsonSchema } from './schema.js';

const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
const target = process.argv[2];
if (target === undefined) process.stdout.write(text);
else writeFileSync(target, text);
