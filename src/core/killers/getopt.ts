// Reads another program's argv the way its getopt_long() did (glibc: options anywhere,
// "-m5" and "-m 5", "--prefer=x" and "--prefer x", "--" ends them), so a killer's settings
// are what it runs with. Not oomtop's own argument parser (cli.ts uses commander).

export interface ParsedOption {
  name: string;
  value?: string;
  problem?: string;
}

/**
 * `short`: getopt's optstring ("m:s:dv": a colon after a letter takes a value);
 * `long`: names, with "=" at the end when they take a value.
 */
export function getopt(argv: readonly string[], short: string, long: readonly string[]): ParsedOption[] {
  const out: ParsedOption[] = [];
  const takes = (c: string) => short[short.indexOf(c) + 1] === ':';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = long.find((l) => l.replace(/=$/, '') === name);
      if (!spec) out.push({ name, problem: `--${name}: an option it does not know` });
      else if (!spec.endsWith('=')) out.push({ name });
      else if (inline !== undefined) out.push({ name, value: inline });
      else if (i + 1 < argv.length) out.push({ name, value: argv[++i] as string });
      else out.push({ name, problem: `--${name}: no value` });
      continue;
    }
    if (!a.startsWith('-') || a === '-') continue; // an operand
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      if (!short.includes(c) || c === ':') {
        out.push({ name: c, problem: `-${c}: an option it does not know` });
        continue;
      }
      if (!takes(c)) {
        out.push({ name: c });
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest) out.push({ name: c, value: rest });
      else if (i + 1 < argv.length) out.push({ name: c, value: argv[++i] as string });
      else out.push({ name: c, problem: `-${c}: no value` });
      break;
    }
  }
  return out;
}
