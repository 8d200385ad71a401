// Reads a policy file. Running as root, a policy that others can write is refused (as sudo
// refuses such a sudoers): whoever can edit it could make any process expendable.
import { readFileSync, statSync } from 'node:fs';
import { formatPolicyErrors, parsePolicy, type Policy } from '../core/policy.js';
import { UserError } from '../core/errors.js';

export function loadPolicyFile(path: string, euid = process.geteuid?.() ?? 0): Policy {
  let text: string;
  try {
    const st = statSync(path);
    if (euid === 0 && (st.mode & 0o022) !== 0) {
      throw new UserError(`refusing policy ${path}: it is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}); as root oomtop only reads a policy others cannot change: chmod go-w ${path}`);
    }
    if (euid === 0 && st.uid !== 0) {
      throw new UserError(`refusing policy ${path}: owned by uid ${st.uid}, not root; as root oomtop only reads a policy others cannot change: chown root ${path}`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read policy ${path} (${(e as NodeJS.ErrnoException).code}): check the path`);
  }
  const parsed = parsePolicy(text, path);
  if (!parsed.policy) throw new UserError(`${formatPolicyErrors(parsed.errors)}\npolicy ${path} has ${parsed.errors.length} error(s): nothing was applied`);
  return parsed.policy;
}
