// Shared by the e2e tests: the test server (strict CSP) and a headless Chromium, both stopped
// after the file's tests.

import { spawn } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * scripts/serve.py on a free port, serving `root` (default the repository). `requests`: the paths
 * of the requests that reached it (from its log), so that a test can count what a service worker
 * did not answer.
 */
function serve({ root: folder } = {}) {
  return new Promise((resolve, reject) => {
    const args = [`${root}scripts/serve.py`, '--port', '0', ...(folder ? ['--root', folder] : [])];
    const p = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MINIRANK_SERVE_LOG: '1' } });
    const requests = [];
    p.stderr.on('data', (d) => {
      for (const m of String(d).matchAll(/"[A-Z]+ (\S+) HTTP\/[\d.]+"/g)) requests.push(m[1]);
      if (process.env.MINIRANK_SERVE_LOG) process.stderr.write(d);
    });
    p.stdout.on('data', (d) => {
      const m = /at (http:\/\/[^ ]+)\/www\//.exec(String(d));
      if (m) resolve({ origin: m[1], url: `${m[1]}/www/`, proc: p, requests });
    });
    p.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

const launchOptions = (args) => ({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...args,
  ],
});

/** `{ server: { origin, url }, browser }`, closed when the test file ends; `args`: more Chromium flags. */
export async function start({ args = [] } = {}) {
  const server = await serve();
  const browser = await chromium.launch(launchOptions(args));
  after(async () => {
    await browser.close();
    server.proc.kill();
  });
  return { server, browser };
}

/**
 * `{ server, context, close }` with a persistent profile in a temporary folder: storage on disk with
 * a disk-sized quota, as a user's browser has (the contexts of `start` keep storage in memory, with
 * a small quota). `root`: the folder served (default the repository).
 */
export async function startPersistent({ root: folder } = {}) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const server = await serve({ root: folder });
  const dir = await mkdtemp(`${tmpdir()}/minirank-profile-`);
  const context = await chromium.launchPersistentContext(dir, launchOptions([]));
  let closed = null;
  const close = () => {
    closed ||= (async () => {
      await context.close();
      server.proc.kill();
      await rm(dir, { recursive: true, force: true });
    })();
    return closed;
  };
  after(close);
  return { server, context, close };
}

/**
 * A fresh context's page of the test server's blank.html, its page errors collected in `problems`
 * and the paths it requests (workers included) in `requests`.
 */
export async function blankPage(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(e.message));
  context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${server.origin}/tests/e2e/blank.html`);
  return { context, page, problems, requests };
}
