/**
 * Looks up triage facts (user, process image, group-by keys) on a Detection. The rule's matched
 * fields are checked first, then the mapped Sigma event (parsed lazily: only alerts pay for it,
 * and alerts are rare next to records), then the OTLP log and resource attributes.
 */
import type { Detection } from '../detect/detection.ts';

const USER_KEYS = ['User', 'SubjectUserName', 'TargetUserName', 'UserName', 'AccountName', 'user', 'user.name', 'auid', 'uid'];
const IMAGE_KEYS = ['Image', 'NewProcessName', 'ProcessName', 'ParentImage', 'exe', 'process.executable', 'comm'];

export class DetectionFields {
  readonly #d: Detection;
  #event: Record<string, unknown> | undefined;

  constructor(d: Detection) {
    this.#d = d;
  }

  /** First non-empty value of `key`, as a string; '' when the detection does not carry it. */
  get(key: string): string {
    switch (key) {
      case 'rule_id':
        return this.#d.ruleId;
      case 'host':
        return this.#d.host;
      case 'level':
        return this.#d.ruleLevel;
      case 'product':
        return this.#d.product;
      case 'category':
        return this.#d.category;
      case 'service':
        return this.#d.service;
      case 'user':
        return this.first(USER_KEYS);
      case 'image':
        return this.first(IMAGE_KEYS);
      default:
        return this.lookup(key);
    }
  }

  first(keys: readonly string[]): string {
    for (const k of keys) {
      const v = this.lookup(k);
      if (v !== '') return v;
    }
    return '';
  }

  lookup(key: string): string {
    const d = this.#d;
    const m = d.matched[key];
    if (m !== undefined && m !== '') return m;
    const e = scalar(this.#fields()[key]);
    if (e !== '') return e;
    return d.event.logAttributes[key] || d.event.resourceAttributes[key] || '';
  }

  #fields(): Record<string, unknown> {
    if (this.#event !== undefined) return this.#event;
    this.#event = {};
    try {
      const parsed: unknown = JSON.parse(this.#d.event.sigmaEvent);
      if (isRecord(parsed)) this.#event = isRecord(parsed['fields']) ? parsed['fields'] : parsed;
    } catch {
      // A detection without a parseable event still alerts; it just lacks these labels.
    }
    return this.#event;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}
