/**
 * The web dashboard at `/` (README "Dashboard"), in Debian's Chromium driven by playwright-core
 * against the daemon started from its CLI: one daemon and one browser for every page.
 *
 * - Its files: the page and its hashed assets with their content types and cache headers, page
 *   routes answered with index.html, unknown assets and traversal attempts 404; the script
 *   under the 150 kB gzipped.
 * - A profile's token (or none) never opens the admin pages: the token form stays.
 * - With the admin token, every page loads without a console error; a backend that cannot
 *   start shows as failed with its stderr line; calls an SDK client makes appear live on the
 *   calls page and count on the sessions page; the restart button gives a backend a new process; the "try it" form calls a
 *   tool and shows its result; the config page masks every secret and shows a rejected edit
 *   with its problems; the keyboard reaches the
 *   pages, dark mode follows the system, and the German catalog works.
 *
 * Screenshots of every page go to dist/screenshots/ (gitignored); with
 * UPDATE_README_SCREENSHOTS=1 the overview and servers pages also go to docs/screenshots/,
 * which the README shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from 'playwright-core';
import { REPO_ROOT, alive, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { withBrowser, type PageProblems } from '../helpers/browser.js';

const ADMIN = 'admin-token-for-the-dashboard-0123';
const ALICE = 'alice-token-for-profile-a-0123456';
const SECRET_ENV = 'secret-env-value-never-shown-0123';
const SHOTS = join(REPO_ROOT, 'dist/screenshots');
const README_SHOTS = join(REPO_ROOT, 'docs/screenshots');

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

describe('the dashboard', () => {
  let daemon: Daemon;

  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha'], { env: { SECRET: SECRET_ENV } }),
        broken: fixture('crash-server', [], { env: { CRASH_ON_START: '1' } }),
      },
      profiles: { a: { servers: ['alpha'] }, ops: {} },
      tokens: {
        alice: { token: ALICE, profile: 'a' },
        root: { token: ADMIN, profile: 'ops', admin: true },
      },
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(() => daemon.stop());

  test('files: content types, cache headers, page routes, 404 for anything else', async () => {
    const page = await fetch(`${daemon.base}/`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html names its script');
    const asset = await fetch(`${daemon.base}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    // The budget for the dashboard's JS (docs/architecture.md#dashboard).
    const gzipped = gzipSync(Buffer.from(await asset.arrayBuffer()), { level: 9 }).length;
    assert.ok(gzipped < 150_000, `the script is ${gzipped} bytes gzipped`);
    for (const route of ['/servers', '/calls', '/config']) {
      const response = await fetch(`${daemon.base}${route}`);
      assert.equal(response.status, 200, route);
      assert.equal(await response.text(), html, `${route} is the app's page`);
    }
    for (const path of [
      '/assets/nope.js',
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
    ]) {
      assert.equal((await fetch(`${daemon.base}${path}`)).status, 404, path);
    }
    // Not a page: still the API's answer; and the API still refuses other origins.
    assert.equal((await fetch(`${daemon.base}/nope`)).status, 404);
    const foreign = await fetch(`${daemon.base}/api/servers`, {
      headers: { ...bearer(ADMIN), Origin: 'https://evil.example' },
    });
    assert.equal(foreign.status, 403);
  });

  test('every page in a browser', { timeout: 60_000 }, async () => {
    await withBrowser(async (browser) => {
      // A profile's token opens nothing: the token form stays, with why.
      {
        const { page } = await browser.open();
        await page.goto(`${daemon.base}/servers`);
        await page.getByRole('alert').waitFor();
        await page.fill('input[name=token]', ALICE);
        await page.click('button[type=submit]');
        await page.getByText('opens profile “a” only').waitFor();
        assert.equal(await page.locator('table').count(), 0, 'no server table for a profile');
        await page.close();
      }

      const { page, seen } = await browser.open();
      await page.goto(`${daemon.base}/`);
      await page.fill('input[name=token]', ADMIN);
      await page.click('button[type=submit]');
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.locator('.live.on').waitFor();

      // Calls by an SDK client appear live on the calls page.
      await goTo(page, 'Calls');
      const client = new Client({ name: 'dashboard-test-client', version: '4.5.6' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${daemon.base}/mcp/a`), {
          requestInit: { headers: bearer(ALICE) },
        }),
      );
      try {
        for (let i = 0; i < 5; i++) {
          await client.callTool({ name: 'alpha__echo', arguments: { text: `call ${i}` } });
        }
        await client.callTool({ name: 'alpha__fail', arguments: {} }).catch(() => undefined);
        const rows = page.locator('table.calls tbody tr');
        await eventually(async () => ((await rows.count()) >= 5 ? true : undefined), 10_000);
        assert.match(await page.locator('table.calls').innerText(), /dashboard-test-client/);
        await rows.first().getByRole('button').click();
        const detail = page.getByRole('region', { name: 'Call detail' });
        await detail.getByRole('definition').filter({ hasText: 'dashboard-test-client' }).waitFor();
        assert.equal(await rows.first().getAttribute('class'), 'failed selected');
        await shoot(page, 'calls');

        // Sessions: the SDK client's session with its version.
        await goTo(page, 'Sessions');
        const session = page.getByRole('row').filter({ hasText: '4.5.6' });
        await session.waitFor();
        // Its calls so far: five echoes and one failing call.
        assert.equal(await session.locator('td').nth(7).innerText(), '6');
        await shoot(page, 'sessions');
      } finally {
        await client.close();
      }

      // Overview: the day's figures come from the rollups, which the shard writes once a
      // second; the page reads them when it opens (and every 10 s).
      await goTo(page, 'Overview');
      const dayCalls = page.getByTestId('calls-24h');
      for (let i = 0; i < 20 && (await dayCalls.innerText()) !== '6'; i++) {
        await page.waitForTimeout(500);
        await goTo(page, 'Sessions');
        await goTo(page, 'Overview');
      }
      assert.equal(await dayCalls.innerText(), '6', 'five echoes and the failing call');
      await page.getByRole('row').filter({ hasText: 'Tool error (isError)' }).first().waitFor();
      await page.locator('.uplot').first().waitFor();
      await shoot(page, 'overview', true);

      // Servers: the broken one is failed with its stderr; restart gives alpha a new pid.
      await goTo(page, 'Servers');
      const broken = page.locator('tr[data-server=broken]');
      await broken.locator('[data-state=failed]').waitFor();
      await page.getByText('crash-server: CRASH_ON_START=1, exiting with 3').first().waitFor();
      const alpha = page.locator('tr[data-server=alpha]');
      const oldPid = Number(await alpha.getByTestId('pid').innerText());
      assert.ok(alive(oldPid));
      await shoot(page, 'servers', true);
      await alpha.getByRole('button', { name: 'Restart' }).click();
      const newPid = await eventually(
        async () => {
          const text = await alpha.getByTestId('pid').innerText();
          const state = await alpha.locator('[data-state]').getAttribute('data-state');
          return /^\d+$/.test(text) && Number(text) !== oldPid && state === 'ready'
            ? Number(text)
            : undefined;
        },
        15_000,
        'a new pid for alpha',
      );
      assert.ok(alive(newPid));
      assert.equal(alive(oldPid), false);

      // Tools: the cost estimate and the "try it" form.
      await goTo(page, 'Tools');
      await page.getByLabel('Profile').selectOption('a');
      await page.getByTestId('cost').getByText('meta mode').waitFor();
      await page.getByRole('button', { name: 'Try it: alpha__echo' }).click();
      const form = page.getByRole('form', { name: 'Try it: alpha__echo' });
      await form.locator('input[name=text]').fill('hello from the form');
      await form.getByRole('button', { name: 'Call alpha__echo' }).click();
      await page.getByTestId('try-result').getByText('hello from the form').waitFor();
      await shoot(page, 'tools');

      // Config: the running config, every secret masked.
      await goTo(page, 'Config');
      const config = await page.getByTestId('config').innerText();
      assert.match(config, /"alpha"/);
      for (const secret of [ADMIN, ALICE, SECRET_ENV]) assert.ok(!config.includes(secret));
      assert.ok(!(await page.content()).includes(ADMIN), 'no token anywhere in the page');
      // An edit the daemon rejects shows with its problems; the running config stays.
      const configFile = join(daemon.dir, 'config.json');
      const good = readFileSync(configFile, 'utf8');
      writeFileSync(configFile, '{ "mcpServers": {}, "workers": 0 }');
      try {
        await eventually(
          async () => {
            await page.getByRole('button', { name: 'Refresh' }).click();
            // (innerText of a locator would wait for it; the page's text is there at once.)
            const text = await page.locator('main').innerText();
            return /workers: expected an integer of at least 1, found 0/.test(text)
              ? true
              : undefined;
          },
          10_000,
          'the rejected edit on the config page',
        );
        await shoot(page, 'config');
      } finally {
        writeFileSync(configFile, good);
      }

      // The keyboard reaches everything: the token form, the skip link, the pages' links.
      {
        const { page: keys } = await browser.open();
        await keys.goto(`${daemon.base}/config`);
        await keys.getByRole('alert').waitFor();
        assert.equal(await keys.locator(':focus').getAttribute('name'), 'token', 'focused at once');
        await keys.keyboard.type(ADMIN);
        await keys.keyboard.press('Enter');
        await keys.getByRole('heading', { name: 'Config', level: 1 }).waitFor();
        await keys.reload(); // the token stays for the tab; focus starts at the top again
        await keys.getByRole('heading', { name: 'Config', level: 1 }).waitFor();
        await keys.keyboard.press('Tab');
        assert.equal(await keys.locator(':focus').innerText(), 'Skip to the page');
        await keys.keyboard.press('Tab');
        assert.equal(await keys.locator(':focus').innerText(), 'Overview');
        await keys.keyboard.press('Enter');
        await keys.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
        assert.equal(await keys.locator(':focus').getAttribute('id'), 'main', 'focus on the page');
        await keys.close();
      }

      // Dark mode follows the system.
      await goTo(page, 'Overview');
      await page.emulateMedia({ colorScheme: 'dark' });
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      assert.equal(background, 'rgb(20, 23, 27)');
      await shoot(page, 'overview-dark');
      await page.emulateMedia({ colorScheme: 'light' });

      // The second locale.
      await page.getByLabel('Language').selectOption('de');
      await page.getByRole('navigation').getByRole('link', { name: 'Übersicht' }).waitFor();
      await page.getByLabel('Sprache').selectOption('en');

      assert.deepEqual(withoutExpected(seen), []);
    });
  });
});

async function goTo(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

async function shoot(page: Page, name: string, forReadme = false): Promise<void> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (forReadme && process.env['UPDATE_README_SCREENSHOTS'] === '1') {
    mkdirSync(README_SHOTS, { recursive: true });
    copyFileSync(file, join(README_SHOTS, `${name}.png`));
  }
}

/** What the page may report: nothing, but the event stream it drops when the browser closes. */
function withoutExpected(seen: PageProblems): string[] {
  return seen.problems.filter((problem) => !/request failed: .*\/api\/events$/.test(problem));
}
