// The language client's life: find the server command, start it with our options and middleware,
// restart it on request, and report a server that cannot start exactly once.

import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import * as host from './host';
import type { ServerSink } from './ports';
import { initializationOptions, TRANSCRIPT_SCHEME } from './protocol';
import { nodeProbes, resolveServerCommand, type ServerCommand } from './serverCommand';
import { addTrust, SECTION } from './settings';
import { isOwnOutputChannel } from './transcripts';

/**
 * vscode-languageclient pops up its own notification when the connection fails ("couldn't create
 * connection to server"), on top of ours. Everything it reports still goes to the output channel;
 * the user gets one message, from reportFailure, with the fix.
 */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;

export interface ClientHooks {
  /** Called for each new LanguageClient before it starts, to register notification/request handlers. */
  onCreated(client: LanguageClient): void;
  /** Diagnostics published for a URI; `apply` shows them (again), e.g. after the document changed. */
  onDiagnostics?(uri: vscode.Uri, diagnostics: readonly vscode.Diagnostic[], apply: () => void): void;
  onStopped?(): void;
}

export class HiccupClient implements ServerSink, vscode.Disposable {
  private client: LanguageClient | undefined;
  private command: ServerCommand | undefined;
  private failureShown = false;
  /** Whether the current server got through `initialize`; one that never did is not restarted. */
  private reachedRunning = false;
  private restarts: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
    private readonly hooks: ClientHooks,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Start (or restart) the server; calls are serialised so a burst of restarts cannot interleave. */
  restart(): Promise<void> {
    this.queue = this.queue.then(() => this.doRestart()).catch((error: unknown) => {
      this.output.error(`restarting the server failed: ${String(error)}`);
    });
    return this.queue;
  }

  stop(): Promise<void> {
    this.queue = this.queue.then(() => this.doStop());
    return this.queue;
  }

  dispose(): void {
    void this.stop();
  }

  notify(method: string, params: object): void {
    if (this.client === undefined || !this.running) {
      return;
    }
    this.client.sendNotification(method, params).catch((error: unknown) => {
      this.output.warn(`${method} not sent: ${String(error)}`);
    });
  }

  async request<R>(method: string, params: object): Promise<R> {
    if (this.client === undefined || !this.running) {
      throw new Error("Hiccup's language server is not running");
    }
    return this.client.sendRequest<R>(method, params);
  }

  executeServerCommand(command: string, args: unknown[] = []): Promise<unknown> {
    return this.request(ExecuteCommandRequest.method, { command, arguments: args });
  }

  private settingsForServer(): unknown {
    const plain: unknown = JSON.parse(JSON.stringify(host.settings()));
    return addTrust([{ section: SECTION }], [plain], vscode.workspace.isTrusted)[0];
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      if (client.state === State.Running) {
        await client.stop();
      }
      await client.dispose();
    } catch (error) {
      this.output.warn(`stopping the server: ${String(error)}`);
    } finally {
      this.hooks.onStopped?.();
    }
  }

  private async doRestart(): Promise<void> {
    await this.doStop();
    const folder = vscode.workspace.workspaceFolders?.[0];
    const cfg = host.settings();
    const resolution = await resolveServerCommand(
      {
        serverCommand: cfg.get<string[]>('serverCommand') ?? [],
        interpreter: cfg.get<string>('interpreter') ?? '',
        pythonExtensionInterpreter: await host.pythonExtensionInterpreter(folder?.uri),
        workspaceFolder: folder?.uri.fsPath,
      },
      nodeProbes,
    );
    for (const note of resolution.notes) {
      this.output.info(note);
    }
    if (!resolution.ok) {
      this.output.error(resolution.message);
      this.reportFailure(resolution.message);
      return;
    }
    this.command = resolution.command;
    const { command, args, origin } = resolution.command;
    this.output.info(`starting the server (from ${origin}): ${[command, ...args].join(' ')}`);
    this.restarts = [];
    const client = this.create(resolution.command);
    this.client = client;
    this.hooks.onCreated(client);
    this.reachedRunning = false;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.reachedRunning = true;
        this.failureShown = false;
      }
    });
    try {
      await client.start();
    } catch (error) {
      this.output.error(`the server did not start: ${String(error)}`);
      const setting = origin === 'hiccup.serverCommand' ? origin : 'hiccup.interpreter';
      this.reportFailure(
        `Hiccup: the language server (\`${[command, ...args].join(' ')}\`) did not start. ` +
          `Check that \`hiccup serve\` works there (\`pip install hiccup\`), or set "${setting}".`,
        setting,
      );
    }
  }

  private create(cmd: ServerCommand): LanguageClient {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const serverOptions: ServerOptions = {
      command: cmd.command,
      args: cmd.args,
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const extensionId = this.context.extension.id;
    const skipOwnOutput =
      <T extends unknown[]>(next: (doc: vscode.TextDocument, ...rest: T) => Promise<void>) =>
      (doc: vscode.TextDocument, ...rest: T): Promise<void> =>
        isOwnOutputChannel(doc.uri.scheme, doc.uri.path, extensionId) ? Promise.resolve() : next(doc, ...rest);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'log' },
        { scheme: 'file', language: 'plaintext' },
        { pattern: '**/*.{log,txt,jsonl}' },
        { scheme: TRANSCRIPT_SCHEME },
        { scheme: 'output' },
      ],
      synchronize: { configurationSection: SECTION },
      initializationOptions,
      outputChannel: this.output,
      // Failures are reported once, in our own words (reportFailure), not by popping the channel open.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: () => false,
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: (): CloseHandlerResult => this.onClosed(),
      },
      middleware: {
        didOpen: (doc, next) => skipOwnOutput(next)(doc),
        didClose: (doc, next) => skipOwnOutput(next)(doc),
        didSave: (doc, next) => skipOwnOutput(next)(doc),
        // A transcript's text is the server's own; VS Code's copy only changes when we re-read it
        // from the server, and echoing that edit back would append the new lines a second time.
        didChange: (event, next) =>
          event.document.uri.scheme === TRANSCRIPT_SCHEME ||
          isOwnOutputChannel(event.document.uri.scheme, event.document.uri.path, extensionId)
            ? Promise.resolve()
            : next(event),
        handleDiagnostics: (uri, diagnostics, next) => {
          const apply = (): void => {
            next(uri, diagnostics);
          };
          this.hooks.onDiagnostics?.(uri, diagnostics, apply);
          apply();
        },
        workspace: {
          configuration: async (params, token, next) => {
            const results = await next(params, token);
            return Array.isArray(results) ? addTrust(params.items, results, vscode.workspace.isTrusted) : results;
          },
          didChangeConfiguration: async () => {
            await this.client?.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { [SECTION]: this.settingsForServer() },
            });
          },
        },
      },
    };
    return new QuietLanguageClient('hiccup', 'Hiccup', serverOptions, clientOptions);
  }

  private onClosed(): CloseHandlerResult {
    if (!this.reachedRunning) {
      // Exited before answering `initialize` (not installed, wrong interpreter, crash on import):
      // restarting would fail the same way. doRestart() reports it once.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.restarts.length <= MAX_RESTARTS) {
      this.output.warn('the server exited; restarting it');
      return { action: CloseAction.Restart, handled: true };
    }
    const cmd = this.command === undefined ? '' : ` (\`${[this.command.command, ...this.command.args].join(' ')}\`)`;
    this.reportFailure(`Hiccup: the language server${cmd} keeps exiting; it will not be restarted.`);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  /** One notification per failure, with the fix, never a stack trace. */
  private reportFailure(message: string, setting = 'hiccup.interpreter'): void {
    if (this.failureShown) {
      return;
    }
    this.failureShown = true;
    const output = 'Show output';
    const settings = 'Open settings';
    void vscode.window.showErrorMessage(message, output, settings).then((choice) => {
      if (choice === output) {
        this.output.show();
      } else if (choice === settings) {
        void vscode.commands.executeCommand('workbench.action.openSettings', setting);
      }
    });
  }
}
