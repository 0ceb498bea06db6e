// The documentation's links: every relative link and anchor in the README, docs/ (the API
// reference included) and the other Markdown files resolves, checked by scripts/check-links.mjs,
// whose rules are tested here on small files of their own.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, headingSlug, linksOf, markdownFiles } from '../scripts/check-links.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the project documentation', () => {
  it('has no broken relative link or anchor in README.md, docs/**/*.md or any other Markdown file', () => {
    const files = markdownFiles(root);
    expect(files).toContain('README.md');
    expect(files.filter((file) => file.startsWith('docs/api/')).length).toBeGreaterThan(0);
    expect(brokenLinks(root, files)).toEqual([]);
  });
});

describe('the link checker', () => {
  it('gives headings the ids GitHub gives them', () => {
    const cases: [string, string][] = [
      ['Quick start (a fresh machine with Node ≥ 20.19 and npm)', 'quick-start-a-fresh-machine-with-node--2019-and-npm'],
      ['λ → ∞ is 1-NN', 'λ---is-1-nn'],
      ['café, Ünïcode', 'café-ünïcode'],
      ['z1² and x_j', 'z1-and-x_j'],
      ['emoji 🚀 here', 'emoji--here'],
      ['A.B/C: 100 %', 'abc-100-'],
    ];
    for (const [heading, id] of cases) expect(headingSlug(heading), heading).toBe(id);
  });

  it('reads ids from ATX and setext headings, numbers repeats, skips code blocks, and takes HTML ids', () => {
    const text = [
      '# The `threads` option',
      '## Same', '## Same',
      'Underlined', '----------',
      '```', '# not a heading', '```',
      '<a id="custom"></a>',
      '### fromBytes()',
      '### \\<T\\> and a\\_b, _em_ x__y **strong**',
    ].join('\n');
    expect([...anchorsOf(text)]).toEqual(['the-threads-option', 'same', 'same-1', 'underlined', 'custom', 'frombytes', 't-and-a_b-em-x__y-strong']);
  });

  it('finds inline links, images, reference definitions and href/src attributes, but not code', () => {
    const text = 'See [a](b.md#c), ![i](img.png "title"), `[no](x.md)` and <a href="f.md">f</a>, [t](<g h.md>).\n[def]: ./k.md#z\n```\n[no](y.md)\n```';
    expect(linksOf(text)).toEqual([
      { line: 1, target: 'b.md#c' },
      { line: 1, target: 'img.png' },
      { line: 1, target: 'g h.md' },
      { line: 1, target: 'f.md' },
      { line: 2, target: './k.md#z' },
    ]);
  });

  describe('on a folder of its own', () => {
    let folder: string;
    beforeAll(async () => {
      folder = await mkdtemp(join(tmpdir(), 'knnet-links-'));
      await mkdir(join(folder, 'docs/guide'), { recursive: true });
      await writeFile(join(folder, 'README.md'), [
        '# Project', '## Install',
        '[ok](docs/guide/start.md#first-steps) [ok](#install) [ok](docs/) [ok](/docs/guide/start.md) [ok](https://example.com/missing)',
        '[missing file](docs/nothing.md) [missing anchor](docs/guide/start.md#nowhere) [outside](../elsewhere.md)',
        '[line](src.ts#L3) [not a line](src.ts#top) [folder anchor](docs#x)',
      ].join('\n'));
      await writeFile(join(folder, 'src.ts'), 'export {};\n');
      await writeFile(join(folder, 'docs/guide/start.md'), '# Start\n\n## First steps\n\n[back](../../README.md#project) [bad](../../README.md#usage)\n');
    });
    afterAll(async () => {
      await rm(folder, { recursive: true, force: true });
    });

    it('reports each broken link with its file and line, and nothing else', () => {
      expect(markdownFiles(folder)).toEqual(['README.md', 'docs/guide/start.md']);
      expect(brokenLinks(folder, markdownFiles(folder))).toEqual([
        'README.md:4: docs/nothing.md: no such file or folder (docs/nothing.md)',
        'README.md:4: docs/guide/start.md#nowhere: no heading or id "nowhere" in docs/guide/start.md',
        'README.md:4: ../elsewhere.md: points outside the repository',
        'README.md:5: src.ts#top: an anchor into a file that is not Markdown can only be a line (#L12 or #L12-L20)',
        'README.md:5: docs#x: an anchor on a folder',
        'docs/guide/start.md:5: ../../README.md#usage: no heading or id "usage" in README.md',
      ]);
    });
  });
});
