// Answering the server's `hiccup/restartClaudeCode` request: stop the Claude Code session running
// in a terminal and resume it with `--continue`, after the user agrees.
//
// How it stops Claude Code: Ctrl+C twice, 500 ms apart. The alternative, typing `/exit` + Enter,
// only works at an idle, empty prompt; when a restart is suggested Claude Code is usually busy
// retrying ("⎿ API Error: 500 … Retrying in 8 seconds… (attempt 4/10)"), and text typed then is
// queued as a prompt (or appended to a half-typed one) instead of running as a command. Ctrl+C
// works in every state: the first press cancels the request or clears the input, the second (within
// Claude Code's double-press window) exits.

import { continueCommandFor } from './claudeCommand';
import type { Clock, Notifier, Terminal } from './ports';
import type { RestartClaudeCodeParams, RestartClaudeCodeResult } from './protocol';
import type { ClaudeTerminal } from './terminalBridge';

export const CTRL_C = '\x03';
export const KEY_GAP_MS = 500;
/** With shell integration we wait for the command to end before typing anything. */
export const EXIT_TIMEOUT_MS = 5_000;
/** Without it we cannot see Claude Code exit; give it this long. */
export const BLIND_EXIT_WAIT_MS = 1_500;

export interface ClaudeTerminals {
  claudeTerminals(): ClaudeTerminal[];
  isRunningClaude(terminal: Terminal): boolean;
  waitForCommandEnd(terminal: Terminal, timeoutMs: number): Promise<boolean>;
}

export interface RestartDeps {
  terminals: ClaudeTerminals;
  notifier: Notifier;
  clock: Clock;
  log?(message: string): void;
}

export class ClaudeRestarter {
  private busy = false;

  constructor(private readonly deps: RestartDeps) {}

  async restart(params: RestartClaudeCodeParams): Promise<RestartClaudeCodeResult> {
    if (this.busy) {
      return { outcome: 'cancelled', detail: 'a restart is already in progress' };
    }
    this.busy = true;
    try {
      return await this.run(params);
    } catch (error) {
      return { outcome: 'failed', detail: String(error instanceof Error ? error.message : error) };
    } finally {
      this.busy = false;
    }
  }

  private async run(params: RestartClaudeCodeParams): Promise<RestartClaudeCodeResult> {
    const { terminals, notifier, clock } = this.deps;
    const [found] = terminals.claudeTerminals();
    if (found === undefined) {
      return { outcome: 'not_found', detail: 'no terminal is running claude' };
    }
    const { terminal, commandLine } = found;
    const next = continueCommandFor(commandLine);
    const why = params.reason !== undefined && params.reason.length > 0 ? `${params.reason}.\n\n` : '';
    const ok = await notifier.confirm(
      `Restart Claude Code in terminal '${terminal.name}'?`,
      `${why}Hiccup will press Ctrl+C twice to stop it, then run \`${next}\` to resume the conversation.`,
      'Restart',
    );
    if (!ok) {
      return { outcome: 'cancelled', detail: 'the user declined' };
    }
    // The modal may have been open for a while: the session could have ended meanwhile.
    const tracked = commandLine !== undefined;
    if (tracked && !terminals.isRunningClaude(terminal)) {
      return { outcome: 'not_found', detail: `terminal '${terminal.name}' is no longer running claude` };
    }
    terminal.show(false);
    terminal.sendText(CTRL_C, false);
    await clock.sleep(KEY_GAP_MS);
    terminal.sendText(CTRL_C, false);
    if (tracked) {
      if (!(await terminals.waitForCommandEnd(terminal, EXIT_TIMEOUT_MS))) {
        return {
          outcome: 'failed',
          detail: `Claude Code in terminal '${terminal.name}' did not exit after Ctrl+C; nothing was typed`,
        };
      }
    } else {
      await clock.sleep(BLIND_EXIT_WAIT_MS);
    }
    if (terminal.shellIntegration !== undefined) {
      terminal.shellIntegration.executeCommand(next);
    } else {
      terminal.sendText(next, true);
    }
    this.deps.log?.(`restarted Claude Code in terminal '${terminal.name}': ${next}`);
    return { outcome: 'restarted', detail: `terminal '${terminal.name}': ${next}` };
  }
}
