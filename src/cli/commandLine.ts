// Reading a command's arguments: `--name value`, `--name=value`, boolean `--name`, `-h`, file
// names as positional arguments, `--` before file names that start with a dash. Every mistake
// is a UsageError of one line that names the option and, where one is close, the option meant.
import { closestName } from './suggest.js';

/** A mistake in the command line: the CLI prints its one line, points to --help, and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionKind = 'string' | 'boolean';

export interface CommandSpec {
  /** The command's name, for messages ("predict"). */
  readonly name: string;
  /** Its options, by name without the dashes. */
  readonly options: Readonly<Record<string, OptionKind>>;
  /** Options of the other commands, by name, with the command they belong to (for a better message). */
  readonly elsewhere?: Readonly<Record<string, string>>;
  /** Words from other tools that stand for one of the options (n_neighbors → k). */
  readonly synonyms?: Readonly<Record<string, string>>;
}

export interface ReadArguments {
  /** Option values by name: the text given, or true for a boolean option. */
  readonly values: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export function unknownOption(given: string, spec: CommandSpec): UsageError {
  const name = given.replace(/^--?/, '').replace(/=.*$/, '');
  const owner = spec.elsewhere?.[name];
  if (owner !== undefined) return new UsageError(`${spec.name} does not take --${name} (an option of knnet ${owner})`);
  const meant = closestName(name, Object.keys(spec.options), spec.synonyms);
  return new UsageError(`unknown option ${given.replace(/=.*$/, '')}${meant === undefined ? '' : `; did you mean --${meant}?`}`);
}

export function readArguments(args: readonly string[], spec: CommandSpec): ReadArguments {
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  const set = (name: string, value: string | true) => {
    if (values.has(name)) {
      const list = name === 'features' || name === 'drop' ? `; list several columns in one, as --${name} a,b` : '';
      throw new UsageError(`--${name} is given twice${list}`);
    }
    values.set(name, value);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      set('help', true);
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw unknownOption(arg, spec);
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const kind = Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
    if (kind === undefined) throw unknownOption(arg, spec);
    if (kind === 'boolean') {
      if (equals >= 0) throw new UsageError(`--${name} takes no value; write just --${name}`);
      set(name, true);
    } else if (equals >= 0) {
      set(name, arg.slice(equals + 1));
    } else {
      const value = args[i + 1];
      // A value may start with one dash (--lambda -1 is then refused for its sign), not two.
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      set(name, value);
      i++;
    }
  }
  return { values, positionals };
}
