// The few editor capabilities the testable modules need, as plain interfaces. vscode's own objects
// (vscode.window, vscode.Terminal, shell-integration events) satisfy them structurally; host.ts wires
// the rest, and the unit tests pass small fakes.

export interface Disposable {
  dispose(): unknown;
}

export type Event<T> = (listener: (e: T) => unknown) => Disposable;

export interface ShellIntegration {
  executeCommand(commandLine: string): unknown;
}

export interface Terminal {
  readonly name: string;
  readonly shellIntegration: ShellIntegration | undefined;
  sendText(text: string, shouldExecute?: boolean): void;
  show(preserveFocus?: boolean): void;
}

export interface ShellExecution {
  readonly commandLine: { readonly value: string };
  read(): AsyncIterable<string>;
}

export interface ShellExecutionStart {
  readonly terminal: Terminal;
  readonly execution: ShellExecution;
}

export interface ShellExecutionEnd {
  readonly terminal: Terminal;
  readonly execution: ShellExecution;
}

/** The terminal half of `vscode.window`; the shell-integration events are missing before VS Code 1.93. */
export interface TerminalHost {
  readonly terminals: readonly Terminal[];
  readonly activeTerminal: Terminal | undefined;
  readonly onDidOpenTerminal: Event<Terminal>;
  readonly onDidCloseTerminal: Event<Terminal>;
  readonly onDidStartTerminalShellExecution?: Event<ShellExecutionStart>;
  readonly onDidEndTerminalShellExecution?: Event<ShellExecutionEnd>;
}

export interface Clock {
  /** Editor-side waits only (key presses, a terminal that never reports shell integration). */
  sleep(ms: number): Promise<void>;
  setTimeout(callback: () => void, ms: number): Disposable;
}

/** globalState: remembers one-time hints. */
export interface Memento {
  get(key: string): unknown;
  update(key: string, value: unknown): PromiseLike<void>;
}

export interface Notifier {
  /** Non-modal information message; resolves to the chosen action. */
  info(message: string, ...actions: string[]): PromiseLike<string | undefined>;
  /** Modal warning with one confirming action; false when the user cancels. */
  confirm(message: string, detail: string, action: string): PromiseLike<boolean>;
  openSettings(query: string): PromiseLike<unknown>;
}

/** Notifications to the language server; dropped while it is not running. */
export interface ServerSink {
  notify(method: string, params: object): void;
}
