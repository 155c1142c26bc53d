import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { addConfigFlags, flagsByName } from '../../../src/cli/config-flags.ts';
import { loadConfig } from '../../../src/config/load.ts';

const parse = (argv: string[]): Record<string, string | string[] | undefined> => {
  let seen: Record<string, unknown> = {};
  const cmd = addConfigFlags(new Command('serve').exitOverride().configureOutput({ writeErr: () => undefined }));
  cmd.action((opts: Record<string, unknown>) => { seen = opts; });
  cmd.parse(argv, { from: 'user' });
  return flagsByName(seen);
};

describe('config flags', () => {
  test('a boolean flag takes no value: the flag after it is parsed as a flag, not swallowed', () => {
    const flags = parse(['--allow-insecure-non-loopback', '--rules', 'a', '--rules', 'b']);
    assert.equal(flags['allow-insecure-non-loopback'], 'true');
    assert.deepEqual(flags['rules'], ['a', 'b']);
    assert.equal(loadConfig({ flags }).receiver.allow_insecure_non_loopback, true);
  });

  test('--no-<flag> turns a boolean off; absent leaves the file/environment value', () => {
    assert.equal(parse(['--no-allow-insecure-non-loopback'])['allow-insecure-non-loopback'], 'false');
    assert.equal(parse([])['allow-insecure-non-loopback'], undefined);
  });

  test('a value after a boolean flag is not its value (it is an unexpected argument)', () => {
    assert.throws(() => parse(['--allow-insecure-non-loopback', 'true']), /too many arguments|unknown|excess/i);
  });
});
