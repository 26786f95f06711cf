import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { analyticsEndpoints } from '@codepiper/analytics-contract';
import { approvalEndpoints, policyEndpoints } from '@codepiper/policies-contract';
import { daemonEndpoints } from '@codepiper/sdk';
import { hostEndpoints } from '@codepiper/hosts-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { workflowRunEndpoints } from '@codepiper/workflows-contract';
import { workspaceEndpoints } from '@codepiper/workspaces-contract';
import type { PushApproval } from '@codepiper/notifications-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, type ClaudeHome } from './agents/claude.js';
import { repoRoot, waitFor, type TestDaemon } from './harness.js';
import { FakeAnthropic, hasToolResult, imagesOf, isMainConversation, lastUserText } from './model-servers/anthropic.js';
import { SshServer, sshdUnavailable } from './sshd.js';
import { askingProgram, assertAnsweredOnce } from './terminal-questions.js';
import { bootstrapPassword, stablePort, startWebDaemon, totp } from './web-client.js';

/** Where the run leaves its screenshots: every page, on a phone and on a desktop. */
export const SCREENSHOTS = path.join(repoRoot, 'tests', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const DEVICES = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  landscape: { viewport: { width: 844, height: 390 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 800 } },
} as const;
const PAGES = [
  ['sessions', '#/'],
  ['approvals', '#/approvals'],
  ['analytics', '#/analytics'],
  ['policies', '#/policies'],
  ['audit', '#/audit'],
  ['plugin-page', '#/plugins/provider-parrot/parrots'],
  ['workflows', '#/workflows'],
  ['settings', '#/settings'],
  ['inbox', '#/inbox'],
  ['workspaces', '#/workspaces'],
] as const;
const PASSWORD = 'a long and private passphrase';
/** axe-core, the accessibility checker, injected into each page. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** What axe finds on the page that a screen reader or keyboard user would trip over (serious or critical). */
async function accessibilityProblems(p: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
  await p.evaluate(AXE);
  const violations = (await p.evaluate('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

/** The smallest tap target a thumb hits reliably (WCAG 2.5.5, Apple's and Google's guides), in CSS pixels. */
const MIN_TAP_PX = 44;

/**
 * The visible tap targets smaller than MIN_TAP_PX either way: links, buttons
 * and fields, or the label that holds one (a checkbox is tapped through its
 * label). The terminal's own hidden input is not one.
 */
function smallTapTargets(p: Page): Promise<string[]> {
  // A string: the tests compile without the DOM's types.
  return p.evaluate(`(() => {
    const small = [];
    for (const element of document.querySelectorAll('a[href], button, input, select, textarea, [role=button]')) {
      if (element.closest('.xterm') || element.classList.contains('skip')) continue;
      const target = element.closest('label') ?? element;
      const box = target.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || getComputedStyle(target).visibility === 'hidden') continue;
      if (box.width < ${MIN_TAP_PX} - 0.5 || box.height < ${MIN_TAP_PX} - 0.5) small.push(\`\${target.tagName.toLowerCase()} "\${(target.getAttribute('aria-label') ?? target.textContent ?? '').trim().slice(0, 30)}" \${Math.round(box.width)}x\${Math.round(box.height)}\`);
    }
    return [...new Set(small)];
  })()`) as Promise<string[]>;
}

describe('the web dashboard in Chromium against the real daemon', { timeout: 420_000 }, () => {
  let daemon: TestDaemon;
  let url: string;
  let browser: Browser;
  let desktop: BrowserContext;
  let page: Page;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  let totpSecret = '';
  const consoleErrors: string[] = [];

  /** A browser context whose console errors and page errors fail the run. */
  const watched = async (device: keyof typeof DEVICES, storageState?: Awaited<ReturnType<BrowserContext['storageState']>>): Promise<BrowserContext> => {
    const context = await browser.newContext({ ...DEVICES[device], ...(storageState ? { storageState } : {}) });
    context.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${device} ${message.location().url}: ${message.text()}`);
    });
    context.on('weberror', (error) => consoleErrors.push(`${device}: ${String(error.error())}`));
    return context;
  };
  const terminalText = (p: Page) => p.locator('.xterm-rows').innerText();

  before(async () => {
    // Without it every test would wait out its locators' 30 s: the file would take a quarter of an hour to fail.
    assert.ok(existsSync(path.join(repoRoot, 'web', 'dist', 'index.html')), 'the dashboard is built (pnpm --filter @codepiper/web build)');
    workdir = mkdtempSync('/tmp/cpt-web-');
    writeFileSync(path.join(workdir, 'victim.txt'), 'delete me\n');
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: { text: 'the file is gone' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('what is in the picture'), reply: { text: 'a single pixel' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('are you back'), reply: (r) => ({ text: `back, as ${r.body.model ?? '?'}` }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: 'sk-ant-web-tests-0123456789', baseUrl: fake.url });
    // A third party's plugin beside the built-in ones: its page joins the navigation.
    const parrot = path.join(repoRoot, 'examples', 'provider-parrot', 'dist', 'index.js');
    // On a port of its own: the terminal's page reconnects to the same address after a daemon restart.
    ({ daemon, url } = await startWebDaemon(`plugins:\n  - ${parrot}\n`, { CODEPIPER_CLAUDE_BIN: claudeBin }, await stablePort()));
    mkdirSync(path.join(daemon.home, 'workflows'));
    cpSync(path.join(repoRoot, 'examples', 'workflows'), path.join(daemon.home, 'workflows'), { recursive: true });
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    desktop = await watched('desktop');
    page = await desktop.newPage();
  });
  after(async () => {
    try {
      await browser?.close();
      await daemon?.dispose();
    } finally {
      // Whatever failed above, the model server closes: left open, it would keep this file running until its timeout.
      await fake?.close();
      rmSync(workdir, { recursive: true, force: true });
      await removeClaudeHome(home);
      console.log(`screenshots: ${SCREENSHOTS}`);
    }
  });

  test('first run: bootstrap password, a new password, TOTP from the QR code page, recovery codes', async () => {
    await page.goto(url);
    await page.getByLabel('Password', { exact: true }).fill(bootstrapPassword(daemon.output));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat it').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.locator('.qr svg').waitFor();
    totpSecret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.match(totpSecret, /^[A-Z2-7]{16,}$/);
    // On a phone the QR code cannot be scanned by that phone: a link opens the authenticator, and the secret copies.
    const link = new URL(String(await page.getByRole('link', { name: 'Add to an authenticator on this device' }).getAttribute('href')));
    assert.deepEqual([link.protocol, link.host, link.searchParams.get('secret'), link.searchParams.get('issuer')], ['otpauth:', 'totp', totpSecret, 'CodePiper']);
    await desktop.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    await page.getByRole('button', { name: 'Copy the secret' }).click();
    await page.getByRole('button', { name: 'Copy the secret' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), totpSecret);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'enroll-totp-desktop.png') });
    await page.getByLabel('Code', { exact: true }).fill(totp(totpSecret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.getByTestId('recovery-codes').locator('li');
    await codes.first().waitFor();
    assert.ok((await codes.count()) >= 8, 'recovery codes are shown');
    await page.getByRole('button', { name: 'Copy all recovery codes' }).click();
    await page.getByRole('button', { name: 'Copy all recovery codes' }).filter({ hasText: 'Copied' }).waitFor();
    assert.deepEqual(String(await page.evaluate('navigator.clipboard.readText()')).split('\n'), (await codes.allInnerTexts()).map((code) => code.trim()));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'recovery-codes-desktop.png') });
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
  });

  test('start a shell session, type a command in the terminal and see its output', async () => {
    await page.getByRole('button', { name: 'New session' }).click();
    // The form offers what the chosen provider's options schema declares, and nothing a provider does not take.
    await page.getByLabel('Provider').selectOption('claude-code');
    const billing = page.getByRole('combobox', { name: /^billing/ });
    await billing.waitFor();
    assert.deepEqual(await billing.locator('option').allInnerTexts(), ['(default)', 'subscription', 'api']);
    assert.equal(await page.getByRole('checkbox', { name: /trust this folder/ }).count(), 1);
    assert.equal(await page.getByRole('textbox', { name: /^model/ }).count(), 1);
    await page.getByLabel('Provider').selectOption('shell');
    await billing.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('textbox', { name: /^model/ }).count(), 0, 'a shell takes no options: no model field');
    await page.getByLabel('Directory').fill(workdir);
    await page.getByLabel('Name').fill('web-shell');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
    assert.equal(await page.getByTestId('input-policy-notice').count(), 0, 'no input policy, no notice');
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo web-$((6*7))');
    await page.keyboard.press('Enter');
    await waitFor('the output in the terminal', async () => (await terminalText(page)).includes('web-42'), 15_000);
    await page.getByRole('textbox', { name: 'Prompt' }).fill('echo sent-$((2+3))');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitFor('the prompt box output in the terminal', async () => (await terminalText(page)).includes('sent-5'), 15_000);
    await page.getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator('li[data-session]', { hasText: 'web-shell' });
    assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'running');
  });

  // Once seen under load: a session on a host got `0;276;0c` (xterm.js's device attributes) at its prompt.
  test('what a program asks of its terminal is answered by tmux alone: the page adds nothing to what it reads', async () => {
    const asker = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: workdir, name: 'web-asker', args: askingProgram('cat -v') } });
    await page.goto(`${url}/#/sessions/${asker.id}`);
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.press('Enter');
    await waitFor('the questions asked', async () => (await terminalText(page)).includes('asked'), 15_000);
    await page.keyboard.type('END');
    await page.keyboard.press('Enter');
    const read = await waitFor('what the program read', async () => (await terminalText(page)).split('\n').find((line) => line.endsWith('END')), 15_000);
    assertAnsweredOnce(read);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: asker.id } });
  });

  test('the session list holds the 50 newest finished sessions, says how many older ones it left out, and shows them when asked', async () => {
    const ended: string[] = [];
    for (let i = 0; i < 52; i++) ended.push((await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: workdir, args: ['true'], name: `ended-${i}` } })).id);
    const finished = async () => (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.filter((s) => s.status === 'exited' || s.status === 'crashed');
    await waitFor('all 52 ended', async () => {
      const ids = new Set((await finished()).map((s) => s.id));
      return ended.every((id) => ids.has(id));
    }, 60_000);
    const total = (await finished()).length;
    try {
      await page.getByRole('link', { name: 'Sessions' }).click();
      const rows = page.locator('li[data-session]');
      const note = page.getByText(/older finished sessions? (is|are) not shown/);
      await note.waitFor();
      assert.equal((await note.innerText()).trim(), `${total - 50} older finished ${total - 50 === 1 ? 'session is' : 'sessions are'} not shown. Show them`);
      const row = (name: string) => page.locator('li[data-session]', { has: page.getByRole('link', { name, exact: true }) });
      assert.equal(await row('ended-51').count(), 1, 'the newest finished is listed');
      assert.equal(await row('ended-0').count(), 0, 'the oldest is left out');
      await page.getByRole('button', { name: 'Show them' }).click();
      await row('ended-0').waitFor();
      assert.equal(await note.count(), 0);
      assert.equal(await rows.filter({ has: page.locator('[data-status=exited], [data-status=crashed]') }).count(), total);
    } finally {
      for (const id of ended) await daemon.client.call(sessionEndpoints.remove, { params: { id } });
    }
  });

  test('the terminal shows what was printed before the page opened, and reconnects by itself after a daemon restart, saying so meanwhile', async () => {
    const shell = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: workdir, name: 'web-history' } });
    await daemon.client.call(sessionEndpoints.input, { params: { id: shell.id }, body: { text: "seq -f 'line-%g' 1 1500", enter: true } });
    await waitFor('the lines to be printed', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: shell.id } })).text.includes('line-1500'));
    await page.goto(`${url}/#/sessions/${shell.id}`);
    const terminal = page.getByTestId('terminal');
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
    // Drawn at the browser's next frame after it arrives, which a busy CPU can delay past the 'ready'.
    await waitFor('the history drawn', async () => /line-1500/.test(await terminalText(page)), 15_000);
    // The timeline says what happened in words.
    await page.locator('.timeline li', { hasText: `started shell in ${workdir}` }).waitFor();
    await page.locator('.timeline li', { hasText: 'starting → running' }).waitFor();
    // Scrolled back with the wheel (a finger's swipe scrolls the same viewport): the first line is there.
    await terminal.hover();
    // Chromium hands xterm a few lines' worth per wheel event, however large the delta.
    for (let i = 0; i < 20 && !/\bline-1\b/.test(await terminalText(page)); i++) for (let j = 0; j < 50; j++) await page.mouse.wheel(0, -1000);
    const top = await terminalText(page);
    assert.match(top, /\bline-1\n/, `the scrollback from before the page opened:\n${top}`);

    const errorsBefore = consoleErrors.length;
    await daemon.stop();
    await page.locator('[data-testid=terminal][data-state=reconnecting]').waitFor();
    assert.match(await page.getByTestId('terminal-state').innerText(), /Connection lost: reconnecting/);
    await terminal.click();
    await page.keyboard.type('x');
    await page.getByRole('alert').filter({ hasText: 'Not connected to the session: what was just typed was not sent.' }).waitFor();
    await daemon.start();
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('terminal-state').count(), 0);
    // While the daemon was down, Chromium logged each refused try of the page's connections: expected here, and only those.
    assert.deepEqual(consoleErrors.splice(errorsBefore).filter((error) => !/net::ERR_CONNECTION_REFUSED/.test(error)), []);
    await terminal.click();
    await page.keyboard.type('echo back-$((40+2))');
    await page.keyboard.press('Enter');
    await waitFor('the output after reconnecting', async () => (await terminalText(page)).includes('back-42'), 15_000);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: shell.id } });
    await page.getByRole('link', { name: 'Sessions' }).click();
    // How it ended, in words on the page (a phone has no hover).
    const killed = await waitFor('the kill to be recorded', async () => {
      const record = await daemon.client.call(sessionEndpoints.show, { params: { id: shell.id } });
      return record.status === 'exited' || record.status === 'crashed' ? record : undefined;
    });
    const detail = [killed.statusDetail, killed.exitCode === null ? null : `exit code ${killed.exitCode}`].filter(Boolean).join(', ');
    assert.ok(detail, 'the daemon says how it ended');
    const row = page.locator(`li[data-session="${shell.id}"]`);
    await row.locator('[data-testid=status-detail]', { hasText: detail }).waitFor();
    // Finished sessions can be hidden (the choice is kept on this device), and removed from the list.
    const filter = page.getByRole('combobox', { name: 'Status' });
    await filter.selectOption('live');
    await row.waitFor({ state: 'detached' });
    await page.reload();
    assert.equal(await filter.inputValue(), 'live', 'the filter is remembered');
    await filter.selectOption('');
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Remove web-history' }).click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!(await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.some((s) => s.id === shell.id), 'the record is gone');
  });

  test('a permission asked by real Claude Code shows live and is approved with one tap', async () => {
    await daemon.client.call(policyEndpoints.create, { body: { action: 'ask', rule: 'Bash(rm:*)', name: 'ask-before-rm', reason: 'removing files needs a person' } });
    const claude = await daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'claude-code', cwd: workdir, name: 'claude-web', env: home.env, options: { permissionMode: 'default' }, prompt: 'remove the victim' },
    });
    const row = page.locator(`li[data-session="${claude.id}"]`);
    await waitFor('the session to wait for permission, shown without a reload', async () => (await row.locator('[data-status]').getAttribute('data-status')) === 'waiting', 60_000);
    await page.getByRole('link', { name: /Approvals/ }).click();
    const approval = page.locator('li[data-approval]', { hasText: 'rm -f victim.txt' });
    await approval.waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'approval-pending-desktop.png') });
    // Named by its session, and answerable for good (a policy) as well as once.
    await approval.getByRole('link', { name: 'claude-web' }).waitFor();
    await approval.getByRole('button', { name: 'Always allow Bash' }).waitFor();
    await approval.getByRole('button', { name: /^Approve/ }).click();
    await waitFor('Claude to run the approved command', () => !existsSync(path.join(workdir, 'victim.txt')), 30_000);
    await waitFor('Claude to answer after the tool ran', () => fake.requests.some((r) => isMainConversation(r) && hasToolResult(r)), 30_000);
    await approval.waitFor({ state: 'detached' });
    // Its page offers what its provider can do: a model switch (a shell's does not).
    await page.goto(`${url}/#/sessions/${claude.id}`);
    await page.getByRole('form', { name: 'Switch model' }).waitFor();
    const shell = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'web-shell');
    await page.goto(`${url}/#/sessions/${shell?.id ?? ''}`);
    // The same page with another session (only the hash changed): until it has loaded, the previous one shows.
    await page.getByRole('heading', { name: 'web-shell' }).waitFor();
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
    assert.equal(await page.getByRole('form', { name: 'Switch model' }).count(), 0);
    await page.getByRole('link', { name: 'Sessions' }).click();
  });

  test('a question’s notification: the service worker answers it (Approve), and opens the question when it cannot', async () => {
    // No push message reaches this browser (Chromium's push service is Google's, unreachable here), so no notification is shown
    // or clicked: the function the worker's notificationclick handler calls is called in the worker, with the data a push gives it.
    const worker = desktop.serviceWorkers()[0] ?? (await desktop.waitForEvent('serviceworker'));
    writeFileSync(path.join(workdir, 'victim.txt'), 'delete me again\n');
    const claude = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'claude-web');
    assert.ok(claude, 'the Claude session of the previous test');
    await daemon.client.call(sessionEndpoints.input, { params: { id: claude.id }, body: { text: 'remove the victim' } });
    const pending = await waitFor('the question', async () => (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.sessionId === claude.id), 60_000);
    const approval: PushApproval = { id: pending.id, sessionId: claude.id, tool: 'Bash', description: 'Bash rm -f victim.txt', approveUrl: `/approvals/${pending.id}/approve`, denyUrl: `/approvals/${pending.id}/deny` };
    const data = JSON.stringify({ url: `/#/sessions/${claude.id}`, approval });
    await worker.evaluate(`notificationClicked(${data}, 'approve')`);
    const answered = (await daemon.client.call(approvalEndpoints.list, { query: { all: true } })).approvals.find((a) => a.id === pending.id);
    assert.equal(answered?.status, 'approved');
    assert.match(answered?.answeredBy ?? '', /^tcp:/, 'answered over the web listener, with the session cookie');
    await waitFor('Claude to run the approved command', () => !existsSync(path.join(workdir, 'victim.txt')), 30_000);

    // Answered already (409): the question's page opens instead, in the dashboard window that is open.
    await page.goto(`${url}/#/`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    const outcome = await worker.evaluate(`notificationClicked(${data}, 'deny').then(() => 'shown', (error) => String(error))`);
    await page.waitForURL(`${url}/#/sessions/${claude.id}`);
    // The window was navigated; focusing it needs a real click on the notification (user activation), which headless Chromium cannot give here.
    assert.match(String(outcome), /^shown$|^InvalidAccessError: Not allowed to focus a window/);
  });

  test('the conversation view: messages and tool calls from the transcript, the question in place, a prompt sent with Enter', async () => {
    const claude = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'claude-web');
    assert.ok(claude, 'the Claude session of the earlier tests');
    await page.goto(`${url}/#/sessions/${claude.id}`);
    await page.getByRole('button', { name: 'Conversation' }).click();
    const conversation = page.getByTestId('conversation');
    const prompts = conversation.locator('li[data-kind=user]', { hasText: 'remove the victim' });
    const answers = conversation.locator('li[data-kind=assistant]', { hasText: 'the file is gone' });
    const calls = conversation.locator('li[data-kind=tool]', { hasText: 'rm -f victim.txt' });
    // The two earlier turns, from Claude's own transcript: each prompt, its Bash call with a result, the answer.
    await waitFor('the earlier turns', async () => (await prompts.count()) === 2 && (await answers.count()) === 2 && (await calls.count()) === 2, 15_000);
    await calls.first().locator('summary').click();
    assert.match(await calls.first().getByLabel('Input').innerText(), /"command": "rm -f victim.txt"/);
    await calls.first().getByLabel('Result').waitFor();
    assert.equal(await page.getByRole('toolbar', { name: 'Keys' }).count(), 0, 'the key bar belongs to the terminal');

    // A prompt typed here and sent with Enter (a desktop); the question it leads to is asked in place and answered there.
    writeFileSync(path.join(workdir, 'victim.txt'), 'delete me a third time\n');
    const box = page.getByRole('form', { name: 'Send a prompt' }).locator('textarea');
    await box.fill('remove the victim');
    await box.press('Enter');
    await waitFor('the box to be emptied (sent, not a new line)', async () => (await box.inputValue()) === '');
    await waitFor('the prompt in the conversation', async () => (await prompts.count()) === 3, 60_000);
    const question = conversation.locator('li[data-approval]', { hasText: 'rm -f victim.txt' });
    await question.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'conversation-question-desktop.png') });
    await question.getByRole('button', { name: /^Approve/ }).click();
    await waitFor('Claude to run the approved command', () => !existsSync(path.join(workdir, 'victim.txt')), 30_000);
    await waitFor('the answer after the tool ran, shown live', async () => (await answers.count()) === 3 && (await calls.count()) === 3, 30_000);
    await question.waitFor({ state: 'detached' });
    // A picture pasted into the prompt: kept by the daemon, referenced where the cursor was, given to Claude with the text.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    await page.evaluate(`(() => {
      const field = document.querySelector('form[aria-label="Send a prompt"] textarea');
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(atob('${png}'), (c) => c.charCodeAt(0))], 'shot.png', { type: 'image/png' }));
      field.focus();
      field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    })()`);
    await waitFor('the picture referenced in the prompt', async () => /^@\/\S+\/images\/[0-9a-f-]+\/[0-9a-f-]+\.png $/.test(await box.inputValue()));
    await box.press('End');
    await box.pressSequentially('what is in the picture');
    await box.press('Enter');
    const asked = await waitFor('the prompt with its picture at the model', () => fake.messageRequests().find((r) => isMainConversation(r) && lastUserText(r).includes('what is in the picture')), 60_000);
    assert.deepEqual(imagesOf(asked), [{ mediaType: 'image/png', data: png }]);
    await conversation.locator('li[data-kind=assistant]', { hasText: 'a single pixel' }).waitFor({ timeout: 30_000 });
    // The view chosen is kept on the device.
    await page.reload();
    await conversation.waitFor();
    assert.equal(await page.getByRole('button', { name: 'Conversation' }).getAttribute('aria-pressed'), 'true');

    // The page's own controls: a model switch (Claude's /model), then Stop and Resume; the conversation goes on.
    const switchModel = page.getByRole('form', { name: 'Switch model' });
    await switchModel.getByLabel('Model').fill('claude-opus-4-5');
    await switchModel.getByRole('button', { name: 'Switch model' }).click();
    await page.getByText('model switched to claude-opus-4-5').waitFor({ timeout: 60_000 });
    const status = page.locator('.heading [data-status]');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await status.and(page.locator('[data-status=exited]')).waitFor({ timeout: 60_000 });
    assert.doesNotMatch(await page.locator('.heading').innerText(), /killed/, 'Claude stopped its own way');
    await page.getByRole('button', { name: 'Resume' }).click();
    await waitFor('the session running again', async () => ['running', 'idle', 'working'].includes((await status.getAttribute('data-status')) ?? ''), 60_000);
    await box.fill('are you back');
    await box.press('Enter');
    await conversation.locator('li[data-kind=assistant]', { hasText: /back, as claude-/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Terminal' }).click();
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
  });

  // Claude's last hook of a turn can come before its last record is on disk: a view opened in between
  // once showed the turn without its answer until some later event.
  test('a record written just after the conversation was read shows without another event', async () => {
    const claude = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'claude-web');
    assert.ok(claude, 'the Claude session of the earlier tests');
    const transcript = String(claude.metadata.transcriptPath);
    const answer = JSON.parse(readFileSync(transcript, 'utf8').trim().split('\n').findLast((line) => line.includes('"type":"assistant"')) ?? '{}');
    const late = {
      ...answer,
      uuid: randomUUID(),
      parentUuid: answer.uuid,
      timestamp: new Date().toISOString(),
      message: { ...answer.message, id: `msg_late_${Date.now()}`, content: [{ type: 'text', text: 'written after the view read' }], usage: { input_tokens: 0, output_tokens: 0 } },
    };
    // The record lands while the view's first read is on its way back: it reads what was there before.
    await page.route(`**/sessions/${claude.id}/transcript`, async (route) => {
      const response = await route.fetch();
      appendFileSync(transcript, `${JSON.stringify(late)}\n`);
      await route.fulfill({ response });
    }, { times: 1 });
    await page.goto(`${url}/#/sessions/${claude.id}`);
    await page.getByRole('button', { name: 'Conversation' }).click();
    const conversation = page.getByTestId('conversation');
    await conversation.locator('li[data-kind=assistant]', { hasText: 'written after the view read' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Terminal' }).click();
  });

  test('the inbox: questions, finished turns and exits of every session, the new ones counted in the navigation until seen', async () => {
    await page.goto(`${url}/#/`);
    const inboxLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Inbox/ });
    await waitFor('the new notices counted', async () => /^Inbox\s*\d+$/.test((await inboxLink.innerText()).trim()));
    await inboxLink.click();
    const notices = page.getByRole('list', { name: 'Notices, newest first' });
    await notices.locator('li', { hasText: 'claude-web asks to use Bash' }).first().waitFor();
    await notices.locator('li', { hasText: 'claude-web finished its turn' }).first().waitFor();
    assert.ok((await notices.locator('li.unread').count()) > 0, 'marked new on this first visit');
    await waitFor('the count to go once seen', async () => (await inboxLink.innerText()).trim() === 'Inbox');
    // A session that exits meanwhile shows at once, marked new.
    const brief = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: workdir, name: 'brief', args: ['sh', '-c', 'exit 3'] } });
    await notices.locator('li.unread', { hasText: 'brief exited with exit code 3' }).waitFor();
    await daemon.client.call(sessionEndpoints.remove, { params: { id: brief.id } }).catch(() => undefined);
  });

  test('analytics, policies, audit and workflows show what the daemon knows', async () => {
    // History with a model no price is known for: the page must say so, and how to price it, without a hover.
    const history = path.join(workdir, 'history');
    mkdirSync(path.join(history, 'claude', 'project'), { recursive: true });
    mkdirSync(path.join(history, 'codex'));
    const usage = { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5 };
    const line = { type: 'assistant', sessionId: 'unpriced-history', cwd: workdir, timestamp: '2026-11-20T10:00:00.000Z', requestId: 'req_1', message: { id: 'msg_1', role: 'assistant', model: 'unpriced-test-model', content: [{ type: 'text', text: 'hi' }], usage } };
    writeFileSync(path.join(history, 'claude', 'project', 'unpriced-history.jsonl'), `${JSON.stringify(line)}\n`);
    const { id } = await daemon.client.call(analyticsEndpoints.startImport, { body: { dirs: { 'claude-code': path.join(history, 'claude'), codex: path.join(history, 'codex') } } });
    await waitFor('the import', async () => (await daemon.client.call(analyticsEndpoints.showImport, { params: { id } })).state === 'done');

    await page.goto(`${url}/#/analytics`);
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    await waitFor('usage from the Claude session', async () => (await page.locator('table.table tbody tr').count()) > 0, 30_000);
    await page.getByText(/No price for unpriced-test-model: their tokens are not in the cost\. To price one, add it to config\.yaml under analytics\.prices/).waitFor();
    await page.getByRole('figure', { name: 'Tokens per day' }).locator('rect').first().waitFor();
    await page.getByRole('figure', { name: 'Tool calls' }).locator('rect').first().waitFor();

    await page.goto(`${url}/#/policies`);
    await page.locator('li[data-policy="ask-before-rm"]').waitFor();
    await page.getByLabel('Tool', { exact: true }).last().fill('Bash');
    await page.getByLabel('Input (JSON)').fill('{"command": "rm -rf build"}');
    await page.getByRole('button', { name: 'Test' }).click();
    await waitFor('the verdict', async () => /^ask: removing files needs a person/.test(await page.getByTestId('policy-verdict').innerText()));

    // What no policy matches, set from the page: kept by the daemon, said where it came from.
    const defaultForm = page.getByRole('form', { name: 'Default action' });
    assert.equal(await page.getByTestId('default-source').innerText(), 'From config.yaml (default_action).');
    await defaultForm.getByLabel('When no policy matches').selectOption('deny');
    await defaultForm.getByRole('button', { name: 'Set' }).click();
    await page.getByTestId('default-source').getByText('Set here (or with codepiper policy default).').waitFor();
    assert.equal((await daemon.client.call(policyEndpoints.defaultAction)).action, 'deny');
    await defaultForm.getByLabel('When no policy matches').selectOption('ask');
    await defaultForm.getByRole('button', { name: 'Set' }).click();
    await waitFor('the default back to ask', async () => (await daemon.client.call(policyEndpoints.defaultAction)).action === 'ask');

    // A session started from the form under a policy set and without policies (after a yes); then put back under them.
    await daemon.client.call(policyEndpoints.create, { body: { name: 'web-strict-rm', action: 'deny', tool: 'terminal_input', args: { text: 'rm *' }, set: 'web-strict' } });
    await page.goto(`${url}/#/`);
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByLabel('Provider').selectOption('shell');
    await page.getByLabel('Directory').fill(workdir);
    await page.getByLabel('Name').fill('web-governed');
    await page.getByLabel('Policy set').selectOption('web-strict');
    await page.getByLabel(/^Without policies/).check();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    const governed = page.url().split('/').at(-1)!;
    assert.deepEqual((await daemon.client.call(policyEndpoints.sessionSets, { params: { id: governed } })).sets, ['web-strict']);
    await page.getByTestId('bypass-notice').waitFor();
    await page.goto(`${url}/#/policies`);
    const bypassRow = page.locator(`li[data-bypass="${governed}"]`);
    assert.match(await bypassRow.innerText(), /asked by tcp:127\.0\.0\.1/);
    assert.match(await page.locator('li[data-policy="web-strict-rm"]').innerText(), /set web-strict/);
    await bypassRow.getByRole('button', { name: /^Put under policies/ }).click();
    await bypassRow.waitFor({ state: 'detached' });
    assert.deepEqual((await daemon.client.call(policyEndpoints.bypassed)).bypasses, []);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: governed } });
    await daemon.client.call(policyEndpoints.remove, { params: { id: 'web-strict-rm' } });

    await page.goto(`${url}/#/audit`);
    const entry = page.locator('li[data-audit]', { hasText: 'rm -f victim.txt' }).first();
    await entry.waitFor();
    // Each entry names its session, a link to it.
    await entry.getByRole('link', { name: /^session [0-9a-f]{8}$/ }).waitFor();

    await page.goto(`${url}/#/workflows`);
    await page.getByText('test-and-fix.yaml').waitFor();
  });

  test('settings: the daemon as it describes itself; a light theme, kept on the device, readable on every page it was checked on', async () => {
    const theme = () => page.evaluate('document.documentElement.dataset.theme');
    const background = () => page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    await page.getByRole('link', { name: 'Settings' }).click();
    const facts = page.getByTestId('daemon-facts');
    await facts.waitFor();
    const status = await daemon.client.call(daemonEndpoints.status);
    const shown = await facts.innerText();
    for (const fact of [status.version, String(status.pid), status.home, 'policies']) assert.ok(shown.includes(fact), `${fact} in:\n${shown}`);
    assert.equal(await theme(), 'dark');
    await page.getByLabel('Light').check();
    assert.deepEqual([await theme(), await background()], ['light', 'rgb(245, 246, 248)']);
    assert.deepEqual(await accessibilityProblems(page), [], 'settings in the light theme');
    await page.reload();
    await facts.waitFor();
    assert.equal(await theme(), 'light', 'the choice survives a reload');
    for (const [name, hash] of [['sessions', '#/'], ['audit', '#/audit']] as const) {
      await page.goto(`${url}/${hash}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      assert.deepEqual(await accessibilityProblems(page), [], `${name} in the light theme`);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-light-desktop.png`), fullPage: true });
    }
    // "As this device is set" follows the device's preference, also when it changes.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('As this device is set').check();
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitFor('the dark theme', async () => (await theme()) === 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await waitFor('the light theme', async () => (await theme()) === 'light');
    await page.emulateMedia({ colorScheme: null });
    await page.getByLabel('Dark').check();
    assert.equal(await theme(), 'dark');
  });

  test('settings: an access token made on the page signs a script in; revoked there (after a yes), it no longer does; hosts are listed', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('list', { name: 'Hosts' }).getByText('No hosts').waitFor();
    const form = page.getByRole('form', { name: 'New access token' });
    await form.getByLabel('Name').fill('web-script');
    await form.getByLabel('Scope').selectOption('read');
    await form.getByLabel('Expires after (days)').fill('7');
    await form.getByRole('button', { name: 'Make token' }).click();
    const token = (await page.getByTestId('new-token').locator('code').innerText()).trim();
    assert.match(token, /^cpat_/);
    const asScript = (method: string) => fetch(`${url}/sessions`, { method, headers: { authorization: `Bearer ${token}`, origin: url, 'content-type': 'application/json' }, ...(method === 'POST' && { body: '{}' }) });
    assert.equal((await asScript('GET')).status, 200, 'the token reads');
    assert.equal((await asScript('POST')).status, 403, 'a read token changes nothing');
    const row = page.locator('li[data-token="web-script"]');
    assert.match(await row.innerText(), /read/);
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Revoke web-script' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await asScript('GET')).status, 401, 'revoked, it signs nothing in');
    assert.deepEqual(await accessibilityProblems(page), [], 'settings with tokens and hosts');
  });

  test('settings: restarting the daemon asks first, then shows the new one once it answers', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const facts = page.getByTestId('daemon-facts');
    const { pid: before } = await daemon.client.call(daemonEndpoints.status);
    await facts.getByText(String(before), { exact: true }).waitFor();
    const restart = page.getByRole('button', { name: 'Restart the daemon' });
    page.once('dialog', (dialog) => void dialog.dismiss());
    await restart.click();
    assert.equal((await daemon.client.call(daemonEndpoints.status)).pid, before, 'a "no" restarts nothing');

    const errorsBefore = consoleErrors.length;
    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /^Restart the daemon\? .*sessions keep running/);
      void dialog.accept();
    });
    const after = await daemon.restartBy(() => restart.click());
    await facts.getByText(String(after), { exact: true }).waitFor({ timeout: 60_000 });
    assert.match(await page.getByRole('status').filter({ hasText: 'Stopping the daemon' }).innerText(), /codepiper daemon stop/);
    // While it was down, Chromium logged each refused try of the page's connections: expected here, and only those.
    assert.deepEqual(consoleErrors.splice(errorsBefore).filter((error) => !/net::ERR_CONNECTION_REFUSED/.test(error)), []);
  });

  test('a page a plugin adds is in the navigation and shows what its endpoint answers', async () => {
    const polly = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'parrot', cwd: workdir, name: 'web-parrot', options: { loud: true } } });
    await page.goto(`${url}/#/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Parrots' }).click();
    await page.getByRole('heading', { name: 'Parrots' }).waitFor();
    const row = page.locator('table.table tbody tr', { hasText: 'web-parrot' });
    await row.waitFor();
    assert.deepEqual(await page.locator('table.table thead th').allInnerTexts(), ['id', 'name', 'status', 'loud']);
    assert.match(await row.innerText(), new RegExp(`${polly.id}\\s+web-parrot\\s+\\w+\\s+true`));
    await daemon.client.call(sessionEndpoints.kill, { params: { id: polly.id } });
  });

  test('an address no page answers says so and leads back to the sessions', async () => {
    await page.goto(`${url}/#/sessions`);
    await page.getByRole('heading', { name: 'No such page' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Nothing is at #\/sessions\./);
    await page.getByRole('main').getByRole('link', { name: 'Go to the sessions' }).click();
    await page.getByRole('heading', { name: 'Sessions', exact: true }).waitFor();
    assert.equal(new URL(page.url()).hash, '#/');
  });

  test('a workflow started from the dashboard shows its steps live and is cancelled there', async () => {
    writeFileSync(
      path.join(daemon.home, 'workflows', 'nap.yaml'),
      'name: nap\nvars:\n  seconds: "1"\nsteps:\n  - type: shell\n    id: greet\n    command: ["echo", "hello"]\n  - type: shell\n    id: nap\n    command: ["sleep", "${vars.seconds}"]\n',
    );
    await page.goto(`${url}/#/workflows`);
    await page.reload(); // the list was read when the page opened, before the file existed
    const form = page.getByRole('form', { name: 'Run nap' });
    await form.getByLabel('seconds').fill('300');
    await form.getByRole('button', { name: 'Run' }).click();
    await page.waitForURL(/#\/workflows\/runs\/[0-9a-f-]{36}$/);
    await page.locator('tr[data-step="steps[1]"]', { hasText: 'running' }).waitFor();
    assert.match(await page.locator('tr[data-step="steps[0]"]').innerText(), /succeeded\s+–\s+hello/);
    // Cancelling cannot be undone: the dashboard asks first, and a "no" leaves the run going.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await daemon.client.call(workflowRunEndpoints.show, { params: { id: page.url().split('/').at(-1)! } })).status, 'running');
    page.once('dialog', (dialog) => {
      assert.equal(dialog.message(), 'Cancel this run? The sessions it started are stopped.');
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('run-status').filter({ hasText: 'cancelled' }).waitFor();
    await page.locator('tr[data-step="steps[1]"]', { hasText: 'cancelled' }).waitFor();
  });

  test('the workflow editor validates as you type, marks each error at its line, saves, and runs what it holds', async () => {
    const nap = path.join(daemon.home, 'workflows', 'nap.yaml');
    await page.goto(`${url}/#/workflows`);
    await page.getByRole('link', { name: 'Edit nap.yaml' }).click();
    const editor = page.getByLabel('Workflow YAML');
    const status = page.getByTestId('editor-status');
    await status.filter({ hasText: 'Valid: nap, 2 steps.' }).waitFor();
    assert.equal(await editor.inputValue(), readFileSync(nap, 'utf8'));
    // A typo on line 5: the error names it, the gutter marks it, a tap on it puts the cursor there.
    const broken = (await editor.inputValue()).replace('type: shell', 'type: shel');
    await editor.fill(broken);
    const error = status.getByRole('button', { name: /^Line 5, column \d+$/ });
    await error.waitFor();
    assert.deepEqual(await page.locator('.gutter li.has-error').allInnerTexts(), ['5']);
    await error.click();
    const caretLine = await editor.evaluate((element) => {
      const field = element as unknown as { value: string; selectionStart: number };
      return field.value.slice(0, field.selectionStart).split('\n').length;
    });
    assert.deepEqual([caretLine, await page.evaluate('document.activeElement?.getAttribute("aria-label")')], [5, 'Workflow YAML']);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`saved ${nap} (with 1 error)`).waitFor();
    assert.equal(readFileSync(nap, 'utf8'), broken, 'a draft with errors is saved as typed');
    await editor.fill(broken.replace('type: shel', 'type: shell'));
    await status.filter({ hasText: 'Valid: nap, 2 steps.' }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`saved ${nap}`, { exact: true }).waitFor();

    // A new one, saved beside it and run as it stands in the editor.
    await page.goto(`${url}/#/workflows`);
    await page.getByRole('link', { name: 'New workflow' }).click();
    await status.filter({ hasText: 'Valid: my-workflow, 1 step.' }).waitFor();
    const greet = path.join(daemon.home, 'workflows', 'greet.yaml');
    await page.getByLabel('File', { exact: true }).fill(greet);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`saved ${greet}`, { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Run as edited' }).click();
    await page.waitForURL(/#\/workflows\/runs\/[0-9a-f-]{36}$/);
    await page.getByTestId('run-status').filter({ hasText: 'succeeded' }).waitFor();
    rmSync(greet);
  });

  test('a session’s worktree reviewed on a phone: files with counts, coloured hunks that wrap, commits; merged, refused on a conflict, discarded', async () => {
    const repo = path.join(workdir, 'web-repo');
    const git = (dir: string, ...args: string[]) =>
      execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' } });
    mkdirSync(path.join(repo, 'src'), { recursive: true });
    git(repo, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(path.join(repo, 'src', 'app.ts'), 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'first');
    const longLine = `export const banner = '${'a long line that a phone must wrap '.repeat(6)}';`;
    const agent = (name: string, greeting: string, extra: string) =>
      daemon.client.call(sessionEndpoints.start, {
        body: { provider: 'shell', cwd: repo, name, worktree: true, args: ['sh', '-c', `sed -i 's/hello/${greeting}/' src/app.ts && git -c user.name=Agent -c user.email=agent@example.com commit -qam 'Agent: say ${greeting}' && ${extra}`] },
      });
    const finished = (id: string) => waitFor('the agent to finish', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id } })).exitCode === 0, 20_000);
    const first = await agent('web-tree', 'welcome', `echo "${longLine}" >> src/app.ts && printf '# Notes\\n' > notes.md`);
    const second = await agent('web-tree-rival', 'hi', 'true');
    await Promise.all([finished(first.id), finished(second.id)]);

    const phone = await watched('phone', await desktop.storageState());
    const p = await phone.newPage();
    await p.goto(`${url}/#/sessions/${first.id}`);
    let changes = p.locator(`[data-testid=changes][data-session="${first.id}"]`);
    await changes.waitFor();
    assert.match(await changes.innerText(), /codepiper\/web-tree\s+from\s+main · 2 files, \+3 −1/);
    assert.match(await changes.locator('li[data-file="notes.md"] summary').innerText(), /notes\.md\s+added \+1 −0/);
    await changes.locator('li[data-file="src/app.ts"] summary').tap();
    const hunk = changes.locator('li[data-file="src/app.ts"] pre.diff');
    await hunk.waitFor();
    assert.deepEqual(await hunk.locator('.diff-line.remove').allInnerTexts(), ['-  return `hello ${name}`;\n']);
    assert.equal(await hunk.locator('.diff-line.add').count(), 2);
    assert.ok((await hunk.locator('.hljs-keyword').count()) > 0, 'TypeScript is coloured');
    assert.match(await changes.locator('ol.commits').innerText(), /Agent: say welcome\s+Agent/);
    // The long line wraps: nothing on the page is wider than the phone.
    assert.ok(Number(await p.evaluate('document.documentElement.scrollWidth - innerWidth')) <= 0, 'no sideways scrolling');
    assert.deepEqual(await accessibilityProblems(p), [], 'the changes, accessibility');
    assert.deepEqual(await smallTapTargets(p), [], `the changes: tap targets under ${MIN_TAP_PX} px`);
    await p.screenshot({ path: path.join(SCREENSHOTS, 'changes-phone.png'), fullPage: true });

    // Merged after a yes; the user's checkout follows.
    p.once('dialog', (dialog) => {
      assert.match(dialog.message(), /^Merge codepiper\/web-tree into main\? What web-tree left uncommitted is committed first\.$/);
      void dialog.accept();
    });
    await changes.getByRole('button', { name: 'Merge into main' }).tap();
    await changes.getByText('codepiper/web-tree from main · merged', { exact: false }).waitFor().catch(async () => assert.fail(await changes.innerText()));
    assert.match(readFileSync(path.join(repo, 'src', 'app.ts'), 'utf8'), /welcome/);
    assert.ok(existsSync(path.join(repo, 'notes.md')), 'the file it left uncommitted came too');

    // The rival changed the same line: its merge is refused with the file named, and it is discarded instead.
    const errorsBefore = consoleErrors.length;
    await p.goto(`${url}/#/sessions/${second.id}`);
    // The same page, showing another session: its own section, not the last one's.
    changes = p.locator(`[data-testid=changes][data-session="${second.id}"]`);
    await changes.waitFor();
    p.once('dialog', (dialog) => void dialog.accept());
    await changes.getByRole('button', { name: 'Merge into main' }).tap();
    await changes.getByRole('alert').filter({ hasText: 'Not merged: src/app.ts changed on both sides. Nothing was changed.' }).waitFor();
    // Chromium logs the refused request (409) in the console: expected here, and only that.
    assert.deepEqual(consoleErrors.splice(errorsBefore).filter((error) => !/status of 409/.test(error)), []);
    p.once('dialog', (dialog) => {
      assert.match(dialog.message(), /^Discard codepiper\/web-tree-rival\? Its worktree and every change in it are deleted\.$/);
      void dialog.accept();
    });
    await changes.getByRole('button', { name: 'Discard' }).tap();
    await changes.getByText('discarded', { exact: false }).waitFor();
    assert.doesNotMatch(git(repo, 'branch', '--list'), /web-tree-rival/);

    // Started from the dashboard's form in a worktree of its own.
    await p.goto(`${url}/#/`);
    await p.getByRole('button', { name: 'New session' }).tap();
    await p.getByLabel('Provider').selectOption('shell');
    await p.getByLabel('Directory').fill(repo);
    await p.getByLabel('Name').fill('web-tree-form');
    await p.getByLabel(/In a git worktree of its own/).check();
    await p.getByRole('button', { name: 'Start', exact: true }).tap();
    await p.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    const formSession = p.url().split('/').at(-1)!;
    await p.locator(`[data-testid=changes][data-session="${formSession}"]`).getByText('No changes since the branch point.').waitFor();
    const started = await daemon.client.call(sessionEndpoints.show, { params: { id: formSession } });
    assert.match(started.cwd, /\/plugins\/worktrees\/web-repo-[0-9a-f]{8}$/);
    // Freed from the policies (start --dangerous does it at start), the page says so at once, in red.
    assert.equal(await p.getByTestId('bypass-notice').count(), 0);
    await daemon.client.call(policyEndpoints.bypass, { params: { id: formSession } });
    assert.match(await p.getByTestId('bypass-notice').innerText(), /^Runs without policies: every call is allowed, and recorded in the audit trail\.\s+Put under policies$/);
    await p.locator('.timeline li', { hasText: 'runs WITHOUT POLICIES from now on (asked by unix:local)' }).waitFor();
    assert.deepEqual(await accessibilityProblems(p), [], 'the notice, accessibility');
    await p.getByRole('button', { name: 'Put under policies' }).tap();
    await p.getByTestId('bypass-notice').waitFor({ state: 'detached' });
    await daemon.client.call(sessionEndpoints.kill, { params: { id: formSession } });
    await phone.close();
  });

  test('a session started from the form on a host runs there (a real sshd on loopback, as its user)', { skip: sshdUnavailable() }, async () => {
    const sshd = await SshServer.start();
    try {
      mkdirSync(path.join(daemon.userHome, '.ssh'), { recursive: true, mode: 0o700 });
      writeFileSync(path.join(daemon.userHome, '.ssh', 'known_hosts'), sshd.knownHostsLine);
      await daemon.client.call(hostEndpoints.add, { body: { name: 'web-box', destination: sshd.destination, port: sshd.port, identity: sshd.identity } });
      await page.goto(`${url}/#/`);
      await page.getByRole('button', { name: 'New session' }).click();
      await page.getByLabel('Provider').selectOption('shell');
      await page.getByLabel('Host').selectOption('web-box');
      await page.getByLabel('Directory').fill('/tmp');
      await page.getByLabel('Name').fill('web-far');
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').at(-1)!;
      const session = await daemon.client.call(sessionEndpoints.show, { params: { id } });
      assert.deepEqual([session.cwd, session.metadata.host], ['/tmp', 'web-box']);
      await page.getByText('shell · web-box:/tmp').waitFor();
      await daemon.client.call(sessionEndpoints.input, { params: { id }, body: { text: 'echo "I am $(id -un)"' } });
      // A probe that throws puts its last message (here, the screen) into waitFor's timeout error.
      await waitFor('the shell on the host to answer', async () => {
        const { text } = await daemon.client.call(sessionEndpoints.screen, { params: { id } });
        if (!text.includes('I am codepiper-remote')) throw new Error(`the screen shows:\n${text}`);
        return true;
      }, 20_000);
      await daemon.client.call(sessionEndpoints.kill, { params: { id } });
      await waitFor('the host to be free', async () => (await daemon.client.call(hostEndpoints.remove, { params: { name: 'web-box' } }).then(() => true, () => false)), 20_000);
    } finally {
      await sshd.stop();
    }
  });

  test('workspaces: an env set and a workspace made in the dashboard; a session started there gets both; removed after a yes', async () => {
    await page.goto(`${url}/#/workspaces`);
    await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
    const setForm = page.getByRole('form', { name: 'Save an env set' });
    await setForm.getByLabel('Name', { exact: true }).fill('web-env');
    await setForm.getByLabel(/^Variables/).fill('GREETING=hi-ws\nLEVEL=debug');
    await setForm.getByRole('button', { name: 'Save env set' }).click();
    assert.match(await page.locator('li[data-env-set="web-env"]').innerText(), /GREETING=hi-ws · LEVEL=debug/);

    await page.getByRole('button', { name: 'New workspace' }).click();
    const add = page.getByRole('form', { name: 'New workspace' });
    await add.getByLabel('Name', { exact: true }).fill('web-ws');
    await add.getByLabel('Directory').fill(workdir);
    await add.getByLabel('Provider').selectOption('shell');
    await add.getByLabel('Env set').selectOption('web-env');
    await add.getByRole('button', { name: 'Add' }).click();
    const row = page.locator('li[data-workspace="web-ws"]');
    assert.match(await row.innerText(), /shell · env set web-env/);

    await row.getByLabel('First prompt for web-ws').fill('echo "$GREETING-started-$LEVEL"');
    await row.getByRole('button', { name: 'Start here' }).click();
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    await page.locator('[data-testid=terminal][data-state=ready]').waitFor();
    await waitFor('the env set’s values in the session', async () => (await terminalText(page)).includes('hi-ws-started-debug'), 15_000);
    const started = await daemon.client.call(sessionEndpoints.show, { params: { id: page.url().split('/').at(-1)! } });
    assert.deepEqual([started.provider, started.cwd], ['shell', workdir]);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: started.id } });

    await page.goto(`${url}/#/workspaces`);
    page.once('dialog', (dialog) => {
      assert.equal(dialog.message(), 'Remove workspace web-ws? Its sessions and files stay.');
      void dialog.accept();
    });
    await page.locator('li[data-workspace="web-ws"]').getByRole('button', { name: 'Remove web-ws' }).click();
    await page.locator('li[data-workspace="web-ws"]').waitFor({ state: 'detached' });
    assert.deepEqual((await daemon.client.call(workspaceEndpoints.list)).workspaces, []);
  });

  test('every page on a phone (upright and on its side) and a desktop, saved as screenshots; the app shell loads offline', async () => {
    // With a policy that refuses typed text, the live terminal says plainly that it does not judge keys typed into it.
    await daemon.client.call(policyEndpoints.create, { body: { action: 'deny', tool: 'terminal_input', args: { text: 'rm -rf *' }, name: 'no-typed-rm', reason: 'no deletes typed' } });
    const state = await desktop.storageState();
    for (const device of ['phone', 'landscape', 'desktop'] as const) {
      const touch = device !== 'desktop';
      const context = await watched(device, state);
      const p = await context.newPage();
      for (const [name, hash] of PAGES) {
        await p.goto(`${url}/${hash}`);
        await p.locator('main h1').first().waitFor();
        await p.waitForLoadState('networkidle');
        await p.screenshot({ path: path.join(SCREENSHOTS, `${name}-${device}.png`), fullPage: true });
        // Nothing wider than the screen: a phone user never scrolls sideways to read a page.
        assert.deepEqual(await accessibilityProblems(p), [], `${name} on a ${device}: accessibility`);
        if (touch) assert.deepEqual(await smallTapTargets(p), [], `${name} on a ${device}: tap targets under ${MIN_TAP_PX} px`);
        const wide = await p.evaluate('document.documentElement.scrollWidth - innerWidth');
        assert.ok(Number(wide) <= 0, `${name} on a ${device} is ${String(wide)} px wider than the screen`);
        // The audit is read whole, on any screen: no entry needs scrolling sideways.
        if (name === 'audit') {
          const entries = (await p.locator('li[data-audit]').evaluateAll((items) => items.map((item) => item.scrollWidth - item.clientWidth))) as number[];
          assert.ok(entries.length > 0 && entries.every((overflow) => overflow <= 0), `audit entries on a ${device} overflow: ${entries.join(', ')}`);
        }
      }
      const session = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'web-shell');
      await p.goto(`${url}/#/sessions/${session?.id ?? ''}`);
      await p.locator('[data-testid=terminal][data-state=ready]').waitFor();
      // The session's terminal takes the size of the window that shows it.
      const cols = { phone: (n: number) => n < 60, landscape: (n: number) => n >= 80 && n < 120, desktop: (n: number) => n > 120 }[device];
      await waitFor(`the session resized for a ${device}`, async () => cols((await daemon.client.call(sessionEndpoints.screen, { params: { id: session?.id ?? '' } })).cols));
      const notice = p.getByTestId('input-policy-notice');
      await notice.waitFor();
      assert.match(await notice.innerText(), /Keys typed into this terminal reach the session one at a time/);
      assert.equal(await p.getByTestId('terminal').getAttribute('aria-describedby'), 'input-policy-notice');
      await p.screenshot({ path: path.join(SCREENSHOTS, `session-${device}.png`), fullPage: true });
      assert.deepEqual(await accessibilityProblems(p), [], `a session on a ${device}: accessibility`);
      if (touch) {
        assert.deepEqual(await smallTapTargets(p), [], `a session on a ${device}: tap targets under ${MIN_TAP_PX} px`);
        // Every key of the key bar in view, none past the screen's edge; a tap leaves the focus (and so a phone's keyboard) in the terminal.
        const keys = (await p.getByRole('toolbar', { name: 'Keys' }).getByRole('button').evaluateAll((buttons) => buttons.map((b) => [b.getAttribute('aria-label'), b.getBoundingClientRect().right]))) as [string, number][];
        for (const name of ['Esc (Escape)', 'Shift-Tab (Claude Code: next permission mode)', 'Ctrl-C (interrupt)', 'Ctrl-D (end of input)', 'Enter']) assert.ok(keys.some(([label]) => label === name), name);
        assert.deepEqual(keys.filter(([, right]) => right > DEVICES[device].viewport.width), [], 'keys past the edge of the screen');
        await p.getByTestId('terminal').tap();
        await p.getByRole('button', { name: 'Tab', exact: true }).tap();
        assert.equal(await p.evaluate('document.activeElement?.className'), 'xterm-helper-textarea');
        // A soft keyboard over the lower 40 % of the screen (as iOS overlays it: the visual viewport shrinks, the page does not):
        // the key bar stays in sight, above it. Headless Chromium opens no keyboard; its visual viewport is told so.
        const keyboardTop = (await p.evaluate(`(() => {
          const top = Math.round(innerHeight * 0.6);
          Object.defineProperty(visualViewport, 'height', { configurable: true, get: () => top });
          visualViewport.dispatchEvent(new Event('resize'));
          scrollTo(0, 0);
          return top;
        })()`)) as number;
        const bar = (await p.getByRole('toolbar', { name: 'Keys' }).evaluate((element) => element.getBoundingClientRect().toJSON())) as { top: number; bottom: number };
        assert.ok(bar.top >= 0 && bar.bottom <= keyboardTop + 1, `the key bar (${bar.top}-${bar.bottom}) is hidden by a keyboard from ${keyboardTop}`);
        await p.evaluate(`delete visualViewport.height; visualViewport.dispatchEvent(new Event('resize'))`);

        // The scrollback, by finger: a swipe down over the terminal brings earlier lines into view.
        // Rows of this device's own: the session printed another device's already.
        await daemon.client.call(sessionEndpoints.input, { params: { id: session?.id ?? '' }, body: { text: `seq -f '${device}-row-%g' 1 400`, enter: true } });
        const rowPattern = new RegExp(`\\b${device}-row-(\\d+)\\b`);
        await waitFor('the rows in the terminal', async () => new RegExp(`\\b${device}-row-400\\b`).test(await terminalText(p)));
        const firstRow = async () => Number(rowPattern.exec(await terminalText(p))?.[1]);
        const bottomFirst = await firstRow();
        const box = (await p.getByTestId('terminal').boundingBox())!;
        const cdp = await context.newCDPSession(p);
        const x = box.x + box.width / 2;
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: box.y + 20 }] });
        for (let y = box.y + 30; y < box.y + box.height - 20; y += 10) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] });
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
        await waitFor('the earlier rows in view', async () => (await firstRow()) < bottomFirst, 5_000).catch(() => undefined);
        const scrolledFirst = await firstRow();
        assert.ok(scrolledFirst < bottomFirst, `a swipe scrolled back (first row shown: ${bottomFirst}, after the swipe: ${scrolledFirst})`);

        // Installed on a phone with a notch and a home bar (standalone, edge to edge): nothing drawn under either.
        await cdp.send('Emulation.setSafeAreaInsetsOverride', { insets: { top: 47, bottom: 34, left: 0, right: 0 } });
        await p.evaluate('scrollTo(0, 0)');
        const topbar = (await p.evaluate('getComputedStyle(document.querySelector(".topbar")).paddingTop')) as string;
        assert.ok(parseFloat(topbar) >= 47, `the top bar's padding (${topbar}) clears the notch`);
        const bottomGap = await p.evaluate('innerHeight - document.querySelector("[aria-label=Keys]").getBoundingClientRect().bottom');
        assert.ok(Number(bottomGap) >= 34, `the key bar ends ${String(bottomGap)} px above the screen's edge, clear of the home bar`);
        await cdp.send('Emulation.setSafeAreaInsetsOverride', { insets: {} });
        await cdp.detach();
      }
      const wide = await p.evaluate('document.documentElement.scrollWidth - innerWidth');
      assert.ok(Number(wide) <= 0, `a session on a ${device} is ${String(wide)} px wider than the screen`);
      // An agent's conversation, read on the same screen.
      const claude = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.find((s) => s.name === 'claude-web');
      await p.goto(`${url}/#/sessions/${claude?.id ?? ''}`);
      await p.getByRole('button', { name: 'Conversation' }).click();
      await p.getByTestId('conversation').locator('li[data-kind=assistant]').first().waitFor();
      await p.screenshot({ path: path.join(SCREENSHOTS, `conversation-${device}.png`), fullPage: true });
      assert.deepEqual(await accessibilityProblems(p), [], `a conversation on a ${device}: accessibility`);
      if (touch) assert.deepEqual(await smallTapTargets(p), [], `a conversation on a ${device}: tap targets under ${MIN_TAP_PX} px`);
      const conversationWide = await p.evaluate('document.documentElement.scrollWidth - innerWidth');
      assert.ok(Number(conversationWide) <= 0, `a conversation on a ${device} is ${String(conversationWide)} px wider than the screen`);
      await context.close();
    }

    // Offline needs the service worker: a context of its own, whose failed API calls are expected.
    const offline = await browser.newContext({ ...DEVICES.phone, storageState: state });
    const p = await offline.newPage();
    await p.goto(url);
    // Strings: the tests compile without the DOM's types.
    await p.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await p.reload();
    await waitFor('the service worker to control the page', () => p.evaluate('navigator.serviceWorker.controller !== null'));
    await offline.setOffline(true);
    await p.reload();
    assert.equal(await p.title(), 'CodePiper');
    // Said as such, and back by itself when the network is.
    await p.getByTestId('unreachable').filter({ hasText: 'You are offline' }).waitFor().catch(async (error: Error) => {
      throw new Error(`${error.message}; the page shows: ${await p.locator('#root').innerText()}`);
    });
    await offline.setOffline(false);
    await p.getByRole('heading', { name: 'Sessions' }).waitFor();
    const manifest = (await (await fetch(`${url}/manifest.webmanifest`)).json()) as { icons: { sizes: string }[]; display: string };
    assert.equal(manifest.display, 'standalone');
    assert.ok(['192x192', '512x512'].every((size) => manifest.icons.some((icon) => icon.sizes === size)));
    await offline.close();
  });

  test('a later sign-in takes the password and a code', async () => {
    const context = await watched('phone');
    const p = await context.newPage();
    await p.goto(url);
    await p.screenshot({ path: path.join(SCREENSHOTS, 'sign-in-phone.png') });
    assert.deepEqual(await accessibilityProblems(p), [], 'sign-in: accessibility');
    await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p.getByLabel('Code', { exact: true }).fill(totp(totpSecret, 1));
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Sessions' }).waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('button', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  test('a page on another local port cannot frame the signed-in dashboard', async () => {
    // Another port of the same host is the same site: the SameSite=Strict cookie would go along.
    const framing = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<!doctype html><title>framing</title><iframe name="victim" src="${url}/#/approvals" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((resolve) => framing.listen(0, '127.0.0.1', resolve));
    // Not a watched context: the refusal to frame is a console error, and the point of this test.
    const context = await browser.newContext({ storageState: await desktop.storageState() });
    try {
      const p = await context.newPage();
      await p.goto(`http://127.0.0.1:${(framing.address() as AddressInfo).port}/`);
      await p.waitForLoadState('load');
      // By its element: a frame whose load was refused becomes an error page, and may lose its name.
      const frame = await (await p.waitForSelector('iframe')).contentFrame();
      assert.ok(frame, 'the iframe is there');
      const framed = await frame.evaluate('document.querySelector("#root") !== null').catch(() => false);
      assert.equal(framed, false, `the dashboard rendered inside another site's frame (${frame.url()})`);
    } finally {
      await context.close();
      framing.close();
    }
  });

  test('nothing went wrong in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
