// Small fakes of the editor ports (ports.ts) for the unit tests.

import type {
  Clock,
  Disposable,
  Event,
  Memento,
  Notifier,
  ServerSink,
  ShellExecution,
  ShellExecutionEnd,
  ShellExecutionStart,
  ShellIntegration,
  Terminal,
  TerminalHost,
} from '../src/ports';

export class Emitter<T> {
  private listeners: Array<(e: T) => unknown> = [];
  readonly event: Event<T> = (listener) => {
    this.listeners.push(listener);
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  get count(): number {
    return this.listeners.length;
  }
}

export class FakeShellIntegration implements ShellIntegration {
  readonly executed: string[] = [];
  executeCommand(commandLine: string): void {
    this.executed.push(commandLine);
  }
}

export class FakeTerminal implements Terminal {
  readonly sent: Array<[string, boolean | undefined]> = [];
  shown = 0;
  shellIntegration: FakeShellIntegration | undefined;
  constructor(
    public name: string,
    withShellIntegration = true,
  ) {
    this.shellIntegration = withShellIntegration ? new FakeShellIntegration() : undefined;
  }
  sendText(text: string, shouldExecute?: boolean): void {
    this.sent.push([text, shouldExecute]);
  }
  show(): void {
    this.shown++;
  }
}

/** An execution whose output the test pushes chunk by chunk. */
export class FakeExecution implements ShellExecution {
  readonly commandLine: { value: string };
  readCalls = 0;
  private chunks: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(commandLine: string) {
    this.commandLine = { value: commandLine };
  }
  push(...chunks: string[]): void {
    this.chunks.push(...chunks);
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  read(): AsyncIterable<string> {
    this.readCalls++;
    return this.iterate();
  }
  private async *iterate(): AsyncGenerator<string> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (this.ended) {
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

export class FakeTerminalHost implements TerminalHost {
  terminals: FakeTerminal[] = [];
  activeTerminal: FakeTerminal | undefined;
  readonly open = new Emitter<Terminal>();
  readonly close = new Emitter<Terminal>();
  readonly startExec = new Emitter<ShellExecutionStart>();
  readonly endExec = new Emitter<ShellExecutionEnd>();
  readonly onDidOpenTerminal = this.open.event;
  readonly onDidCloseTerminal = this.close.event;
  onDidStartTerminalShellExecution: Event<ShellExecutionStart> | undefined = this.startExec.event;
  onDidEndTerminalShellExecution: Event<ShellExecutionEnd> | undefined = this.endExec.event;

  openTerminal(t: FakeTerminal): FakeTerminal {
    this.terminals.push(t);
    this.open.fire(t);
    return t;
  }
  closeTerminal(t: FakeTerminal): void {
    this.terminals = this.terminals.filter((x) => x !== t);
    this.close.fire(t);
  }
  run(t: FakeTerminal, commandLine: string): FakeExecution {
    const execution = new FakeExecution(commandLine);
    this.startExec.fire({ terminal: t, execution });
    return execution;
  }
  finish(t: FakeTerminal, execution: FakeExecution): void {
    execution.end();
    this.endExec.fire({ terminal: t, execution });
  }
}

/** Timers run only when the test advances the clock; sleep() resolves at once but is recorded. */
export class FakeClock implements Clock {
  now = 0;
  readonly sleeps: number[] = [];
  private timers: Array<{ at: number; callback: () => void; live: boolean }> = [];
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return Promise.resolve();
  }
  setTimeout(callback: () => void, ms: number): Disposable {
    const timer = { at: this.now + ms, callback, live: true };
    this.timers.push(timer);
    return {
      dispose: () => {
        timer.live = false;
      },
    };
  }
  advance(ms: number): void {
    this.now += ms;
    for (const t of this.timers.filter((x) => x.live && x.at <= this.now)) {
      t.live = false;
      t.callback();
    }
    this.timers = this.timers.filter((x) => x.live);
  }
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }
}

export class FakeNotifier implements Notifier {
  readonly infos: string[] = [];
  readonly confirms: Array<{ message: string; detail: string }> = [];
  readonly settingsOpened: string[] = [];
  answer = true;
  infoChoice: string | undefined;
  /** Runs while the modal is "open" (e.g. the session ends meanwhile). */
  duringConfirm: (() => void) | undefined;
  info(message: string): Promise<string | undefined> {
    this.infos.push(message);
    return Promise.resolve(this.infoChoice);
  }
  confirm(message: string, detail: string): Promise<boolean> {
    this.confirms.push({ message, detail });
    this.duringConfirm?.();
    return Promise.resolve(this.answer);
  }
  openSettings(query: string): Promise<void> {
    this.settingsOpened.push(query);
    return Promise.resolve();
  }
}

export class FakeMemento implements Memento {
  readonly values = new Map<string, unknown>();
  get(key: string): unknown {
    return this.values.get(key);
  }
  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}

export class RecordingSink implements ServerSink {
  readonly sent: Array<{ method: string; params: Record<string, unknown> }> = [];
  notify(method: string, params: object): void {
    this.sent.push({ method, params: params as Record<string, unknown> });
  }
}

/** Let pending promise callbacks (the async iteration in the bridge) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
