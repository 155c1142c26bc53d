/**
 * Keys that occur twice in one JSON object of a text (at any depth). JSON.parse keeps the last of
 * them silently, so a test that parses log lines cannot see them; this scans the text itself.
 */
export function duplicateKeys(json: string): string[] {
  const dups: string[] = [];
  // One entry per open container: the keys seen so far (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < json.length && json[j] !== '"') {
        if (json[j] === '\\') {
          s += json.slice(j, j + 2);
          j += 2;
        } else {
          s += json[j];
          j++;
        }
      }
      const top = stack.at(-1);
      if (expectKey && top) {
        if (top.has(s)) dups.push(s);
        top.add(s);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return dups;
}
