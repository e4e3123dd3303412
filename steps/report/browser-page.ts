/**
 * A page opened in headless Chromium and driven over the DevTools protocol
 * through a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte,
 * written to the browser's fd 3 and read from its fd 4): no WebSocket, no
 * library. Enough to click, read the laid-out page, set a phone's viewport
 * and record every request the page makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

type Pending = { resolve: (value: any) => void; reject: (error: Error) => void; method: string };

export class BrowserPage {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Array<(method: string, params: any) => void> = [];
  private sessionId = '';
  /** Every URL the page requested, in order. */
  readonly requests: string[] = [];
  /** Exceptions the page's scripts threw. */
  readonly scriptErrors: string[] = [];

  private constructor(
    private readonly browser: ChildProcess,
    private readonly profile: string,
  ) {
    const input = browser.stdio[4] as Readable;
    let buffer = Buffer.alloc(0);
    input.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      let end: number;
      while ((end = buffer.indexOf(0)) >= 0) {
        const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
        buffer = buffer.subarray(end + 1);
        this.dispatch(message);
      }
    });
    browser.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`the browser exited during ${p.method}`));
      this.pending.clear();
    });
  }

  /** Starts the browser and opens an empty page with the given viewport. */
  static async open(executable: string, viewport: { width: number; height: number; mobile?: boolean }): Promise<BrowserPage> {
    const profile = mkdtempSync(join(tmpdir(), 'eventfold-chromium-'));
    const browser = spawn(
      executable,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const page = new BrowserPage(browser, profile);
    try {
      const { targetId } = await page.send('Target.createTarget', { url: 'about:blank' }, false);
      page.sessionId = (await page.send('Target.attachToTarget', { targetId, flatten: true }, false)).sessionId;
      await page.send('Network.enable');
      await page.send('Runtime.enable');
      await page.send('Page.enable');
      await page.send('Emulation.setDeviceMetricsOverride', { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: viewport.mobile ?? false });
      page.on((method, params) => {
        if (method === 'Network.requestWillBeSent') page.requests.push(params.request.url);
        if (method === 'Runtime.exceptionThrown') page.scriptErrors.push(params.exceptionDetails?.exception?.description ?? params.exceptionDetails?.text);
      });
    } catch (error) {
      await page.close();
      throw error;
    }
    return page;
  }

  private dispatch(message: any): void {
    if (message.id !== undefined) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error) pending.reject(new Error(`${pending.method}: ${message.error.message}`));
      else pending.resolve(message.result);
      return;
    }
    for (const listener of this.listeners) listener(message.method, message.params);
  }

  private on(listener: (method: string, params: any) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  send(method: string, params: object = {}, inSession = true): Promise<any> {
    const id = this.nextId++;
    const message = { id, method, params, ...(inSession ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.browser.stdio[3] as Writable).write(JSON.stringify(message) + '\0');
    });
  }

  /** Navigates and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.on((method) => {
        if (method === 'Page.loadEventFired') {
          off();
          resolve();
        }
      });
    });
    const result = await this.send('Page.navigate', { url });
    if (result.errorText) throw new Error(`${url} did not open: ${result.errorText}`);
    await loaded;
  }

  /** Evaluates an expression in the page (promises awaited) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  }

  /** Clicks at the middle of the element the selector finds, as a user's mouse would. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(
      `(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return { x: r.left + Math.min(r.width / 2, 40), y: r.top + r.height / 2 }; })()`,
    );
    if (!box) throw new Error(`nothing on the page matches ${selector}`);
    for (const type of ['mousePressed', 'mouseReleased']) await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }

  /** Types text into the focused element as key presses would. */
  async type(selector: string, text: string): Promise<void> {
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
    await this.send('Input.insertText', { text });
  }

  async close(): Promise<void> {
    if (this.browser.exitCode === null && this.browser.signalCode === null) {
      const exited = new Promise((resolve) => this.browser.once('exit', resolve));
      // Browser.close lets Chromium stop its own helper processes before it exits; SIGKILL if it does not answer.
      await this.send('Browser.close', {}, false).catch(() => this.browser.kill('SIGKILL'));
      await exited;
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5 });
  }
}
