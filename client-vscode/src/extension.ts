// Activation: wire the server, the terminal bridge, the Claude Code restart, the status-bar item,
// the transcript documents and the palette commands together.

import * as vscode from 'vscode';
import { HiccupClient } from './client';
import * as host from './host';
import {
  Methods,
  ServerCommands,
  TRANSCRIPT_SCHEME,
  type RestartClaudeCodeParams,
  type RestartClaudeCodeResult,
  type StatusParams,
  type TerminalTranscriptResult,
} from './protocol';
import type { Disposable } from './ports';
import { ClaudeRestarter } from './restart';
import { HIDDEN, presentStatus, type StatusPresentation } from './statusBar';
import { TerminalBridge } from './terminalBridge';

export const Commands = {
  checkStatus: 'hiccup.checkStatus',
  restartClaude: 'hiccup.restartClaude',
  showTranscript: 'hiccup.showTerminalTranscript',
  restartServer: 'hiccup.restartServer',
  showOutput: 'hiccup.showOutput',
  openStatusPage: 'hiccup.openClaudeStatusPage',
} as const;

/** Settings that only take effect when the server is started again. */
const RESTART_SETTINGS = ['hiccup.serverCommand', 'hiccup.interpreter'];
const RESTART_DEBOUNCE_MS = 1_000;

let active: HiccupClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Hiccup', { log: true });
  const log = (message: string): void => {
    output.info(message);
  };

  // --- status bar -------------------------------------------------------------------------------
  const item = vscode.window.createStatusBarItem('hiccup.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Hiccup: Claude status';
  item.command = Commands.checkStatus;
  let status: StatusPresentation = HIDDEN;
  const showStatus = (p: StatusPresentation): void => {
    status = p;
    if (!p.visible) {
      item.hide();
      return;
    }
    item.text = p.text;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = { enabledCommands: p.links.map((l) => l.command) };
    tooltip.appendText(p.tooltip);
    tooltip.appendMarkdown(`\n\n${p.links.map((l) => `[${l.title}](command:${l.command})`).join(' · ')}`);
    item.tooltip = tooltip;
    item.backgroundColor =
      p.background === undefined ? undefined : new vscode.ThemeColor(`statusBarItem.${p.background}Background`);
    item.show();
  };

  // --- transcripts ------------------------------------------------------------------------------
  const transcriptChanged = new vscode.EventEmitter<vscode.Uri>();
  const lastDiagnostics = new Map<string, string>();
  const reapply = new Map<string, () => void>();
  const isOpen = (uri: vscode.Uri): boolean =>
    vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());

  const client = new HiccupClient(context, output, {
    onCreated(lc) {
      lc.onNotification(Methods.status, (params: StatusParams) => {
        showStatus(presentStatus(params, { check: Commands.checkStatus, openPage: Commands.openStatusPage }));
      });
      lc.onRequest(
        Methods.restartClaudeCode,
        (params: RestartClaudeCodeParams | null): Promise<RestartClaudeCodeResult> => restarter.restart(params ?? {}),
      );
    },
    // New diagnostics on a transcript mean new output: an open transcript is re-read from the
    // server. They arrive before the new text does, so VS Code places them on the old text
    // (clamped to its end); they are applied once more when the re-read text is in.
    onDiagnostics(uri, diagnostics, apply) {
      if (uri.scheme !== TRANSCRIPT_SCHEME) {
        return;
      }
      const key = uri.toString();
      reapply.set(key, apply);
      const signature = JSON.stringify(diagnostics.map((d) => [d.range, d.message]));
      if (lastDiagnostics.get(key) !== signature) {
        lastDiagnostics.set(key, signature);
        if (isOpen(uri)) {
          transcriptChanged.fire(uri);
        }
      }
    },
    onStopped() {
      showStatus(HIDDEN);
    },
  });

  const bridge = new TerminalBridge({
    host: host.terminalHost(),
    sink: client,
    clock: host.clock,
    notifier: host.notifier,
    globalState: host.memento(context.globalState),
    enabled: () => host.settings().get<boolean>('terminalBridge.enabled', true),
    log,
    debug: (message) => {
      output.debug(message);
    },
  });
  const restarter = new ClaudeRestarter({ terminals: bridge, notifier: host.notifier, clock: host.clock, log });

  context.subscriptions.push(
    output,
    item,
    transcriptChanged,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.scheme === TRANSCRIPT_SCHEME) {
        reapply.get(e.document.uri.toString())?.();
      }
    }),
    client,
    bridge,
    vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, {
      onDidChange: transcriptChanged.event,
      async provideTextDocumentContent(uri) {
        try {
          const r = await client.request<TerminalTranscriptResult>(Methods.terminalTranscript, { uri: uri.toString() });
          return r.text;
        } catch (error) {
          return `Hiccup could not load this transcript: ${error instanceof Error ? error.message : String(error)}\n`;
        }
      },
    }),
  );

  // --- commands ---------------------------------------------------------------------------------
  const notRunning = async (): Promise<void> => {
    const show = 'Show output';
    if ((await vscode.window.showWarningMessage("Hiccup's language server is not running.", show)) === show) {
      output.show();
    }
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.checkStatus, async () => {
      if (!client.running) {
        return notRunning();
      }
      await client.executeServerCommand(ServerCommands.checkStatusNow);
    }),
    vscode.commands.registerCommand(Commands.restartClaude, async () => {
      const result = await restarter.restart({ reason: 'Restart requested from the command palette' });
      if (result.outcome === 'not_found') {
        void vscode.window.showInformationMessage(
          'Hiccup: no terminal is running Claude Code (started as `claude`, `npx @anthropic-ai/claude-code` or `hiccup run -- claude`).',
        );
      } else if (result.outcome === 'failed') {
        void vscode.window.showWarningMessage(`Hiccup: ${result.detail}. Type /exit, then claude --continue.`);
      }
    }),
    vscode.commands.registerCommand(Commands.showTranscript, async () => {
      const known = bridge.knownTerminals();
      if (known.length === 0) {
        void vscode.window.showInformationMessage(
          'Hiccup: no terminal output has reached Hiccup yet (it needs terminal shell integration).',
        );
        return;
      }
      const pick = await vscode.window.showQuickPick(
        known.map((t) => ({ label: t.name, description: t.open ? `terminal ${t.id}` : `terminal ${t.id} (closed)`, uri: t.uri })),
        { placeHolder: 'Terminal transcript to open' },
      );
      if (pick === undefined) {
        return;
      }
      const uri = vscode.Uri.parse(pick.uri);
      if (isOpen(uri)) {
        transcriptChanged.fire(uri);
      }
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    }),
    vscode.commands.registerCommand(Commands.restartServer, () => client.restart()),
    vscode.commands.registerCommand(Commands.showOutput, () => {
      output.show();
    }),
    vscode.commands.registerCommand(Commands.openStatusPage, () => {
      const url = status.pageUrl ?? host.settings().get<string>('statusPage.url', 'https://status.claude.com');
      return vscode.env.openExternal(vscode.Uri.parse(url));
    }),
  );

  // --- restarts on setting / trust / interpreter changes -----------------------------------------
  let pendingRestart: Disposable | undefined;
  const restartSoon = (why: string): void => {
    pendingRestart?.dispose();
    pendingRestart = host.clock.setTimeout(() => {
      log(`${why}: restarting the server`);
      void client.restart();
    }, RESTART_DEBOUNCE_MS);
  };
  context.subscriptions.push(
    new vscode.Disposable(() => {
      pendingRestart?.dispose();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      const changed = RESTART_SETTINGS.find((s) => e.affectsConfiguration(s));
      if (changed !== undefined) {
        restartSoon(`${changed} changed`);
      }
    }),
    // Restricted settings (serverCommand, interpreter) only count once the workspace is trusted.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      restartSoon('workspace trusted');
    }),
  );
  void host.onPythonInterpreterChange(() => {
    const cfg = host.settings();
    if ((cfg.get<string[]>('serverCommand') ?? []).length === 0 && (cfg.get<string>('interpreter') ?? '') === '') {
      restartSoon("the Python extension's interpreter changed");
    }
  }).then((d) => {
    if (d !== undefined) {
      context.subscriptions.push(d);
    }
  });

  active = client;
  bridge.start();
  void client.restart();
}

/** VS Code waits for this promise, so the server gets its shutdown/exit. */
export function deactivate(): Promise<void> | undefined {
  return active?.stop();
}
