// Which command starts the language server: `hiccup.serverCommand` if set, else a Python that can
// import hiccup (`hiccup.interpreter`, then the Python extension's active interpreter) running
// `-m hiccup serve`, else `hiccup serve` from PATH.

import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ServerCommand {
  command: string;
  args: string[];
  /** Where it came from, for the log: "hiccup.interpreter", "PATH", … */
  origin: string;
}

export interface ResolveInput {
  serverCommand: readonly string[];
  interpreter: string;
  /** The Python extension's active interpreter, when that extension is installed. */
  pythonExtensionInterpreter: string | undefined;
  workspaceFolder: string | undefined;
}

export interface Probes {
  canImportHiccup(python: string): Promise<boolean>;
  findOnPath(program: string): Promise<string | undefined>;
}

export type Resolution = { ok: true; command: ServerCommand; notes: string[] } | { ok: false; message: string; notes: string[] };

export const SERVE_ARGS = ['-m', 'hiccup', 'serve'];

/** `~` and `${workspaceFolder}`, the two forms people put in interpreter paths. */
export function expandPath(value: string, workspaceFolder: string | undefined, home: string = os.homedir()): string {
  let v = value.trim();
  if (workspaceFolder !== undefined) {
    v = v.split('${workspaceFolder}').join(workspaceFolder);
  }
  if (v === '~' || v.startsWith('~/')) {
    v = home + v.slice(1);
  }
  return v;
}

export async function resolveServerCommand(input: ResolveInput, probes: Probes): Promise<Resolution> {
  const notes: string[] = [];
  const explicit = input.serverCommand.filter((a) => a.length > 0);
  if (explicit.length > 0) {
    const [command = '', ...args] = explicit.map((a) => expandPath(a, input.workspaceFolder));
    return { ok: true, command: { command, args, origin: 'hiccup.serverCommand' }, notes };
  }
  const pythons: Array<[string, string]> = [];
  if (input.interpreter.trim().length > 0) {
    pythons.push([expandPath(input.interpreter, input.workspaceFolder), 'hiccup.interpreter']);
  }
  if (input.pythonExtensionInterpreter !== undefined && input.pythonExtensionInterpreter.length > 0) {
    pythons.push([input.pythonExtensionInterpreter, 'the Python extension']);
  }
  for (const [python, origin] of pythons) {
    if (await probes.canImportHiccup(python)) {
      return { ok: true, command: { command: python, args: [...SERVE_ARGS], origin }, notes };
    }
    notes.push(`${python} (from ${origin}) cannot import hiccup`);
  }
  const onPath = await probes.findOnPath('hiccup');
  if (onPath !== undefined) {
    return { ok: true, command: { command: onPath, args: ['serve'], origin: 'PATH' }, notes };
  }
  notes.push('no `hiccup` on PATH');
  const first = pythons[0];
  const target = first === undefined ? 'pip install hiccup' : `${first[0]} -m pip install hiccup`;
  return {
    ok: false,
    message:
      `Hiccup: no language server found (${notes.join('; ')}). Install it with \`${target}\`, ` +
      'or set "hiccup.interpreter" to a Python that has it.',
    notes,
  };
}

export const nodeProbes: Probes = {
  canImportHiccup(python: string): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(python, ['-c', 'import hiccup'], { timeout: 15_000 }, (error) => {
        resolve(error === null);
      });
    });
  },
  async findOnPath(program: string): Promise<string | undefined> {
    const names = process.platform === 'win32' ? [`${program}.exe`, `${program}.cmd`] : [program];
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0)) {
      for (const name of names) {
        const candidate = path.join(dir, name);
        try {
          await fs.access(candidate, fsConstants.X_OK);
          return candidate;
        } catch {
          // not here
        }
      }
    }
    return undefined;
  },
};
