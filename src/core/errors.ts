/**
 * An error the user can fix: bad input, a wrong root, a refused write. The CLI prints its
 * message on one line and exits with `exitCode` (2 unless said otherwise).
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 2) {
    super(message);
    this.name = 'UserError';
  }
}
