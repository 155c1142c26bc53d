/** isProcessAlive: live processes are alive; gone and zombie (killed, not yet reaped) ones are not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { isProcessAlive } from '../../../src/os/process-alive.ts';

void test('this process is alive; a pid that does not exist is not', () => {
  assert.equal(isProcessAlive(process.pid), true);
  assert.equal(isProcessAlive(2 ** 22 + 12345), false);
});

void test('a zombie (exited, its parent has not reaped it: a restart right after kill -9) is not alive', async () => {
  // A parent that forks a child which exits at once, and never waits for it.
  const parent = spawn('python3', ['-c', 'import os,sys,time\npid=os.fork()\nif pid==0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve) => readline.createInterface({ input: parent.stdout }).once('line', resolve));
    const zombie = Number(line);
    // Wait until the child has exited and is a zombie.
    for (let i = 0; i < 50 && isProcessAlive(zombie); i++) await new Promise((r) => setTimeout(r, 20));
    let killable = true;
    try {
      process.kill(zombie, 0);
    } catch {
      killable = false;
    }
    assert.equal(killable, true, 'kill(pid, 0) still succeeds: the pid is a zombie, not gone');
    assert.equal(isProcessAlive(zombie), false);
    assert.equal(isProcessAlive(parent.pid!), true);
  } finally {
    parent.kill('SIGKILL');
  }
});
