// `npm run sync-settings`: regenerate package.json's contributes.configuration from the server's
// settings schema (../schemas/settings.schema.json). test/settings.test.ts fails when they differ.

import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configurationFromSchema, type SchemaNode } from '../src/settings';

const ROOT = path.resolve(__dirname, '..', '..');
const SCHEMA = path.resolve(ROOT, '..', 'schemas', 'settings.schema.json');
const PACKAGE_JSON = path.join(ROOT, 'package.json');

function main(): void {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as SchemaNode;
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { contributes: Record<string, unknown> };
  pkg.contributes.configuration = configurationFromSchema(schema);
  writeFileSync(PACKAGE_JSON, `${JSON.stringify(pkg, null, 2)}\n`);
  console.log(`${PACKAGE_JSON}: contributes.configuration regenerated from ${SCHEMA}`);
}

main();
