import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatusIndicator, StatusParams } from '../src/protocol';
import { presentStatus } from '../src/statusBar';

const commands = { check: 'hiccup.checkStatus', openPage: 'hiccup.openClaudeStatusPage' };
const status: StatusParams = {
  enabled: true,
  indicator: 'minor',
  text: 'Claude: minor incident',
  tooltip: 'Elevated errors on Claude Opus (investigating, 12 min ago)',
  url: 'https://status.claude.com',
  incidentUrl: 'https://stspg.io/abc',
  checkedAt: '2026-11-25T10:00:00Z',
  ageSeconds: 12,
};

test('icon per indicator', () => {
  const expected: Record<StatusIndicator, string> = {
    none: '$(check)',
    minor: '$(warning)',
    major: '$(error)',
    critical: '$(error)',
    maintenance: '$(tools)',
    unknown: '$(question)',
  };
  for (const [indicator, icon] of Object.entries(expected)) {
    const p = presentStatus({ ...status, indicator: indicator as StatusIndicator }, commands);
    assert.equal(p.text, `${icon} Claude: minor incident`, indicator);
  }
  const future = presentStatus({ ...status, indicator: 'degraded' as StatusIndicator }, commands);
  assert.ok(future.text.startsWith('$(question)'));
});

test('tooltip, links, background and page', () => {
  const p = presentStatus(status, commands);
  assert.equal(p.visible, true);
  assert.equal(p.tooltip, 'Elevated errors on Claude Opus (investigating, 12 min ago)\n\nchecked just now');
  assert.deepEqual(p.links, [
    { title: 'Check now', command: 'hiccup.checkStatus' },
    { title: 'Open status page', command: 'hiccup.openClaudeStatusPage' },
  ]);
  assert.equal(p.background, 'warning');
  assert.equal(p.pageUrl, 'https://stspg.io/abc');
  assert.equal(presentStatus({ ...status, indicator: 'major' }, commands).background, 'error');
  assert.equal(presentStatus({ ...status, indicator: 'none' }, commands).background, undefined);
  const noIncident = presentStatus({ ...status, incidentUrl: undefined, ageSeconds: 600 }, commands);
  assert.equal(noIncident.pageUrl, 'https://status.claude.com');
  assert.match(noIncident.tooltip, /checked 10 min ago/);
});

test('hidden when disabled', () => {
  assert.equal(presentStatus({ ...status, enabled: false }, commands).visible, false);
});
