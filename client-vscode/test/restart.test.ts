import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { ClaudeRestarter, CTRL_C, EXIT_TIMEOUT_MS, KEY_GAP_MS } from '../src/restart';
import { TerminalBridge } from '../src/terminalBridge';
import {
  FakeClock,
  FakeMemento,
  FakeNotifier,
  FakeTerminal,
  FakeTerminalHost,
  RecordingSink,
  type FakeExecution,
} from './fakes';

describe('restart Claude Code', () => {
  let host: FakeTerminalHost;
  let clock: FakeClock;
  let notifier: FakeNotifier;
  let bridge: TerminalBridge;
  let restarter: ClaudeRestarter;

  beforeEach(() => {
    host = new FakeTerminalHost();
    clock = new FakeClock();
    notifier = new FakeNotifier();
    bridge = new TerminalBridge({
      host,
      sink: new RecordingSink(),
      clock,
      notifier,
      globalState: new FakeMemento(),
      enabled: () => true,
    });
    bridge.start();
    restarter = new ClaudeRestarter({ terminals: bridge, notifier, clock });
  });

  /** Claude Code exits when it gets the second Ctrl+C, as the real one does. */
  function exitOnSecondCtrlC(t: FakeTerminal, exec: FakeExecution): void {
    const send = t.sendText.bind(t);
    t.sendText = (text, execute) => {
      send(text, execute);
      if (t.sent.filter(([s]) => s === CTRL_C).length === 2 && text === CTRL_C) {
        host.finish(t, exec);
      }
    };
  }

  test('picks the terminal running claude, confirms, Ctrl+C twice, then claude --continue', async () => {
    const shell = host.openTerminal(new FakeTerminal('bash'));
    host.run(shell, 'npm test');
    const t = host.openTerminal(new FakeTerminal('zsh'));
    const exec = host.run(t, 'claude');
    exitOnSecondCtrlC(t, exec);

    const result = await restarter.restart({ incidentId: 'inc-3', reason: 'internal_server_error persisting for 6 min' });

    assert.deepEqual(result, { outcome: 'restarted', detail: "terminal 'zsh': claude --continue" });
    assert.equal(notifier.confirms.length, 1);
    assert.match(notifier.confirms[0]!.message, /zsh/);
    assert.match(notifier.confirms[0]!.detail, /internal_server_error persisting for 6 min/);
    assert.deepEqual(t.sent, [
      [CTRL_C, false],
      [CTRL_C, false],
    ]);
    assert.deepEqual(clock.sleeps, [KEY_GAP_MS]);
    assert.deepEqual(t.shellIntegration?.executed, ['claude --continue']);
    assert.deepEqual(shell.sent, [], 'the other terminal is never typed into');
  });

  test('keeps the launcher: npx and hiccup run', async () => {
    const t = host.openTerminal(new FakeTerminal('zsh'));
    const exec = host.run(t, 'hiccup run -- claude --model opus');
    exitOnSecondCtrlC(t, exec);
    const result = await restarter.restart({});
    assert.equal(result.outcome, 'restarted');
    assert.deepEqual(t.shellIntegration?.executed, ['hiccup run -- claude --continue']);
  });

  test('prefers the active terminal among several claude sessions', () => {
    const a = host.openTerminal(new FakeTerminal('a'));
    host.run(a, 'claude');
    const b = host.openTerminal(new FakeTerminal('b'));
    host.run(b, 'claude');
    const c = host.openTerminal(new FakeTerminal('c'));
    host.run(c, 'claude');
    host.activeTerminal = a;
    assert.equal(bridge.claudeTerminals()[0]?.terminal, a);
    host.activeTerminal = undefined;
    assert.equal(bridge.claudeTerminals()[0]?.terminal, c, 'else the newest');
  });

  test('refuses terminals that do not run claude, whatever their name', async () => {
    const named = host.openTerminal(new FakeTerminal('claude'));
    host.run(named, 'vim notes.md');
    const idle = host.openTerminal(new FakeTerminal('Claude Code'));
    const done = host.run(idle, 'claude');
    host.finish(idle, done);
    const result = await restarter.restart({});
    assert.equal(result.outcome, 'not_found');
    assert.equal(notifier.confirms.length, 0);
    assert.deepEqual(named.sent, []);
    assert.deepEqual(idle.sent, []);
  });

  test('a terminal without shell integration is recognised by its name only', async () => {
    const plain = host.openTerminal(new FakeTerminal('bash', false));
    const byName = host.openTerminal(new FakeTerminal('✳ Claude Code', false));
    const result = await restarter.restart({});
    assert.deepEqual(result, { outcome: 'restarted', detail: "terminal '✳ Claude Code': claude --continue" });
    assert.deepEqual(byName.sent, [
      [CTRL_C, false],
      [CTRL_C, false],
      ['claude --continue', true],
    ]);
    assert.deepEqual(plain.sent, []);
  });

  test('the user declines: cancelled, nothing typed', async () => {
    const t = host.openTerminal(new FakeTerminal('zsh'));
    host.run(t, 'claude');
    notifier.answer = false;
    assert.deepEqual(await restarter.restart({}), { outcome: 'cancelled', detail: 'the user declined' });
    assert.deepEqual(t.sent, []);
  });

  test('the session ended while the dialog was open: not_found, nothing typed', async () => {
    const t = host.openTerminal(new FakeTerminal('zsh'));
    const exec = host.run(t, 'claude');
    notifier.duringConfirm = () => {
      host.finish(t, exec);
    };
    assert.equal((await restarter.restart({})).outcome, 'not_found');
    assert.deepEqual(t.sent, []);
  });

  test('claude does not exit: failed, and `claude --continue` is not typed into it', async () => {
    const t = host.openTerminal(new FakeTerminal('zsh'));
    host.run(t, 'claude');
    const pending = restarter.restart({});
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(EXIT_TIMEOUT_MS);
    const result = await pending;
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /did not exit/);
    assert.deepEqual(t.sent, [
      [CTRL_C, false],
      [CTRL_C, false],
    ]);
    assert.deepEqual(t.shellIntegration?.executed, []);
  });

  test('no terminal at all: not_found', async () => {
    assert.deepEqual(await restarter.restart({}), { outcome: 'not_found', detail: 'no terminal is running claude' });
  });
});
