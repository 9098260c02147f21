// The packaged extension (`npm run build` → hiccup-<version>.vsix): its manifest, its bundle, and
// nothing it should not carry.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readZip } from './zip';

const ROOT = path.resolve(__dirname, '..', '..');
const source = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const VSIX = path.join(ROOT, `${source.name}-${source.version}.vsix`);

interface Manifest {
  name: string;
  publisher: string;
  version: string;
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  extensionKind: string[];
  capabilities: { virtualWorkspaces: boolean; untrustedWorkspaces: { supported: string } };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    configuration: { properties: Record<string, unknown> };
  };
}

test('the .vsix has the manifest, the bundle, and no node_modules', () => {
  assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run build\` first`);
  const entries = readZip(readFileSync(VSIX));
  const names = entries.map((e) => e.name);
  const manifestEntry = entries.find((e) => e.name === 'extension/package.json');
  assert.ok(manifestEntry, `extension/package.json in ${names.join(', ')}`);
  const manifest = JSON.parse(manifestEntry.read().toString('utf8')) as Manifest;

  assert.equal(manifest.name, 'hiccup');
  assert.equal(manifest.publisher, 'hiccup');
  assert.equal(manifest.version, source.version);
  const bundle = path.posix.join('extension', manifest.main);
  assert.ok(names.includes(bundle), `${bundle} (main) is packaged`);
  const code = entries.find((e) => e.name === bundle)?.read().toString('utf8') ?? '';
  assert.ok(code.includes('hiccup/terminalData'), 'the bundle contains the client');
  assert.ok(!code.includes('require("vscode-languageclient'), 'vscode-languageclient is bundled, not required');

  assert.ok(names.every((n) => !n.includes('node_modules/')), 'no node_modules inside');
  assert.ok(names.every((n) => !n.startsWith('extension/src/') && !n.startsWith('extension/test/')), 'no sources inside');

  const commands = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
  for (const title of [
    'Hiccup: Check Claude status',
    'Hiccup: Restart Claude Code',
    'Hiccup: Show terminal transcript',
    'Hiccup: Restart server',
    'Hiccup: Show output',
  ]) {
    assert.ok(commands.includes(title), title);
  }
  for (const key of ['hiccup.statusPage.url', 'hiccup.serverCommand', 'hiccup.interpreter', 'hiccup.terminalBridge.enabled']) {
    assert.ok(key in manifest.contributes.configuration.properties, key);
  }
  assert.deepEqual(manifest.activationEvents, ['onStartupFinished', 'onLanguage:log', 'onLanguage:plaintext']);
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.equal(manifest.capabilities.virtualWorkspaces, false);
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  // code-server 4.100.3 is VS Code 1.100: the engine range must admit it.
  const minimum = manifest.engines.vscode.replace('^', '').split('.').map(Number);
  assert.ok((minimum[0] ?? 0) === 1 && (minimum[1] ?? 0) <= 100, manifest.engines.vscode);
});
