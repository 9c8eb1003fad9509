'use strict';
// Starts `eddy serve --port 0 --enable-test-commands` on loopback with a fresh data directory,
// reads the bound port from its "listening on" line, and stops it by its own PID.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

class EddyServer {
  constructor(binary, extraArgs = []) {
    this.binary = binary;
    this.extraArgs = extraArgs;
    this.proc = null;
    this.port = null;
    this.data = null;
    this.log = [];
  }

  start(timeoutMs = 30000) {
    this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'eddy-unified-'));
    const args = ['serve', '--bind', '127.0.0.1', '--port', '0', '--data', this.data,
                  '--enable-test-commands', ...this.extraArgs];
    this.proc = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => {
        this.stop().finally(() => reject(new Error('eddy serve did not report a port in time: ' +
            this.log.join('').slice(-2000))));
      }, timeoutMs);
      const onData = chunk => {
        const text = chunk.toString();
        this.log.push(text);
        if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
        if (this.port !== null) return;
        buffered += text;
        const m = /listening on [^\s:]+:(\d+)/.exec(buffered);
        if (m) {
          this.port = Number(m[1]);
          clearTimeout(timer);
          resolve(this);
        }
      };
      this.proc.stdout.on('data', onData);
      this.proc.stderr.on('data', onData);
      this.proc.on('exit', (code, signal) => {
        if (this.port === null) {
          clearTimeout(timer);
          reject(new Error(`eddy serve exited (${code ?? signal}) before listening: ` +
              this.log.join('').slice(-2000)));
        }
      });
    });
  }

  get uri() {
    return `mongodb://127.0.0.1:${this.port}/?replicaSet=rs0`;
  }

  alive() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop() {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise(resolve => proc.once('exit', resolve));
      process.kill(proc.pid, 'SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise(resolve => setTimeout(() => resolve(true), 20000)),
      ]);
      if (timedOut) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
    }
    if (this.data) fs.rmSync(this.data, { recursive: true, force: true });
    this.data = null;
  }
}

module.exports = { EddyServer };
