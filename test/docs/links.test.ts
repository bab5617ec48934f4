import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Every relative link in the README and the docs must resolve: the file exists and, when the link
 * names an anchor, the target has a heading with that GitHub slug. Moving a section breaks a link
 * silently otherwise.
 */
const ROOT = path.join(__dirname, '..', '..');

/** Folders that hold no documentation of ours: installed packages, build output, reports. */
const NOT_OURS = new Set(['node_modules', 'cdk.out', 'coverage', 'reports', '.git', '.scratch', '.cdk.staging']);

/** Every Markdown file of the project, README first. */
function markdownFiles(dir = ''): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory() && !NOT_OURS.has(entry.name)) found.push(...markdownFiles(rel));
    else if (entry.isFile() && entry.name.endsWith('.md')) found.push(rel);
  }
  return dir ? found : ['README.md', ...found.filter((f) => f !== 'README.md')];
}

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** Text outside fenced code blocks and inline code, where links are real links. */
function proseOf(markdown: string): string {
  return markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
}

function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(githubSlug(m[1] ?? ''));
  }
  return anchors;
}

/**
 * The targets of inline links (`[text](target)`, images too) and of reference definitions
 * (`[name]: target`). A target with a title or in angle brackets is returned as it stands, so it
 * fails the path check instead of being skipped.
 */
function linkTargets(prose: string): string[] {
  const inline = [...prose.matchAll(/\]\(([^)]*)\)/g)].map((m) => m[1] ?? '');
  const definitions = [...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*(.*)$/gm)].map((m) => (m[1] ?? '').trim());
  return [...inline, ...definitions];
}

export function brokenLinks(file: string, text = fs.readFileSync(path.join(ROOT, file), 'utf8')): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(proseOf(text))) {
    if (/^(https?:|mailto:)/.test(target)) continue;
    if (target === '' || /[\s<>]/.test(target)) {
      broken.push(`${file}: ${target} (not a plain relative link: the check cannot follow it)`);
      continue;
    }
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const resolved = pathPart ? path.resolve(ROOT, path.dirname(file), pathPart) : path.join(ROOT, file);
    if (!fs.existsSync(resolved)) {
      broken.push(`${file}: ${target} (no such file)`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!(fs.statSync(resolved).isFile() && resolved.endsWith('.md'))) {
      broken.push(`${file}: ${target} (an anchor into something that is not a Markdown file)`);
    } else if (!anchorsIn(pathPart ? fs.readFileSync(resolved, 'utf8') : text).has(anchor)) {
      broken.push(`${file}: ${target} (no heading with that anchor)`);
    }
  }
  return broken;
}

describe('documentation links', () => {
  test('the slug rule matches GitHub for the headings we use', () => {
    expect(githubSlug('Known limits / not testable here')).toBe('known-limits--not-testable-here');
    expect(githubSlug('NetworkStack (`network-stack.ts`)')).toBe('networkstack-network-stackts');
  });

  test.each(markdownFiles())('every relative link in %s resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  test('the check finds a missing file, a missing anchor and a link it cannot follow', () => {
    const text = [
      '[ok](docs/architecture.md#stack-dependency-graph) [self](#top)',
      '# Top',
      '[gone](docs/no-such-page.md) [moved](docs/architecture.md#no-such-heading)',
      '[titled](docs/architecture.md "title") [dir anchor](docs/adr/#x)',
      '[ref]: docs/also-gone.md',
      '`[code](docs/ignored.md)`',
    ].join('\n');
    expect(brokenLinks('README.md', text)).toEqual([
      'README.md: docs/no-such-page.md (no such file)',
      'README.md: docs/architecture.md#no-such-heading (no heading with that anchor)',
      'README.md: docs/architecture.md "title" (not a plain relative link: the check cannot follow it)',
      'README.md: docs/adr/#x (an anchor into something that is not a Markdown file)',
      'README.md: docs/also-gone.md (no such file)',
    ]);
  });

  test('every Markdown file of the project is checked, the README and the docs among them', () => {
    const files = markdownFiles();
    expect(files[0]).toBe('README.md');
    expect(files).toEqual(expect.arrayContaining(['docs/README.md', 'docs/architecture.md', 'glue/README.md']));
    expect(files.some((f) => f.startsWith('docs/adr/'))).toBe(true);
    expect(files.some((f) => f.startsWith('node_modules'))).toBe(false);
  });

  test('the README stays a front page: under 12 KB, the two commands first', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    const commands = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1]?.trim());
    expect(commands).toEqual(['npm ci && npx cdk synth', 'npm ci && npm test']);
    // Both come before the first section, so they are on the first screen.
    expect(readme.indexOf('npm ci && npm test')).toBeLessThan(readme.indexOf('\n## '));
  });

  test('the docs index lists every page under docs/ and every ADR', () => {
    const index = fs.readFileSync(path.join(ROOT, 'docs', 'README.md'), 'utf8');
    const linked = new Set(linkTargets(proseOf(index)).map((t) => path.normalize(t.split('#')[0] ?? '')));
    const pages = markdownFiles()
      .filter((f) => f.startsWith(`docs${path.sep}`) && f !== path.join('docs', 'README.md'))
      .map((f) => path.relative('docs', f));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });
});
