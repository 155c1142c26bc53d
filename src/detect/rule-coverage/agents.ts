/**
 * What the shipped agent configurations (collector-config/, part of the package) collect: the Windows
 * event log channels of windows-agent.yaml and the Linux event sources (the mapper's `@source` values)
 * that linux-agent.yaml's receivers deliver. Only receivers listed in a pipeline count; the commented-out
 * alternatives in the files do not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const SHIPPED_AGENT_DIR = path.resolve(import.meta.dirname, '../../../collector-config');

export interface ShippedAgents {
  readonly windows: { readonly file: string; readonly channels: readonly string[] } | undefined;
  readonly linux: { readonly file: string; readonly sources: readonly string[] } | undefined;
}

interface CollectorConfig {
  readonly receivers?: Record<string, Record<string, unknown> | null>;
  readonly service?: { readonly pipelines?: Record<string, { readonly receivers?: readonly string[] } | null> };
}

/** Reads both agent files; a file that is missing or unreadable is `undefined` (coverage then says so). */
export function readShippedAgents(dir: string = SHIPPED_AGENT_DIR): ShippedAgents {
  const win = readConfig(path.join(dir, 'windows-agent.yaml'));
  const lin = readConfig(path.join(dir, 'linux-agent.yaml'));
  return {
    windows: win && { file: win.file, channels: windowsChannels(win.cfg) },
    linux: lin && { file: lin.file, sources: linuxSources(lin.cfg) },
  };
}

/** The file as the report names it: `collector-config/windows-agent.yaml` for the shipped one. */
function readConfig(file: string): { file: string; cfg: CollectorConfig } | undefined {
  const shown = path.dirname(file) === SHIPPED_AGENT_DIR ? path.join('collector-config', path.basename(file)) : file;
  try {
    return { file: shown, cfg: (parse(fs.readFileSync(file, 'utf8')) ?? {}) as CollectorConfig };
  } catch {
    return undefined;
  }
}

/** Receivers (name → settings) that some pipeline uses. */
function pipelineReceivers(cfg: CollectorConfig): [string, Record<string, unknown>][] {
  const used = new Set(Object.values(cfg.service?.pipelines ?? {}).flatMap((p) => p?.receivers ?? []));
  return Object.entries(cfg.receivers ?? {}).filter(([name]) => used.has(name)).map(([name, r]) => [name, r ?? {}]);
}

const typeOf = (receiver: string): string => receiver.split('/')[0]!;

export function windowsChannels(cfg: CollectorConfig): string[] {
  const out: string[] = [];
  for (const [name, r] of pipelineReceivers(cfg)) {
    if (!['windows_event_log', 'windowseventlog'].includes(typeOf(name))) continue;
    if (typeof r['channel'] === 'string') out.push(r['channel']);
  }
  return out;
}

/**
 * The event sources (src/map/linux meta.source) the receivers deliver: journald entries (and Sysmon for
 * Linux inside them), syslog lines from files or the syslog receiver, auditd records from audit.log (and
 * the process_creation events built from them).
 */
export function linuxSources(cfg: CollectorConfig): string[] {
  const out = new Set<string>();
  for (const [name, r] of pipelineReceivers(cfg)) {
    const type = typeOf(name);
    if (type === 'journald') ['journald', 'sysmon-linux'].forEach((s) => out.add(s));
    else if (type === 'syslog') ['syslog', 'sysmon-linux'].forEach((s) => out.add(s));
    else if (type === 'file_log' || type === 'filelog') {
      const include = Array.isArray(r['include']) ? (r['include'] as unknown[]).map(String) : [];
      for (const f of include) {
        if (/audit\.log/.test(f)) ['auditd', 'auditd-execve'].forEach((s) => out.add(s));
        else ['syslog', 'sysmon-linux'].forEach((s) => out.add(s));
      }
    }
  }
  return [...out];
}
