// The terminal bridge: every command run in a terminal with shell integration has its raw output
// forwarded to the server (`hiccup/terminalData`), which keeps the transcript and classifies it.
// It also remembers which command each terminal is running, for the Claude Code restart.

import { isClaudeCommandLine, isClaudeTerminalName } from './claudeCommand';
import type {
  Clock,
  Disposable,
  Memento,
  Notifier,
  ServerSink,
  ShellExecution,
  ShellExecutionEnd,
  ShellExecutionStart,
  Terminal,
  TerminalHost,
} from './ports';
import { Methods, type TerminalClosedParams, type TerminalDataParams } from './protocol';
import { transcriptUri } from './transcripts';

export const SHELL_INTEGRATION_HINT_KEY = 'hiccup.shellIntegrationHintShown';
/** How long a new terminal may take to report shell integration before we call it unavailable. */
export const SHELL_INTEGRATION_GRACE_MS = 10_000;
const SHELL_INTEGRATION_SETTING = 'terminal.integrated.shellIntegration.enabled';

export interface BridgeOptions {
  host: TerminalHost;
  sink: ServerSink;
  clock: Clock;
  notifier: Notifier;
  globalState: Memento;
  /** `hiccup.terminalBridge.enabled`, read on every use so a change applies at once. */
  enabled(): boolean;
  log?(message: string): void;
  /** Per-command detail, shown when the output channel's level is Debug or Trace. */
  debug?(message: string): void;
}

export interface KnownTerminal {
  id: string;
  name: string;
  uri: string;
  open: boolean;
}

/** How a terminal was recognised as running Claude Code. */
export interface ClaudeTerminal {
  terminal: Terminal;
  /** The shell-integration command line, or undefined when only the terminal name matched. */
  commandLine: string | undefined;
}

export class TerminalBridge implements Disposable {
  private readonly ids = new WeakMap<Terminal, string>();
  private nextId = 1;
  private readonly running = new Map<Terminal, ShellExecution>();
  private readonly known = new Map<string, KnownTerminal>();
  private readonly exitWaiters = new Map<Terminal, Array<() => void>>();
  private readonly pendingChecks = new Map<Terminal, Disposable>();
  private readonly subscriptions: Disposable[] = [];
  private hintShown = false;

  constructor(private readonly o: BridgeOptions) {}

  start(): void {
    const { host } = this.o;
    const onStart = host.onDidStartTerminalShellExecution;
    const onEnd = host.onDidEndTerminalShellExecution;
    if (onStart === undefined || onEnd === undefined) {
      this.o.log?.('this editor has no terminal shell-integration API: the terminal bridge is off');
      this.hintOnce('This editor has no terminal shell-integration API (VS Code 1.93+)');
      return;
    }
    this.subscriptions.push(
      onStart((e) => {
        this.onExecutionStart(e);
      }),
      onEnd((e) => {
        this.onExecutionEnd(e);
      }),
      host.onDidOpenTerminal((t) => {
        this.watchShellIntegration(t);
      }),
      host.onDidCloseTerminal((t) => {
        this.onClose(t);
      }),
    );
    for (const t of host.terminals) {
      this.watchShellIntegration(t);
    }
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0)) {
      d.dispose();
    }
    for (const d of this.pendingChecks.values()) {
      d.dispose();
    }
    this.pendingChecks.clear();
  }

  /** A stable id for the terminal's whole life ("1", "2", …). */
  idOf(terminal: Terminal): string {
    let id = this.ids.get(terminal);
    if (id === undefined) {
      id = String(this.nextId++);
      this.ids.set(terminal, id);
    }
    return id;
  }

  /** Terminals whose output reached the server, newest first (their transcripts can be opened). */
  knownTerminals(): KnownTerminal[] {
    return [...this.known.values()].reverse();
  }

  /**
   * Terminals running Claude Code, best candidate first: the active terminal, then terminals
   * recognised by their running command, then (only for terminals without shell integration,
   * where we cannot see the command) by name. A terminal with shell integration whose current
   * command is not Claude Code is never a candidate, whatever its name.
   */
  claudeTerminals(): ClaudeTerminal[] {
    const byCommand: ClaudeTerminal[] = [];
    const byName: ClaudeTerminal[] = [];
    for (const terminal of this.o.host.terminals) {
      const execution = this.running.get(terminal);
      if (execution !== undefined) {
        if (isClaudeCommandLine(execution.commandLine.value)) {
          byCommand.push({ terminal, commandLine: execution.commandLine.value });
        }
      } else if (terminal.shellIntegration === undefined && isClaudeTerminalName(terminal.name)) {
        byName.push({ terminal, commandLine: undefined });
      }
    }
    const all = [...byCommand.reverse(), ...byName.reverse()];
    const active = this.o.host.activeTerminal;
    const i = all.findIndex((c) => c.terminal === active);
    if (i > 0) {
      all.unshift(...all.splice(i, 1));
    }
    return all;
  }

  /** Whether the terminal's current shell-integration command is Claude Code. */
  isRunningClaude(terminal: Terminal): boolean {
    const execution = this.running.get(terminal);
    return execution !== undefined && isClaudeCommandLine(execution.commandLine.value);
  }

  /** Resolves true when the terminal's current command ends, false after `timeoutMs`. */
  waitForCommandEnd(terminal: Terminal, timeoutMs: number): Promise<boolean> {
    if (!this.running.has(terminal)) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = this.o.clock.setTimeout(() => {
        const waiters = this.exitWaiters.get(terminal) ?? [];
        this.exitWaiters.set(
          terminal,
          waiters.filter((w) => w !== done),
        );
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        timer.dispose();
        resolve(true);
      };
      this.exitWaiters.set(terminal, [...(this.exitWaiters.get(terminal) ?? []), done]);
    });
  }

  private onExecutionStart(e: ShellExecutionStart): void {
    this.running.set(e.terminal, e.execution);
    this.cancelCheck(e.terminal);
    if (!this.o.enabled()) {
      return;
    }
    this.o.debug?.(`terminal ${this.idOf(e.terminal)} ('${e.terminal.name}'): reading \`${e.execution.commandLine.value}\``);
    // read() must be called right away: output produced before the call is not replayed.
    const stream = e.execution.read();
    void this.forward(e.terminal, e.execution, stream);
  }

  private async forward(terminal: Terminal, execution: ShellExecution, stream: AsyncIterable<string>): Promise<void> {
    const terminalId = this.idOf(terminal);
    const commandLine = execution.commandLine.value || undefined;
    let chunks = 0;
    try {
      for await (const data of stream) {
        if (data.length === 0 || !this.o.enabled()) {
          continue;
        }
        chunks++;
        this.known.set(terminalId, {
          id: terminalId,
          name: terminal.name,
          uri: transcriptUri(terminalId, terminal.name),
          open: true,
        });
        const params: TerminalDataParams = { terminalId, name: terminal.name, data };
        if (commandLine !== undefined) {
          params.commandLine = commandLine;
        }
        this.o.sink.notify(Methods.terminalData, params);
      }
      this.o.debug?.(`terminal ${terminalId}: \`${execution.commandLine.value}\` done, ${chunks} chunks forwarded`);
    } catch (error) {
      this.o.log?.(`terminal ${terminalId}: reading its output failed: ${String(error)}`);
    }
  }

  private onExecutionEnd(e: ShellExecutionEnd): void {
    if (this.running.get(e.terminal) === e.execution) {
      this.running.delete(e.terminal);
    }
    for (const resolve of this.exitWaiters.get(e.terminal) ?? []) {
      resolve();
    }
    this.exitWaiters.delete(e.terminal);
  }

  private onClose(terminal: Terminal): void {
    this.cancelCheck(terminal);
    this.running.delete(terminal);
    for (const resolve of this.exitWaiters.get(terminal) ?? []) {
      resolve();
    }
    this.exitWaiters.delete(terminal);
    const id = this.ids.get(terminal);
    const entry = id === undefined ? undefined : this.known.get(id);
    if (id === undefined || entry === undefined) {
      return;
    }
    entry.open = false;
    const params: TerminalClosedParams = { terminalId: id };
    this.o.sink.notify(Methods.terminalClosed, params);
  }

  /** A terminal that still has no shell integration after the grace period gets the hint. */
  private watchShellIntegration(terminal: Terminal): void {
    if (terminal.shellIntegration !== undefined || this.pendingChecks.has(terminal) || this.hintDone()) {
      return;
    }
    const timer = this.o.clock.setTimeout(() => {
      this.pendingChecks.delete(terminal);
      if (terminal.shellIntegration === undefined && this.o.enabled() && this.o.host.terminals.includes(terminal)) {
        this.hintOnce(`Terminal '${terminal.name}' has no shell integration`);
      }
    }, SHELL_INTEGRATION_GRACE_MS);
    this.pendingChecks.set(terminal, timer);
  }

  private cancelCheck(terminal: Terminal): void {
    this.pendingChecks.get(terminal)?.dispose();
    this.pendingChecks.delete(terminal);
  }

  private hintDone(): boolean {
    return this.hintShown || this.o.globalState.get(SHELL_INTEGRATION_HINT_KEY) === true;
  }

  private hintOnce(why: string): void {
    if (this.hintDone() || !this.o.enabled()) {
      return;
    }
    this.hintShown = true;
    void this.o.globalState.update(SHELL_INTEGRATION_HINT_KEY, true);
    const open = 'Open setting';
    void Promise.resolve(
      this.o.notifier.info(
        `Hiccup: ${why}, so it cannot read Claude Code's output there. Enable ` +
          `"${SHELL_INTEGRATION_SETTING}" (bash, zsh, fish, pwsh), or start Claude Code as ` +
          '`hiccup run -- claude`, which watches its output itself.',
        open,
      ),
    ).then((choice) => (choice === open ? this.o.notifier.openSettings(SHELL_INTEGRATION_SETTING) : undefined));
  }
}
