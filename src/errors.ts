/**
 * An error the user can fix: the CLI prints its message without a stack.
 * `exitCode` 2 is for usage and configuration, 1 for runtime problems.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
