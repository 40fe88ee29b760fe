/**
 * Branch names checked up front, without running git: git's own rules for a ref name
 * (`git check-ref-format --branch`, see git-check-ref-format(1)) plus a length limit,
 * so a spawn with a bad name fails before anything is created, with what is allowed,
 * instead of git's raw "cannot lock ref" half-way through.
 */
import { EnnioError } from '../core/errors.js';

/**
 * A ref is a file under .git/refs (and its reflog under .git/logs/refs), and git adds
 * ".lock" while writing it: one path component may be at most 255 bytes on common file
 * systems, and deep worktree paths eat into PATH_MAX. 200 bytes leaves room for both.
 */
export const BRANCH_MAX_BYTES = 200;

const ALLOWED =
  `at most ${BRANCH_MAX_BYTES} bytes; parts separated by single '/'; no spaces, control characters, ` +
  "'~', '^', ':', '?', '*', '[', '\\', '..' or '@{'; no part starting with '.' or ending with '.lock'; " +
  "not starting with '-' or ending with '.'; not HEAD or @";

/** Why git would refuse this branch name (or it is too long), or undefined when it is fine. */
export function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > BRANCH_MAX_BYTES) return `it is ${bytes} bytes long, more than the ${BRANCH_MAX_BYTES} allowed`;
  if (name.startsWith('-')) return "it starts with '-'";
  if (name === 'HEAD' || name === '@') return `${name} has a special meaning to git`;
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) return `it contains ${bad[0] <= ' ' || bad[0] === '\x7f' ? 'a space or control character' : `'${bad[0]}'`}`;
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{')) return "it contains '@{'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return "it starts or ends with '/' or contains '//'";
  if (name.endsWith('.')) return "it ends with '.'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `its part ${JSON.stringify(part)} starts with '.'`;
    if (part.endsWith('.lock')) return `its part ${JSON.stringify(part)} ends with '.lock'`;
  }
  return undefined;
}

export function assertBranchName(name: string): void {
  const problem = branchNameProblem(name);
  if (problem === undefined) return;
  const shown = name.length > 60 ? `${JSON.stringify(name.slice(0, 60)).slice(0, -1)}…"` : JSON.stringify(name);
  throw new EnnioError('INVALID_ARGUMENT', `invalid branch name ${shown}: ${problem}`, { hint: `a branch name is ${ALLOWED}` });
}
