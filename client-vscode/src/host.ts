// The one place that adapts the `vscode` API to the interfaces in ports.ts (the glue modules
// extension.ts and client.ts use vscode directly; everything else is tested without it).

import * as vscode from 'vscode';
import type { Clock, Memento, Notifier, TerminalHost } from './ports';

export const clock: Clock = {
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    }),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    return {
      dispose: () => {
        clearTimeout(handle);
      },
    };
  },
};

export const notifier: Notifier = {
  info: (message, ...actions) => vscode.window.showInformationMessage(message, ...actions),
  confirm: async (message, detail, action) =>
    (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action,
  openSettings: (query) => vscode.commands.executeCommand('workbench.action.openSettings', query),
};

/**
 * `vscode.window`'s terminal API. The shell-integration events are looked up at run time: the
 * typings say 1.93, but a host that lacks them (an older VS Code fork) must get the hint, not a crash.
 */
export function terminalHost(): TerminalHost {
  const w = vscode.window as Partial<typeof vscode.window> & typeof vscode.window;
  const hasShellApi =
    typeof w.onDidStartTerminalShellExecution === 'function' && typeof w.onDidEndTerminalShellExecution === 'function';
  return {
    get terminals() {
      return vscode.window.terminals;
    },
    get activeTerminal() {
      return vscode.window.activeTerminal;
    },
    onDidOpenTerminal: vscode.window.onDidOpenTerminal,
    onDidCloseTerminal: vscode.window.onDidCloseTerminal,
    onDidStartTerminalShellExecution: hasShellApi ? vscode.window.onDidStartTerminalShellExecution : undefined,
    onDidEndTerminalShellExecution: hasShellApi ? vscode.window.onDidEndTerminalShellExecution : undefined,
  };
}

export function memento(state: vscode.Memento): Memento {
  return state;
}

export function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('hiccup');
}

interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(env: { id: string; path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

async function pythonEnvironments(): Promise<PythonEnvironmentsApi['environments']> {
  const ext = vscode.extensions.getExtension<PythonEnvironmentsApi | undefined>('ms-python.python');
  if (ext === undefined) {
    return undefined;
  }
  const api = ext.isActive ? ext.exports : await ext.activate();
  return api?.environments;
}

/** The Python extension's active interpreter, if that extension is installed (it is optional). */
export async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  try {
    const environments = await pythonEnvironments();
    if (environments === undefined) {
      return undefined;
    }
    const env = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
    return env?.executable.uri?.fsPath;
  } catch {
    return undefined;
  }
}

export async function onPythonInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    return (await pythonEnvironments())?.onDidChangeActiveEnvironmentPath(listener);
  } catch {
    return undefined;
  }
}
