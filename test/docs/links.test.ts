import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Every relative link in the README and the docs must resolve: the file exists and, when the link
 * names an anchor, the target has a heading with that GitHub slug. Moving a section breaks a link
 * silently otherwise.
 */
const ROOT = path.join(__dirname, '..', '..');

function markdownFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) found.push(rel);
    }
  };
  for (const dir of ['docs', 'glue', 'scripts']) if (fs.existsSync(path.join(ROOT, dir))) walk(dir);
  return found;
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

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const anchors = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) anchors.add(githubSlug(m[1] ?? ''));
  return anchors;
}

function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  const text = proseOf(fs.readFileSync(path.join(ROOT, file), 'utf8'));
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1] ?? '';
    if (/^(https?:|mailto:)/.test(target)) continue;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const resolved = pathPart ? path.resolve(ROOT, path.dirname(file), pathPart) : path.join(ROOT, file);
    if (!fs.existsSync(resolved)) {
      broken.push(`${file}: ${target} (no such file)`);
      continue;
    }
    if (anchor && fs.statSync(resolved).isFile() && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
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

  test('the README stays a front page', () => {
    expect(fs.statSync(path.join(ROOT, 'README.md')).size).toBeLessThan(12 * 1024);
  });
});
