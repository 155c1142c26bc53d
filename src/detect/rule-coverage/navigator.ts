/**
 * The coverage report as an ATT&CK Navigator layer (layer format 4.5): one entry per technique the rules
 * are tagged with, score 2 when rules of a logsource that receives data cover it, 1 when its rules are
 * only loaded. Open it at https://mitre-attack.github.io/attack-navigator/ ("Open Existing Layer").
 * No `tactic` field: the Navigator shows a technique's annotation under every tactic it belongs to.
 */
import type { CoverageReport } from './report.ts';

export const COLOR_RECEIVES_DATA = '#31a354';
export const COLOR_LOADED_ONLY = '#fdbf6f';

export interface NavigatorLayer {
  readonly name: string;
  readonly versions: { readonly attack: string; readonly navigator: string; readonly layer: string };
  readonly domain: 'enterprise-attack';
  readonly description: string;
  readonly sorting: number;
  readonly layout: { readonly layout: 'side'; readonly showID: boolean; readonly showName: boolean; readonly expandedSubtechniques: 'annotated' };
  readonly hideDisabled: boolean;
  readonly techniques: readonly { readonly techniqueID: string; readonly score: number; readonly color: string; readonly comment: string; readonly enabled: boolean }[];
  readonly gradient: { readonly colors: readonly string[]; readonly minValue: number; readonly maxValue: number };
  readonly legendItems: readonly { readonly label: string; readonly color: string }[];
  readonly metadata: readonly { readonly name: string; readonly value: string }[];
}

export function navigatorLayer(report: CoverageReport, name = 'otel-sigma coverage'): NavigatorLayer {
  const receiving = report.techniques.filter((t) => t.state === 'receives_data').length;
  return {
    name,
    // ATT&CK 18 is the version SigmaHQ's tags follow (stealth, defense-impairment); the Navigator offers to
    // upgrade a layer of another version.
    versions: { attack: '18', navigator: '5.2.0', layer: '4.5' },
    domain: 'enterprise-attack',
    description: `Techniques tagged on the loaded Sigma rules: ${receiving} covered by rules that receive data (score 2), ` +
      `${report.techniques.length - receiving} by rules that are only loaded (score 1). Generated ${report.generated_at}.`,
    sorting: 3,
    layout: { layout: 'side', showID: true, showName: true, expandedSubtechniques: 'annotated' },
    hideDisabled: false,
    techniques: report.techniques.map((t) => ({
      techniqueID: t.id,
      score: t.state === 'receives_data' ? 2 : 1,
      color: t.state === 'receives_data' ? COLOR_RECEIVES_DATA : COLOR_LOADED_ONLY,
      comment: `${t.rules} rule${t.rules === 1 ? '' : 's'} loaded, ${t.rules_receiving} of them on logsources that receive data`,
      enabled: true,
    })),
    gradient: { colors: ['#ffffff', COLOR_LOADED_ONLY, COLOR_RECEIVES_DATA], minValue: 0, maxValue: 2 },
    legendItems: [
      { label: 'rules receive data', color: COLOR_RECEIVES_DATA },
      { label: 'rules loaded, no data yet', color: COLOR_LOADED_ONLY },
    ],
    metadata: [
      { name: 'generated', value: report.generated_at },
      { name: 'rules', value: String(report.rules) },
      { name: 'rules receiving data', value: String(report.rules_receiving) },
      { name: 'counting since', value: report.counters.since ?? 'never (no counters)' },
    ],
  };
}
