// Types of check-links.mjs, for the tests that import it.
export function markdownFiles(root: string): string[];
export function headingSlug(text: string): string;
export function anchorsOf(text: string): Set<string>;
export function linksOf(text: string): { line: number; target: string }[];
export function brokenLinks(root: string, files: string[]): string[];
