// Recognising the Claude Code launch in a terminal, from the shell-integration command line
// ("claude", "claude --model opus", "npx @anthropic-ai/claude-code", "hiccup run -- claude") or,
// for a shell without integration, from the terminal's name ("claude", "✳ Claude Code").

const CLAUDE_BINARIES = new Set(['claude', 'claude.exe', 'claude.cmd']);
const CLAUDE_PACKAGE = '@anthropic-ai/claude-code';
const PACKAGE_RUNNERS = new Set(['npx', 'bunx', 'pnpx']);
const CLAUDE_TERMINAL_NAMES = new Set(['claude', 'claude code']);

function words(commandLine: string): string[] {
  return commandLine
    .split(' ')
    .flatMap((w) => w.split('\t'))
    .filter((w) => w.length > 0);
}

function basename(word: string): string {
  const slash = Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\'));
  return word.slice(slash + 1);
}

function isClaudeProgram(word: string): boolean {
  if (CLAUDE_BINARIES.has(basename(word))) {
    return true;
  }
  // "@anthropic-ai/claude-code@1.0.40"
  return word === CLAUDE_PACKAGE || word.startsWith(`${CLAUDE_PACKAGE}@`);
}

/**
 * Index of the word that names Claude Code, or -1. Accepts a direct launch, a package runner
 * (`npx -y claude`, `pnpm dlx …`) and Hiccup's own wrapper (`hiccup run -- claude`);
 * leading `VAR=value` assignments are skipped.
 */
function claudeWordIndex(w: readonly string[]): number {
  const at = (k: number): string => w[k] ?? '';
  const skipFlags = (from: number): number => {
    let j = from;
    while (at(j).startsWith('-')) {
      j++;
    }
    return j;
  };
  let i = 0;
  while (at(i).includes('=') && !at(i).startsWith('-')) {
    i++;
  }
  if (isClaudeProgram(at(i))) {
    return i;
  }
  const program = basename(at(i));
  let j = -1;
  if (PACKAGE_RUNNERS.has(program)) {
    j = skipFlags(i + 1);
  } else if ((program === 'pnpm' && at(i + 1) === 'dlx') || (program === 'hiccup' && at(i + 1) === 'run')) {
    j = skipFlags(i + 2);
  }
  return j >= 0 && isClaudeProgram(at(j)) ? j : -1;
}

export function isClaudeCommandLine(commandLine: string | undefined): boolean {
  return commandLine !== undefined && claudeWordIndex(words(commandLine)) >= 0;
}

/**
 * The command that resumes the conversation in the same way it was launched:
 * "npx @anthropic-ai/claude-code --model opus" → "npx @anthropic-ai/claude-code --continue".
 * Flags after the program are dropped: `-p "…"` or `--resume <id>` must not be replayed.
 */
export function continueCommandFor(commandLine: string | undefined): string {
  const w = words(commandLine ?? '');
  const i = claudeWordIndex(w);
  if (i < 0) {
    return 'claude --continue';
  }
  return [...w.slice(0, i + 1), '--continue'].join(' ');
}

/** "claude", "Claude Code", and the title Claude Code sets itself ("✳ Claude Code"). */
export function isClaudeTerminalName(name: string): boolean {
  const lower = name.toLowerCase().trim();
  let start = 0;
  while (start < lower.length && !((lower[start] ?? '') >= 'a' && (lower[start] ?? '') <= 'z')) {
    start++;
  }
  return CLAUDE_TERMINAL_NAMES.has(lower.slice(start));
}
