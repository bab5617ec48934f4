import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV_NAMES } from '../../lib/config/environment-config';
import { STACK_IDS, synthStage } from '../support/stage-fixture';

/**
 * The MigrationStage graphs drawn in the README and in docs/architecture.md are the dependencies of
 * the synthesized cloud assembly, edge for edge: a stack that gains or loses a dependency must be
 * redrawn, or readers plan deploys and tear-downs on a wrong order.
 */
const ROOT = path.join(__dirname, '..', '..');

/** The edges (`A --> B`) of the first mermaid `graph LR` block after the heading `heading`. */
export function drawnEdges(markdown: string, heading: string): string[] {
  const section = markdown.split(/^#{1,6} /m).find((s) => s.startsWith(`${heading}\n`));
  const block = section?.match(/```mermaid\ngraph LR\n([\s\S]*?)```/)?.[1];
  if (block === undefined) throw new Error(`no mermaid graph under "${heading}"`);
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const edge = line.match(/^(\w+) --> (\w+)$/);
      if (!edge) throw new Error(`not an edge of the stack graph: "${line}"`);
      return `${edge[1]} --> ${edge[2]}`;
    })
    .sort();
}

const DRAWN = {
  'README.md': drawnEdges(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Stages and stacks'),
  'docs/architecture.md': drawnEdges(
    fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8'),
    'Stack dependency graph',
  ),
};

describe('the drawn stack graph', () => {
  test('reads edges and refuses a line that is not one', () => {
    const md = '## G\n\n```mermaid\ngraph LR\n  B --> C\n  A --> B\n```\n';
    expect(drawnEdges(md, 'G')).toEqual(['A --> B', 'B --> C']);
    expect(() => drawnEdges(md.replace('A --> B', 'A -.-> B'), 'G')).toThrow(/not an edge/);
    expect(() => drawnEdges(md, 'H')).toThrow(/no mermaid graph/);
  });

  describe.each(ENV_NAMES)('MigrationStage (%s)', (env) => {
    const { stacks } = synthStage(env);
    const synthesized = STACK_IDS.flatMap((id) => (stacks[id]?.dependencies ?? []).map((d) => `${d} --> ${id}`)).sort();

    test('the assembly has dependencies to draw', () => {
      expect(synthesized.length).toBeGreaterThan(STACK_IDS.length);
    });

    test.each(Object.keys(DRAWN))('%s draws exactly the dependencies of the assembly', (file) => {
      expect(DRAWN[file as keyof typeof DRAWN]).toEqual(synthesized);
    });
  });
});
