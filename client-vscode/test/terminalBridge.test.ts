import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { Methods } from '../src/protocol';
import { SHELL_INTEGRATION_GRACE_MS, SHELL_INTEGRATION_HINT_KEY, TerminalBridge } from '../src/terminalBridge';
import {
  FakeClock,
  FakeMemento,
  FakeNotifier,
  FakeShellIntegration,
  FakeTerminal,
  FakeTerminalHost,
  RecordingSink,
  settle,
} from './fakes';

// A chunk as Claude Code prints it, ANSI colour and \r included.
const CHUNK = '\u001b[31m  ⎿  API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}\u001b[0m\r\n';

describe('terminal bridge', () => {
  let host: FakeTerminalHost;
  let sink: RecordingSink;
  let clock: FakeClock;
  let notifier: FakeNotifier;
  let state: FakeMemento;
  let enabled: boolean;
  let bridge: TerminalBridge;

  beforeEach(() => {
    host = new FakeTerminalHost();
    sink = new RecordingSink();
    clock = new FakeClock();
    notifier = new FakeNotifier();
    state = new FakeMemento();
    enabled = true;
    bridge = new TerminalBridge({ host, sink, clock, notifier, globalState: state, enabled: () => enabled });
    bridge.start();
  });

  test('forwards chunks in order with the terminal id, name and command line', async () => {
    const t = host.openTerminal(new FakeTerminal('claude'));
    const exec = host.run(t, 'claude --model opus');
    assert.equal(exec.readCalls, 1, 'read() is called as soon as the execution starts');
    exec.push('one\r\n', CHUNK);
    await settle();
    exec.push('three');
    await settle();
    assert.deepEqual(sink.sent, [
      { method: Methods.terminalData, params: { terminalId: '1', name: 'claude', data: 'one\r\n', commandLine: 'claude --model opus' } },
      { method: Methods.terminalData, params: { terminalId: '1', name: 'claude', data: CHUNK, commandLine: 'claude --model opus' } },
      { method: Methods.terminalData, params: { terminalId: '1', name: 'claude', data: 'three', commandLine: 'claude --model opus' } },
    ]);
  });

  test('ids are stable per terminal and distinct between terminals', async () => {
    const a = host.openTerminal(new FakeTerminal('a'));
    const b = host.openTerminal(new FakeTerminal('b'));
    host.run(a, 'ls').push('x');
    host.run(b, 'ls').push('y');
    host.run(a, 'pwd').push('z');
    await settle();
    assert.deepEqual(
      sink.sent.map((s) => [s.params.terminalId, s.params.name, s.params.data]),
      [
        ['1', 'a', 'x'],
        ['2', 'b', 'y'],
        ['1', 'a', 'z'],
      ],
    );
    assert.equal(bridge.idOf(a), '1');
    assert.equal(bridge.idOf(b), '2');
  });

  test('omits an empty command line and empty chunks', async () => {
    const t = host.openTerminal(new FakeTerminal('t'));
    host.run(t, '').push('', 'data');
    await settle();
    assert.deepEqual(sink.sent, [{ method: Methods.terminalData, params: { terminalId: '1', name: 't', data: 'data' } }]);
  });

  test('sends terminalClosed for a terminal whose output was forwarded', async () => {
    const t = host.openTerminal(new FakeTerminal('claude'));
    host.run(t, 'claude').push('hi');
    await settle();
    host.closeTerminal(t);
    assert.deepEqual(sink.sent.at(-1), { method: Methods.terminalClosed, params: { terminalId: '1' } });
    assert.deepEqual(bridge.knownTerminals(), [
      { id: '1', name: 'claude', uri: 'hiccup-terminal:/1/claude', open: false },
    ]);
  });

  test('a terminal that never sent anything closes silently', () => {
    const t = host.openTerminal(new FakeTerminal('idle'));
    host.closeTerminal(t);
    assert.deepEqual(sink.sent, []);
  });

  test('disabled: nothing is read or sent', async () => {
    enabled = false;
    const t = host.openTerminal(new FakeTerminal('claude'));
    const exec = host.run(t, 'claude');
    exec.push(CHUNK);
    await settle();
    host.closeTerminal(t);
    assert.equal(exec.readCalls, 0);
    assert.deepEqual(sink.sent, []);
  });

  test('disabling mid-command stops forwarding', async () => {
    const t = host.openTerminal(new FakeTerminal('claude'));
    const exec = host.run(t, 'claude');
    exec.push('before');
    await settle();
    enabled = false;
    exec.push('after');
    await settle();
    assert.deepEqual(
      sink.sent.map((s) => s.params.data),
      ['before'],
    );
  });

  test('transcript URIs quote the name like the server does', async () => {
    const t = host.openTerminal(new FakeTerminal('Claude Code (1)'));
    host.run(t, 'claude').push('x');
    await settle();
    assert.equal(bridge.knownTerminals()[0]?.uri, 'hiccup-terminal:/1/Claude%20Code%20%281%29');
  });

  test('shell integration hint: once, after the grace period, remembered', () => {
    host.openTerminal(new FakeTerminal('plain sh', false));
    clock.advance(SHELL_INTEGRATION_GRACE_MS - 1);
    assert.equal(notifier.infos.length, 0);
    clock.advance(1);
    assert.equal(notifier.infos.length, 1);
    assert.match(notifier.infos[0]!, /terminal\.integrated\.shellIntegration\.enabled/);
    assert.match(notifier.infos[0]!, /hiccup run -- claude/);
    assert.equal(state.get(SHELL_INTEGRATION_HINT_KEY), true);
    host.openTerminal(new FakeTerminal('another', false));
    clock.advance(SHELL_INTEGRATION_GRACE_MS);
    assert.equal(notifier.infos.length, 1);
  });

  test('no hint when shell integration arrives in time, or when the hint was shown before', () => {
    const t = host.openTerminal(new FakeTerminal('late', false));
    t.shellIntegration = new FakeShellIntegration();
    host.run(t, 'ls');
    clock.advance(SHELL_INTEGRATION_GRACE_MS);
    assert.equal(notifier.infos.length, 0);

    const again = new TerminalBridge({ host, sink, clock, notifier, globalState: state, enabled: () => true });
    void state.update(SHELL_INTEGRATION_HINT_KEY, true);
    again.start();
    host.openTerminal(new FakeTerminal('plain', false));
    clock.advance(SHELL_INTEGRATION_GRACE_MS);
    assert.equal(notifier.infos.length, 0);
  });

  test('no shell-integration API at all: hint once, bridge off', () => {
    const old = new FakeTerminalHost();
    old.onDidStartTerminalShellExecution = undefined;
    old.onDidEndTerminalShellExecution = undefined;
    const n = new FakeNotifier();
    const b = new TerminalBridge({ host: old, sink, clock, notifier: n, globalState: new FakeMemento(), enabled: () => true });
    b.start();
    assert.equal(n.infos.length, 1);
    assert.equal(old.open.count, 0);
  });

  test('dispose unsubscribes', () => {
    bridge.dispose();
    assert.equal(host.startExec.count, 0);
    assert.equal(host.close.count, 0);
  });
});
