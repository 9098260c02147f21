import assert from 'node:assert/strict';
import { test } from 'node:test';
import { continueCommandFor, isClaudeCommandLine, isClaudeTerminalName } from '../src/claudeCommand';

test('recognises Claude Code launches', () => {
  for (const line of [
    'claude',
    'claude --model opus',
    '/usr/local/bin/claude',
    'npx claude',
    'npx -y @anthropic-ai/claude-code',
    'npx @anthropic-ai/claude-code@1.0.40 --verbose',
    'pnpm dlx @anthropic-ai/claude-code',
    'hiccup run -- claude',
    'ANTHROPIC_LOG=debug claude',
  ]) {
    assert.ok(isClaudeCommandLine(line), line);
  }
  for (const line of ['', 'vim claude.md', 'cat claude', 'npm test', 'claudette', 'hiccup serve', 'git log --grep claude']) {
    assert.ok(!isClaudeCommandLine(line), line);
  }
  assert.ok(!isClaudeCommandLine(undefined));
});

test('the resume command keeps the launcher and drops other flags', () => {
  assert.equal(continueCommandFor('claude'), 'claude --continue');
  assert.equal(continueCommandFor('claude -p "fix the tests"'), 'claude --continue');
  assert.equal(continueCommandFor('npx -y @anthropic-ai/claude-code --resume abc'), 'npx -y @anthropic-ai/claude-code --continue');
  assert.equal(continueCommandFor('hiccup run -- claude'), 'hiccup run -- claude --continue');
  assert.equal(continueCommandFor(undefined), 'claude --continue');
});

test('terminal names', () => {
  for (const name of ['claude', 'Claude Code', '✳ Claude Code', ' claude ']) {
    assert.ok(isClaudeTerminalName(name), name);
  }
  for (const name of ['bash', 'claude-docs build', 'zsh', 'not claude code x']) {
    assert.ok(!isClaudeTerminalName(name), name);
  }
});
