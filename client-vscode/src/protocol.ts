// Hiccup's custom LSP methods (docs/protocol.md is the contract; names are stable public interface).

export const Methods = {
  terminalData: 'hiccup/terminalData',
  terminalClosed: 'hiccup/terminalClosed',
  terminalTranscript: 'hiccup/terminalTranscript',
  status: 'hiccup/status',
  restartClaudeCode: 'hiccup/restartClaudeCode',
} as const;

/** Server commands (workspace/executeCommand) the client calls directly. */
export const ServerCommands = {
  checkStatusNow: 'hiccup.checkStatusNow',
} as const;

export const TRANSCRIPT_SCHEME = 'hiccup-terminal';

export interface TerminalDataParams {
  terminalId: string;
  name: string;
  data: string;
  commandLine?: string;
}

export interface TerminalClosedParams {
  terminalId: string;
}

export interface TerminalTranscriptParams {
  uri: string;
}

export interface TerminalTranscriptResult {
  uri: string;
  text: string;
}

export type StatusIndicator = 'none' | 'minor' | 'major' | 'critical' | 'maintenance' | 'unknown';

export interface StatusParams {
  enabled: boolean;
  indicator: StatusIndicator;
  text: string;
  tooltip?: string;
  url?: string;
  incidentUrl?: string;
  checkedAt?: string;
  ageSeconds?: number;
}

export interface RestartClaudeCodeParams {
  incidentId?: string;
  reason?: string;
}

export type RestartOutcome = 'restarted' | 'cancelled' | 'not_found' | 'failed';

export interface RestartClaudeCodeResult {
  outcome: RestartOutcome;
  detail: string;
}

/** What the client advertises in `initializationOptions` (protocol.md, "restartClaudeCode"). */
export const initializationOptions = {
  hiccup: { restartClaudeCode: true, terminalBridge: true, statusBar: true },
};
