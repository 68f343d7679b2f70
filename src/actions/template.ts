/**
 * Placeholders a hook's arguments may carry, each replaced by a plain string.
 * Each argument is expanded on its own and handed to the program as one
 * argv entry: no shell ever sees it, so an address or reason cannot inject.
 */
export const PLACEHOLDERS = ['ip', 'cause', 'duration', 'seconds', 'until', 'reason', 'failures', 'origin', 'event'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type HookValues = Readonly<Record<Placeholder, string>>;

const TOKEN = /\{(\w+)\}/g;

/** What is wrong with one argument (an unknown placeholder), or null. */
export function templateProblem(arg: string): string | null {
  for (const [, name] of arg.matchAll(TOKEN)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(name!)) {
      return `unknown placeholder {${name}}: use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
    }
  }
  return null;
}

/** The argv of one run: each argument with its placeholders replaced. */
export function expand(command: readonly string[], values: HookValues): string[] {
  return command.map((arg) => arg.replace(TOKEN, (whole, name: string) => (name in values ? values[name as Placeholder] : whole)));
}
