/** A wrong command line: exit code 2 and a pointer to --help. */
export class UsageError extends Error {}

/** node:util parseArgs' complaints, in Cairn's words: what is wrong with which option, and how to write it. */
const PARSE_ARGS_WORDS: [RegExp, (option: string) => string][] = [
  [/^Unknown option '([^']+)'/, (o) => `unknown option ${o} (an argument that starts with "-" goes after "--")`],
  [/^Option '([^']+)' argument missing/, (o) => `${o} needs a value`],
  [
    /^Option '([^']+)' argument is ambiguous/,
    (o) => `${o} needs a value (a value that starts with "-" is written ${o}=VALUE)`,
  ],
  [/^Option '([^']+)' does not take an argument/, (o) => `${o} takes no value`],
];

/** The message of a parseArgs error (ERR_PARSE_ARGS_*) as a usage error says it; others as they are. */
export function parseArgsMessage(message: string): string {
  for (const [pattern, words] of PARSE_ARGS_WORDS) {
    const m = pattern.exec(message);
    // "-k, --keep-last <value>" → "--keep-last"
    if (m)
      return words(
        m[1]!
          .split(', ')
          .at(-1)!
          .replace(/ <value>$/, ''),
      );
  }
  return message;
}
