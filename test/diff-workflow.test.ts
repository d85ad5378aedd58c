/**
 * The pull-request workflow (.github/workflows/flat6-diff.yml): valid YAML with
 * the shape GitHub runs, only maintained actions, the README's test command,
 * and its diff step run here as a shell script against a fixture repository
 * with a blocked renumber: it writes the markdown report, the step summary
 * and status 1, which fails the check.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cleanupTempDirs, ROOT, tempDir } from './helpers.js';
import { commit, fixtureRepo, fixtureStack, FX, git } from './diff-helpers.js';

afterAll(cleanupTempDirs);

const FILE = join(ROOT, '.github', 'workflows', 'flat6-diff.yml');
const wf = parse(readFileSync(FILE, 'utf8'), { uniqueKeys: true, strict: true });

/** Actions the workflow may use: GitHub's own, maintained, by major version. */
const MAINTAINED = new Set(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/github-script@v7']);

describe('flat6-diff workflow', () => {
  it('runs on pull requests (and label changes), with a token that may write comments only', () => {
    expect(Object.keys(wf.on)).toEqual(['pull_request']);
    expect(wf.on.pull_request.types).toEqual(expect.arrayContaining(['opened', 'synchronize', 'reopened', 'labeled', 'unlabeled']));
    expect(wf.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(Object.keys(wf.jobs).sort()).toEqual(['diff', 'test']);
    for (const job of Object.values<any>(wf.jobs)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      for (const step of job.steps) {
        expect(Boolean(step.uses) !== Boolean(step.run), JSON.stringify(step)).toBe(true);
        if (step.uses) expect(MAINTAINED.has(step.uses), step.uses).toBe(true);
      }
    }
  });

  it('the test job runs the README\'s test command', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm test');
    const runs = wf.jobs.test.steps.filter((s: any) => s.run).map((s: any) => s.run);
    expect(runs.join('\n')).toContain("bash -c 'npm ci && npm test'");
  });

  it('the diff job checks out the head with its history, builds, and comments once per pull request', () => {
    const steps = wf.jobs.diff.steps;
    expect(steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { ref: '${{ github.event.pull_request.head.sha }}', 'fetch-depth': 0 } });
    expect(steps.some((s: any) => s.run === 'npm ci')).toBe(true);
    const diffStep = steps.find((s: any) => s.id === 'diff');
    expect(diffStep.run).toContain('node bin/flat6.js diff --all-stacks --base "$base" --format markdown $flag > flat6-diff.md');
    expect(diffStep.env.ALLOW).toBe("${{ contains(github.event.pull_request.labels.*.name, 'flat6-allow-renumber') }}");
    const comment = steps.find((s: any) => s.uses === 'actions/github-script@v7');
    expect(comment.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(comment.with.script).toContain("const marker = '<!-- flat6-diff -->'");
    expect(comment.with.script).toContain('updateComment');
    const fail = steps[steps.length - 1];
    expect(fail.if).toBe("steps.diff.outputs.status != '0'");
    expect(fail.run).toContain('exit 1');
  });

  it('its diff step, run as written on a repository with a blocked renumber, writes the report and status 1', () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) throw new Error('dist/ is missing: run npm run build (npm test does)');
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    const baseSha = git(dir, 'rev-parse', 'HEAD').trim();
    commit(dir, { [FX]: fixtureStack({ racks: '      - { name: a, nodes: 2 }\n      - { name: x, nodes: 1 }\n      - { name: b, nodes: 2 }\n' }) });
    // The runner's checkout holds bin/ and dist/; here they are linked in (untracked).
    for (const p of ['bin', 'dist', 'node_modules', 'package.json']) symlinkSync(join(ROOT, p), join(dir, p));
    const out = tempDir('gh');
    const output = join(out, 'output');
    const summary = join(out, 'summary');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const step = wf.jobs.diff.steps.find((s: any) => s.id === 'diff');
    const run = (allow: string): void => {
      execFileSync('bash', ['-e', '-c', step.run], { cwd: dir, env: { PATH: process.env['PATH'], BASE_SHA: baseSha, ALLOW: allow, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary }, stdio: 'pipe' });
    };
    run('false');
    expect(readFileSync(output, 'utf8')).toBe('status=1\n');
    const md = readFileSync(join(dir, 'flat6-diff.md'), 'utf8');
    expect(md).toContain('**Blocked**: `fx` (RENUMBER)');
    expect(readFileSync(summary, 'utf8')).toBe(md);
    run('true');
    expect(readFileSync(output, 'utf8')).toBe('status=1\nstatus=0\n');
  });
});
