/**
 * Tool search ranks the many-tools fixture's real catalog (about 250 tools, 12 domains, one
 * server per domain under `<domain>__` prefixes, as a router profile would show them).
 *
 * The bar: every graded query finds its tool at or above the rank it lists (1 or 3), which
 * sums to at least 90% top-1 and 100% top-3 on the set (45/49 and 49/49 today); held-out
 * queries reach 75% top-1 and 90% top-3 (20/25 and 24/25 today); a query sharing no meaningful
 * word with the catalog returns []. A known miss, left out of the bar: "which queries are
 * blocking" finds Notion's blocks, not pg_list_locks: lexical search cannot know that blocking
 * sessions hold locks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';

import type { JsonObject } from '../../../../src/shared/json.js';
import {
  firstLine,
  normalizeTerm,
  tokenize,
  ToolIndex,
  toolIndexFor,
} from '../../../../src/supervisor/catalog/tool-search.js';
import { DOMAINS, profileTools, TOOL_COUNT } from '../../../fixtures/many-tools-catalog.js';

const catalogTools = profileTools;
const TITLES = new Map(DOMAINS.map((d) => [d.id, d.title]));

/** [query, expected tool, worst acceptable rank] */
// prettier-ignore
const GRADED: readonly [string, string, 1 | 3][] = [
  ['open a pull request', 'github__create_pull_request', 1],
  ['delete a kubernetes pod', 'kubernetes__pods_delete', 1],
  ['send a slack message to a channel', 'slack__slack_post_message', 1],
  ['refund a payment', 'stripe__create_refund', 1],
  ['list s3 buckets', 's3__listBuckets', 1],
  ['merge PR', 'github__merge_pull_request', 1],
  ['run a sql query', 'postgres__pg_query', 1],
  ['show logs of a pod', 'kubernetes__pods_log', 1],
  ['scale deployment to 5 replicas', 'kubernetes__deployments_scale', 1],
  ['upload a file to a bucket', 's3__putObject', 3],
  ['schedule a meeting with the team', 'calendar__create-event', 3],
  ['reply to an email', 'email__reply_to_email', 1],
  ['read a file', 'filesystem__read_file', 1],
  ['cancel a customer subscription', 'stripe__cancel_subscription', 1],
  ['stop a running container', 'docker__stop_container', 1],
  ['create a page in notion', 'notion__notion-create-page', 1],
  ['search jira issues with jql', 'jira__jira_search', 1],
  ['move jira ticket to done', 'jira__jira_transition_issue', 1],
  ['when is everyone free for a meeting', 'calendar__find-meeting-times', 3],
  ['find slow queries', 'postgres__pg_get_slow_queries', 1],
  ['restart a deployment', 'kubernetes__deployments_rollout_restart', 1],
  ['presigned url for an s3 object', 's3__getPresignedUrl', 1],
  ['create a stripe customer', 'stripe__create_customer', 1],
  ['react with an emoji', 'slack__slack_add_reaction', 1],
  ['rollback deployment', 'kubernetes__deployments_rollout_undo', 1],
  ['kubernets pod logs', 'kubernetes__pods_log', 1], // typo
  ['presign', 's3__getPresignedUrl', 1], // prefix
  ['listBuckets', 's3__listBuckets', 1], // a name as the query
  ['create_pull_request', 'github__create_pull_request', 1],
  ['grep for a regex in files', 'filesystem__grep_files', 1],
  ['rename a file', 'filesystem__move_file', 1],
  ['build a docker image', 'docker__build_image', 1],
  ['dm a user on slack', 'slack__slack_send_direct_message', 1],
  ['archive an email', 'email__archive_email', 1],
  ['set out of office auto reply', 'email__set_vacation_responder', 3],
  ['mark node unschedulable', 'kubernetes__nodes_cordon', 1],
  ['query a notion database', 'notion__notion-query-database', 1],
  ['get file metadata', 'filesystem__get_file_info', 1],
  ['list commits on a branch', 'github__list_commits', 1],
  ['create a jira bug', 'jira__jira_create_issue', 1],
  ['accept a calendar invitation', 'calendar__respond-to-event', 1],
  ['payment disputes', 'stripe__list_disputes', 1],
  ['describe table columns', 'postgres__pg_describe_table', 1],
  ['free disk space docker', 'docker__prune_system', 1],
  ['enable bucket versioning', 's3__putBucketVersioning', 1],
  ['log time on a ticket', 'jira__jira_add_worklog', 1],
  ['add a comment to a github issue', 'github__add_issue_comment', 1],
  ['search slack messages', 'slack__slack_search_messages', 1],
  ['exec into a pod', 'kubernetes__pods_exec', 1],
];

/**
 * Written after the tuning above, as a check that it generalizes (one harmful synonym,
 * invite → attendee, was then removed). Bar: 75% top-1, 90% top-3; misses are printed.
 */
// prettier-ignore
const HELD_OUT: readonly [string, string][] = [
  ['close a github issue', 'github__update_issue'],
  ['approve a pull request', 'github__create_pull_request_review'],
  ['rerun failed ci', 'github__rerun_workflow_run'],
  ['assign ticket to someone', 'jira__jira_assign_issue'],
  ['start a new sprint', 'jira__jira_create_sprint'],
  ['invite people to a slack channel', 'slack__slack_invite_to_channel'],
  ['edit a slack message', 'slack__slack_update_message'],
  ['show table indexes', 'postgres__pg_list_indexes'],
  ['kill a long running query', 'postgres__pg_cancel_query'],
  ['roll out new image version', 'kubernetes__deployments_set_image'],
  ['apply a yaml manifest', 'kubernetes__resources_apply'],
  ['download an object from s3', 's3__getObject'],
  ['copy object between buckets', 's3__copyObject'],
  ['decline a meeting invite', 'calendar__respond-to-event'],
  ['forward an email', 'email__forward_email'],
  ['find unread emails from alice', 'email__search_emails'],
  ['create a folder', 'filesystem__create_directory'],
  ['unzip an archive', 'filesystem__extract_archive'],
  ['create a discount code', 'stripe__create_coupon'],
  ['check account balance', 'stripe__retrieve_balance'],
  ['pull an image from docker hub', 'docker__pull_image'],
  ['container cpu usage', 'docker__container_stats'],
  ['add a todo block to a notion page', 'notion__notion-append-blocks'],
  ['comment on a notion page', 'notion__notion-add-comment'],
  ['send an invoice', 'stripe__finalize_invoice'],
];

const UNKNOWN = [
  'quantum banana teleporter',
  'xyzzy',
  'weather forecast for paris',
  'translate text to french',
  'book a flight',
  'play music on spotify',
  'rotate api keys',
  'the of and to',
  '',
  'constructor __proto__ toString valueOf', // Object.prototype keys are plain words here
];

test('names split on separators and camelCase; terms fold plurals and verb forms', () => {
  assert.deepEqual(tokenize('s3__listBuckets'), ['s3', 'list', 'buckets']);
  assert.deepEqual(tokenize('notion-create-page'), ['notion', 'create', 'page']);
  assert.deepEqual(tokenize('getHTTPServer_v2'), ['get', 'http', 'server', 'v2']);
  const same = (words: string[]): void =>
    assert.equal(new Set(words.map(normalizeTerm)).size, 1, words.join(', '));
  same(['create', 'creates', 'created', 'creating']);
  same(['policy', 'policies']);
  same(['branch', 'branches']);
  same(['run', 'running']);
  assert.equal(normalizeTerm('the'), null);
  assert.equal(normalizeTerm('status'), 'status');
  assert.equal(normalizeTerm('string'), 'string');
});

test('firstLine takes the first non-empty line and caps it near 200 characters', () => {
  assert.equal(firstLine('\n  Lists pods.\nMore detail.'), 'Lists pods.');
  assert.equal(firstLine(undefined), '');
  const long = `${'Word '.repeat(30).trim()}. ${'More '.repeat(40)}`;
  assert.equal(firstLine(long), `${'Word '.repeat(30).trim()}.`);
  assert.ok(firstLine('x'.repeat(500)).endsWith('…'));
  assert.equal(firstLine('x'.repeat(500)).length, 200);
});

test(`the ${TOOL_COUNT}-tool catalog: graded queries reach their rank`, (t) => {
  const tools = catalogTools();
  assert.ok(tools.length >= 240);
  const started = performance.now();
  const index = new ToolIndex(tools, TITLES);
  const buildMs = performance.now() - started;

  const misses: string[] = [];
  let top1 = 0;
  let top3 = 0;
  const times: number[] = [];
  for (const [query, want, bar] of GRADED) {
    const at = performance.now();
    const hits = index.search(query);
    times.push(performance.now() - at);
    const rank = hits.findIndex((h) => h.name === want) + 1;
    if (rank === 1) top1++;
    if (rank >= 1 && rank <= 3) top3++;
    if (rank === 0 || rank > bar) {
      misses.push(`${query} → ${want} at ${rank || 'none'}: ${hits.map((h) => h.name).join(', ')}`);
    }
  }
  assert.deepEqual(misses, []);
  assert.ok(top1 >= 0.9 * GRADED.length, `top-1 ${top1}/${GRADED.length}`);
  assert.equal(top3, GRADED.length);

  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  t.diagnostic(
    `top-1 ${top1}/${GRADED.length}, top-3 ${top3}/${GRADED.length}; build ${buildMs.toFixed(1)} ms, ` +
      `query median ${median.toFixed(2)} ms, max ${(times.at(-1) ?? 0).toFixed(2)} ms`,
  );
  assert.ok(buildMs < 1000, `build took ${buildMs} ms`);
  assert.ok(median < 10, `median query ${median} ms`);
});

test('held-out queries: 75% top-1, 90% top-3', (t) => {
  const index = new ToolIndex(catalogTools(), TITLES);
  const ranks = HELD_OUT.map(([query, want]) => {
    const hits = index.search(query);
    const rank = hits.findIndex((h) => h.name === want) + 1;
    if (rank !== 1) t.diagnostic(`${query} → ${want} at ${rank || 'none'}, first ${hits[0]?.name}`);
    return rank;
  });
  const top1 = ranks.filter((r) => r === 1).length;
  const top3 = ranks.filter((r) => r >= 1 && r <= 3).length;
  t.diagnostic(`held-out top-1 ${top1}/${HELD_OUT.length}, top-3 ${top3}/${HELD_OUT.length}`);
  assert.ok(top1 >= 0.75 * HELD_OUT.length, `top-1 ${top1}/${HELD_OUT.length}`);
  assert.ok(top3 >= 0.9 * HELD_OUT.length, `top-3 ${top3}/${HELD_OUT.length}`);
});

test('a query sharing no meaningful word with the catalog finds nothing', () => {
  const index = new ToolIndex(catalogTools(), TITLES);
  for (const query of UNKNOWN) assert.deepEqual(index.search(query), [], query);
});

test('hits carry name, server, a rounded score and the first description line', () => {
  const [hit] = new ToolIndex(catalogTools(), TITLES).search('open a pull request');
  assert.equal(hit?.name, 'github__create_pull_request');
  assert.equal(hit?.server, 'github');
  assert.equal(hit?.description, DOMAINS[0]?.tools[0]?.description);
  assert.equal(hit?.score, Math.round((hit?.score ?? 0) * 100) / 100);
});

test('limit defaults to 10, clamps to 1..50; server narrows the search', () => {
  const index = new ToolIndex(catalogTools(), TITLES);
  assert.equal(index.search('list').length, 10);
  const many = 'list get create delete update search';
  assert.equal(index.search(many, { limit: 500 }).length, 50);
  assert.equal(index.search('list', { limit: 0 }).length, 1);
  const onlyS3 = index.search('list', { server: 's3', limit: 50 });
  assert.ok(onlyS3.length > 0);
  assert.ok(onlyS3.every((h) => h.server === 's3'));
  assert.deepEqual(index.search('delete', { server: 'nowhere' }), []);
  // Server titles are searchable: "AWS" is in s3's title ("AWS S3") and two of its descriptions.
  const aws = index.search('aws', { limit: 50 });
  assert.equal(aws.length, DOMAINS.find((d) => d.id === 's3')?.tools.length);
  assert.ok(aws.every((h) => h.server === 's3'));
});

test('the score floor scales with the catalog: a two-tool catalog still finds its tools', () => {
  const index = new ToolIndex([
    { server: 'e', tool: { name: 'echo', description: 'Returns the given text unchanged.' } },
    { server: 'e', tool: { name: 'add', description: 'Adds two numbers.' } },
  ]);
  assert.deepEqual(
    index.search('echo text').map((h) => h.name),
    ['echo'],
  );
  assert.deepEqual(
    index.search('add numbers').map((h) => h.name),
    ['add'],
  );
  assert.deepEqual(index.search('weather'), []);
});

test('toolIndexFor builds once per version', () => {
  let calls = 0;
  let tools = catalogTools().slice(0, 5);
  const source = {
    version: 1,
    tools: () => {
      calls++;
      return tools;
    },
  };
  const first = toolIndexFor(source);
  assert.equal(toolIndexFor(source), first);
  assert.equal(calls, 1);
  tools = catalogTools();
  source.version = 2;
  const second = toolIndexFor(source);
  assert.notEqual(second, first);
  assert.equal(second.size, TOOL_COUNT);
  assert.equal(calls, 2);
});

test('the many-tools fixture serves the whole catalog over stdio and answers calls', async () => {
  const client = new Client({ name: 'tool-search-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [fileURLToPath(new URL('../../../fixtures/many-tools-server.js', import.meta.url))],
      env: getDefaultEnvironment(),
      stderr: 'ignore',
    }),
  );
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.length >= 240, `${tools.length} tools`);
    assert.equal(tools.length, TOOL_COUNT);
    assert.equal(new Set(tools.map((t) => t.name)).size, tools.length);
    const pr = tools.find((t) => t.name === 'create_pull_request');
    assert.deepEqual(pr?.inputSchema.required, ['owner', 'repo', 'title', 'head', 'base']);
    const args = { owner: 'o', repo: 'r', title: 'T', head: 'feature', base: 'main' };
    const result = await client.callTool({ name: 'create_pull_request', arguments: args });
    assert.deepEqual(result.content, [
      { type: 'text', text: `create_pull_request called with ${JSON.stringify(args)}` },
    ]);
    // The served list (zod → JSON Schema) ranks like the catalog.
    const served = new ToolIndex(
      tools.map((tool) => ({ server: 'many', tool: tool as JsonObject })),
    );
    assert.equal(served.search('refund a payment')[0]?.name, 'create_refund');
  } finally {
    await client.close();
  }
});
