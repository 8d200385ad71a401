// Generates, after tsc, what the package ships beside dist/: the man page oomtop(1) (from
// man/oomtop.md and the command and key tables, rendered by marked-man) and the bash, zsh
// and fish completions (from the command table). Both are built from the tables the CLI is
// built from, so they cannot drift; test/commands/completion.test.ts and manpage.test.ts
// check them. marked-man is a build tool: an installed package ships the rendered page.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { manMarkdown } = await import(join(root, 'dist/commands/manpage.js'));
const { bashCompletion, zshCompletion, fishCompletion } = await import(join(root, 'dist/commands/completion.js'));
const { VERSION } = await import(join(root, 'dist/version.js'));

/** Written to a temporary file and renamed into place: a reader never sees half a file. */
function put(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

put(join(root, 'completions/oomtop.bash'), bashCompletion());
put(join(root, 'completions/_oomtop'), zshCompletion());
put(join(root, 'completions/oomtop.fish'), fishCompletion());

const markdown = manMarkdown(readFileSync(join(root, 'man/oomtop.md'), 'utf8'));
const bin = join(root, 'node_modules/.bin/marked-man');
// SOURCE_DATE_EPOCH (reproducible builds) wins; else the page is dated by its version's build
const r = spawnSync(
  bin,
  ['--no-breaks', '--version', `oomtop ${VERSION}`, '--manual', 'oomtop manual', '--section', '1'],
  {
    input: markdown,
    encoding: 'utf8',
  },
);
if (r.status !== 0) {
  console.error(`oomtop gen-docs: marked-man failed: ${r.error?.message ?? r.stderr}`);
  process.exit(1);
}
put(join(root, 'man/oomtop.1'), r.stdout);
