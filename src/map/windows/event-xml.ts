/**
 * A small reader for the Windows Event XML schema (`raw: true` bodies), written for speed and for
 * hostile input: one forward pass with indexOf, no recursion, no DTD (a DOCTYPE is skipped, never
 * expanded), no exceptions, and every step advances, so it cannot hang. Malformed XML gives whatever
 * fields were read before the damage. Only what Sigma needs is kept:
 *   Event/System/X            → X (text) and X_Attr (attributes)
 *   Event/EventData/Data      → @Name (spaces removed) or param1, param2, … for unnamed items
 *   Event/EventData/Binary    → Binary
 *   Event/UserData/W/X        → X (UserData unwrapped one level, W is the provider's wrapper)
 *   Event/RenderingInfo/Message → Message
 *   Event/BinaryEventData     → BinaryEventData
 */
import { decodeEntities } from './xml-entities.ts';
import { putData, putSystem, type FieldBag } from './fields.ts';

/** System elements the collector always reports (even empty); other System elements only when non-empty. */
const SYSTEM_TEXT = new Set(['EventID', 'Version', 'Level', 'Task', 'Opcode', 'Keywords', 'EventRecordID', 'Channel', 'Computer']);

const MAX_ATTRS = 32;
/** Fields read from one event at most; real events have well under a hundred. */
const MAX_FIELDS = 4096;

const Capture = { none: 0, system: 1, eventData: 2, userData: 3, plain: 4 } as const;
type CaptureKind = (typeof Capture)[keyof typeof Capture];

/**
 * Reads `xml` into `out`. Returns true when the root element is `Event` and it carried a Channel or
 * an EventID, i.e. the text is a Windows event; false for anything else (the caller treats it as a
 * generic log, and `out` may hold partial fields it should discard).
 */
export function readEventXml(xml: string, out: FieldBag): boolean {
  const n = xml.length;
  const attrNames: string[] = [];
  const attrValues: string[] = [];
  let pos = 0;
  let depth = 0;
  let section = '';
  let unnamed = 0;
  let sawSystem = false;
  let fieldCount = 0;
  let capKind: CaptureKind = Capture.none;
  let capName = '';
  let capDepth = 0;
  let capText = '';

  const finish = (): void => {
    if (capKind === Capture.system) {
      if (capText.length > 0 || SYSTEM_TEXT.has(capName)) {
        putSystem(out, capName, capText.trim());
        sawSystem ||= capName === 'Channel' || capName === 'EventID';
      }
    } else if (capKind === Capture.eventData) putData(out, 'EventData', capName, capText);
    else if (capKind === Capture.userData) putData(out, 'UserData', capName, capText);
    else if (capKind === Capture.plain && capText.length > 0) out[capName] = capText;
    capKind = Capture.none;
    capText = '';
  };
  const capture = (kind: CaptureKind, name: string, d: number): void => {
    if (capKind !== Capture.none || ++fieldCount > MAX_FIELDS) return;
    capKind = kind;
    capName = name;
    capDepth = d;
    capText = '';
  };

  while (pos < n) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? n : lt;
    if (capKind !== Capture.none && textEnd > pos) capText += decodeEntities(xml.slice(pos, textEnd));
    if (lt < 0) break;
    const c1 = xml.charCodeAt(lt + 1);
    if (c1 === 33 /* ! */) {
      if (xml.startsWith('<![CDATA[', lt)) {
        const e = xml.indexOf(']]>', lt + 9);
        if (capKind !== Capture.none) capText += xml.slice(lt + 9, e < 0 ? n : e);
        pos = e < 0 ? n : e + 3;
      } else if (xml.startsWith('<!--', lt)) {
        const e = xml.indexOf('-->', lt + 4);
        pos = e < 0 ? n : e + 3;
      } else {
        const e = xml.indexOf('>', lt + 2);
        pos = e < 0 ? n : e + 1;
      }
      continue;
    }
    if (c1 === 63 /* ? */) {
      const e = xml.indexOf('?>', lt + 2);
      pos = e < 0 ? n : e + 2;
      continue;
    }
    if (c1 === 47 /* / */) {
      const e = xml.indexOf('>', lt + 2);
      pos = e < 0 ? n : e + 1;
      if (depth > 0) {
        if (capKind !== Capture.none && depth === capDepth) finish();
        depth--;
      }
      continue;
    }

    // Start tag: name, then attributes (quoted values may contain '>').
    let i = lt + 1;
    while (i < n && !isNameEnd(xml.charCodeAt(i))) i++;
    if (i === lt + 1) {
      // A lone '<' is not markup; keep it as text.
      if (capKind !== Capture.none) capText += '<';
      pos = lt + 1;
      continue;
    }
    const qname = xml.slice(lt + 1, i);
    const colon = qname.indexOf(':');
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    let attrCount = 0; // the arrays are reused; resetting their length is a slow path in V8
    let selfClose = false;
    let closed = false;
    while (i < n) {
      let ch = xml.charCodeAt(i);
      if (ch === 62 /* > */) {
        closed = true;
        i++;
        break;
      }
      if (ch === 47 /* / */) {
        if (xml.charCodeAt(i + 1) === 62) {
          selfClose = closed = true;
          i += 2;
          break;
        }
        i++;
        continue;
      }
      if (isSpace(ch)) {
        i++;
        continue;
      }
      const an = i;
      while (i < n && (ch = xml.charCodeAt(i)) !== 61 /* = */ && !isSpace(ch) && ch !== 62 && ch !== 47) i++;
      const aname = xml.slice(an, i);
      while (i < n && isSpace(xml.charCodeAt(i))) i++;
      if (xml.charCodeAt(i) !== 61) continue; // attribute without a value: ignored
      i++;
      while (i < n && isSpace(xml.charCodeAt(i))) i++;
      const q = xml.charCodeAt(i);
      let value: string;
      if (q === 34 /* " */ || q === 39 /* ' */) {
        const e = xml.indexOf(q === 34 ? '"' : "'", i + 1);
        if (e < 0) {
          i = n;
          break;
        }
        value = xml.slice(i + 1, e);
        i = e + 1;
      } else {
        const vs = i;
        while (i < n && !isSpace((ch = xml.charCodeAt(i))) && ch !== 62) i++;
        value = xml.slice(vs, i);
      }
      if (attrCount < MAX_ATTRS && !aname.startsWith('xmlns')) {
        attrNames[attrCount] = aname;
        attrValues[attrCount++] = value;
      }
    }
    if (!closed) break; // tag runs to the end of the input
    pos = i;
    depth++;

    if (depth === 1) {
      if (local !== 'Event') return false;
    } else if (depth === 2) {
      section = local;
      if (local === 'BinaryEventData') capture(Capture.plain, 'BinaryEventData', depth);
    } else if (depth === 3) {
      if (section === 'System') {
        for (let a = 0; a < attrCount; a++) {
          const v = attrValues[a]!;
          if (v.length > 0 && ++fieldCount <= MAX_FIELDS) putSystem(out, `${local}_${attrNames[a]!}`, decodeEntities(v));
        }
        capture(Capture.system, local, depth);
      } else if (section === 'EventData') {
        if (local === 'Data') {
          let name = '';
          for (let a = 0; a < attrCount; a++) if (attrNames[a] === 'Name') name = decodeEntities(attrValues[a]!);
          capture(Capture.eventData, name.length > 0 ? name : `param${++unnamed}`, depth);
        } else if (local === 'Binary') capture(Capture.plain, 'Binary', depth);
      } else if (section === 'RenderingInfo' && local === 'Message') capture(Capture.plain, 'Message', depth);
    } else if (depth === 4 && section === 'UserData') {
      capture(Capture.userData, local, depth);
    }

    if (selfClose) {
      if (capKind !== Capture.none && depth === capDepth) finish();
      depth--;
    }
  }
  // Unterminated input: keep what was being read (best effort).
  if (capKind !== Capture.none) finish();
  return sawSystem;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isNameEnd(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 62 /* > */ || c === 47 /* / */ || c === 60; /* < */
}
