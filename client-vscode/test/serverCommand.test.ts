import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandPath, resolveServerCommand, type Probes, type ResolveInput } from '../src/serverCommand';

const base: ResolveInput = { serverCommand: [], interpreter: '', pythonExtensionInterpreter: undefined, workspaceFolder: '/ws' };

function probes(withHiccup: string[], onPath?: string): Probes & { probed: string[] } {
  const probed: string[] = [];
  return {
    probed,
    canImportHiccup: (python) => {
      probed.push(python);
      return Promise.resolve(withHiccup.includes(python));
    },
    findOnPath: () => Promise.resolve(onPath),
  };
}

test('hiccup.serverCommand wins and is not probed', async () => {
  const p = probes([]);
  const r = await resolveServerCommand({ ...base, serverCommand: ['${workspaceFolder}/bin/hiccup', 'serve'], interpreter: '/py' }, p);
  assert.deepEqual(r, { ok: true, command: { command: '/ws/bin/hiccup', args: ['serve'], origin: 'hiccup.serverCommand' }, notes: [] });
  assert.deepEqual(p.probed, []);
});

test('hiccup.interpreter runs -m hiccup serve', async () => {
  const r = await resolveServerCommand({ ...base, interpreter: '/venv/bin/python', pythonExtensionInterpreter: '/other' }, probes(['/venv/bin/python', '/other']));
  assert.ok(r.ok);
  assert.deepEqual(r.command, { command: '/venv/bin/python', args: ['-m', 'hiccup', 'serve'], origin: 'hiccup.interpreter' });
});

test("falls back to the Python extension's interpreter, then PATH", async () => {
  const viaExt = await resolveServerCommand({ ...base, interpreter: '/no-hiccup', pythonExtensionInterpreter: '/ext/python' }, probes(['/ext/python']));
  assert.ok(viaExt.ok);
  assert.equal(viaExt.command.command, '/ext/python');
  assert.deepEqual(viaExt.notes, ['/no-hiccup (from hiccup.interpreter) cannot import hiccup']);

  const viaPath = await resolveServerCommand(base, probes([], '/usr/local/bin/hiccup'));
  assert.ok(viaPath.ok);
  assert.deepEqual(viaPath.command, { command: '/usr/local/bin/hiccup', args: ['serve'], origin: 'PATH' });
});

test('nothing works: one message with the fix', async () => {
  const r = await resolveServerCommand({ ...base, interpreter: '/venv/bin/python' }, probes([]));
  assert.ok(!r.ok);
  assert.match(r.message, /\/venv\/bin\/python -m pip install hiccup/);
  assert.match(r.message, /hiccup\.interpreter/);
  const bare = await resolveServerCommand(base, probes([]));
  assert.ok(!bare.ok);
  assert.match(bare.message, /`pip install hiccup`/);
});

test('expandPath', () => {
  assert.equal(expandPath('~/venv/bin/python', undefined, '/home/me'), '/home/me/venv/bin/python');
  assert.equal(expandPath(' ${workspaceFolder}/.venv/bin/python ', '/ws', '/home/me'), '/ws/.venv/bin/python');
  assert.equal(expandPath('/abs/~x', '/ws', '/home/me'), '/abs/~x');
});
