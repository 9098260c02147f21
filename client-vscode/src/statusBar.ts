// What the status-bar item shows for a `hiccup/status` notification. The server decides the
// state and the words; this only maps them onto the item.

import type { StatusIndicator, StatusParams } from './protocol';

const ICONS: Record<StatusIndicator, string> = {
  none: '$(check)',
  minor: '$(warning)',
  major: '$(error)',
  critical: '$(error)',
  maintenance: '$(tools)',
  unknown: '$(question)',
};

const BACKGROUNDS: Partial<Record<StatusIndicator, 'warning' | 'error'>> = {
  minor: 'warning',
  major: 'error',
  critical: 'error',
};

export interface StatusLink {
  title: string;
  command: string;
}

export interface StatusPresentation {
  visible: boolean;
  text: string;
  /** Plain text (rendered escaped), followed by the links. */
  tooltip: string;
  links: StatusLink[];
  background: 'warning' | 'error' | undefined;
  /** Where "Open Claude status page" goes: the incident if there is one, else the page. */
  pageUrl: string | undefined;
}

export const HIDDEN: StatusPresentation = {
  visible: false,
  text: '',
  tooltip: '',
  links: [],
  background: undefined,
  pageUrl: undefined,
};

function age(seconds: number | undefined): string {
  if (seconds === undefined || seconds < 0) {
    return '';
  }
  if (seconds < 90) {
    return 'checked just now';
  }
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `checked ${minutes} min ago` : `checked ${Math.round(minutes / 60)} h ago`;
}

export function presentStatus(status: StatusParams, commands: { check: string; openPage: string }): StatusPresentation {
  if (!status.enabled) {
    return HIDDEN;
  }
  // An indicator this client does not know yet (a newer server) shows as unknown.
  const icon = (ICONS as Partial<Record<string, string>>)[status.indicator] ?? ICONS.unknown;
  const lines = [status.tooltip ?? status.text, age(status.ageSeconds)].filter((l) => l.length > 0);
  const pageUrl = status.incidentUrl ?? status.url;
  const links: StatusLink[] = [{ title: 'Check now', command: commands.check }];
  if (pageUrl !== undefined) {
    links.push({ title: 'Open status page', command: commands.openPage });
  }
  return {
    visible: true,
    text: `${icon} ${status.text}`,
    tooltip: lines.join('\n\n'),
    links,
    background: (BACKGROUNDS as Partial<Record<string, 'warning' | 'error'>>)[status.indicator],
    pageUrl,
  };
}
