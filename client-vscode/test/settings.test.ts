// package.json's contributes.configuration must be exactly what `npm run sync-settings` generates
// from the server's schema (../schemas/settings.schema.json).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { addTrust, CLIENT_SETTINGS, configurationFromSchema, type SchemaNode } from '../src/settings';

const ROOT = path.resolve(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(path.resolve(ROOT, '..', 'schemas', 'settings.schema.json'), 'utf8')) as SchemaNode;
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { configuration: unknown };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
};

function leaves(node: SchemaNode, prefix: string): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([k, v]) =>
    v.type === 'object' && v.properties ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

test('package.json configuration is in sync with the schema (fix: npm run sync-settings)', () => {
  assert.deepEqual(pkg.contributes.configuration, configurationFromSchema(schema));
});

test('every server setting is contributed as a dotted key, except the client-set ones', () => {
  const generated = configurationFromSchema(schema).properties;
  const expected = leaves(schema, 'hiccup.').filter((k) => k !== 'hiccup.trustedWorkspace');
  for (const key of expected) {
    assert.ok(key in generated, key);
  }
  assert.ok('hiccup.statusPage.url' in generated);
  assert.deepEqual(generated['hiccup.statusPage.pollSeconds'], {
    type: 'number',
    default: 60,
    description: 'Polling interval while a server-side incident is active.',
    minimum: 15,
    maximum: 3600,
  });
  assert.ok(!('hiccup.trustedWorkspace' in generated));
  assert.deepEqual(Object.keys(generated).sort(), [...expected, ...Object.keys(CLIENT_SETTINGS)].sort());
});

test('restricted configurations exist', () => {
  const props = configurationFromSchema(schema).properties;
  for (const key of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations) {
    assert.ok(key in props, key);
  }
});

test('the server gets trustedWorkspace in its section', () => {
  const items = [{ section: 'hiccup' }, { section: 'editor' }, {}];
  const results = [{ logLevel: 'info' }, { tabSize: 4 }, { hiccup: { logLevel: 'debug' } }];
  assert.deepEqual(addTrust(items, results, false), [
    { logLevel: 'info', trustedWorkspace: false },
    { tabSize: 4 },
    { hiccup: { logLevel: 'debug', trustedWorkspace: false } },
  ]);
  assert.deepEqual(addTrust([{ section: 'hiccup' }], [null], true), [null]);
});

test('the README documents every setting', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const key of Object.keys(configurationFromSchema(schema).properties)) {
    assert.ok(readme.includes(`| \`${key}\` |`), `${key} in the README's settings table`);
  }
});
