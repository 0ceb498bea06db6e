// Checks that every relative link in the project's Markdown resolves: the file or folder exists
// inside the repository, and an anchor (#section) names a heading or an id of the Markdown file
// it points to, as GitHub renders them. Links with a scheme (https:, mailto:) are not fetched.
// Checked: README.md, docs/**/*.md and every other .md outside node_modules, dist and build.
//
//   node scripts/check-links.mjs     # prints each broken link as file:line, exits 1 if any
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'build', '.git']);

/** Every .md file under `root` (relative paths, sorted), outside the folders nothing links into. */
export function markdownFiles(root) {
  const found = [];
  const walk = (folder) => {
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      const path = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('');
  return found.sort();
}

// GitHub's heading ids: lower case, then every character dropped that is punctuation (but
// connectors such as `_`, and `-` itself), a symbol, a separator (but the space), a control,
// format, private or unassigned code point, or a number other than a digit or a letter-like one
// (², ½), unless it is alphabetic; then each space becomes `-`.
const DROPPED_FROM_SLUGS = /[[\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Pd}\p{Po}\p{S}\p{Z}\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{No}]--[\p{Alphabetic}\- ]]/gv;

/** The id GitHub gives a heading with this rendered text (before duplicates are numbered). */
export function headingSlug(text) {
  return text.toLowerCase().replace(DROPPED_FROM_SLUGS, '').replace(/ /g, '-');
}

/**
 * What a heading's inline Markdown contributes to its id: the text of code spans and links,
 * without tags and emphasis. Escaped characters are literal, and all of them but `-` and `_`
 * would be dropped from the id anyway, so they go now (`\<T\>` is not a tag).
 */
function renderedText(markdown) {
  const escapedUnderscore = '\u{F0000}';
  return markdown
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/\\([!-\/:-@[-`{-~])/g, (_, character) => (character === '_' ? escapedUnderscore : character === '-' ? '-' : ''))
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\*+|(?<![\p{L}\p{N}_])_+|_+(?![\p{L}\p{N}_])/gu, '')
    .replaceAll(escapedUnderscore, '_')
    .trim();
}

/** The lines of a Markdown file that are prose, each with its 1-based number: fenced code blocks left out. */
function proseLines(text) {
  const lines = [];
  let fence;
  text.split(/\r?\n/).forEach((line, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      return;
    }
    if (marker) fence = marker;
    else lines.push({ number: index + 1, line });
  });
  return lines;
}

/** The anchors a Markdown file defines: its headings' ids (repeats numbered -1, -2, …) and every HTML id or name. */
export function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  const lines = proseLines(text);
  lines.forEach(({ line }, i) => {
    let heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)?.[1];
    // A setext heading: a line of text underlined with = or -.
    const next = lines[i + 1];
    if (heading === undefined && next && next.number === lines[i].number + 1 && line.trim() && /^ {0,3}(=+|-+)[ \t]*$/.test(next.line) && !/^ {0,3}([-*+]|\d+[.)])[ \t]/.test(line)) {
      heading = line.trim();
    }
    if (heading !== undefined) {
      const slug = headingSlug(renderedText(heading));
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<[a-z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(match[1]);
  });
  return anchors;
}

/** Every link target in a Markdown file, with its line: inline links and images, reference definitions, href and src attributes. */
export function linksOf(text) {
  const links = [];
  for (const { number, line } of proseLines(text)) {
    const prose = line.replace(/(`+)(?:(?!\1).)+?\1/g, (span) => ' '.repeat(span.length)); // code spans are not links
    for (const match of prose.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
      links.push({ line: number, target: match[1].replace(/^<|>$/g, '') });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(prose);
    if (definition) links.push({ line: number, target: definition[1].replace(/^<|>$/g, '') });
    for (const match of prose.matchAll(/<(?:a|img|source)\s[^>]*?(?:href|src)\s*=\s*["']([^"']*)["']/gi)) links.push({ line: number, target: match[1] });
  }
  return links;
}

/** The broken links of the given Markdown files (paths relative to `root`), as "file:line: target: why". */
export function brokenLinks(root, files) {
  const anchorCache = new Map();
  const anchorsIn = (path) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, 'utf8')));
    return anchorCache.get(path);
  };
  const problems = [];
  for (const file of files) {
    const path = join(root, file);
    for (const { line, target } of linksOf(readFileSync(path, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // https:, mailto: …
      const report = (why) => problems.push(`${file}:${line}: ${target}: ${why}`);
      const hash = target.indexOf('#');
      const pathPart = hash < 0 ? target : target.slice(0, hash);
      let anchor;
      let resolved;
      try {
        anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const file = decodeURI(pathPart.split('?')[0]);
        // GitHub resolves a link that starts with / from the repository's root.
        resolved = file === '' ? path : file.startsWith('/') ? join(root, file) : resolve(dirname(path), file);
      } catch {
        report('not a valid URL');
        continue;
      }
      if (resolved !== resolve(root) && !resolved.startsWith(resolve(root) + sep)) {
        report('points outside the repository');
        continue;
      }
      if (!existsSync(resolved)) {
        report(`no such file or folder (${relative(root, resolved)})`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(resolved).isDirectory()) {
        report('an anchor on a folder');
      } else if (resolved.endsWith('.md')) {
        if (!anchorsIn(resolved).has(anchor)) report(`no heading or id "${anchor}" in ${relative(root, resolved)}`);
      } else if (!/^L\d+(-L\d+)?$/.test(anchor)) {
        report('an anchor into a file that is not Markdown can only be a line (#L12 or #L12-L20)');
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = markdownFiles(root);
  const links = files.reduce((count, file) => count + linksOf(readFileSync(join(root, file), 'utf8')).length, 0);
  const problems = brokenLinks(root, files);
  for (const problem of problems) console.error(problem);
  console.log(`check-links: ${files.length} Markdown files, ${links} links, ${problems.length} broken`);
  process.exit(problems.length > 0 ? 1 : 0);
}
