/**
 * Repeat offenders get longer bans, like fail2ban's bantime.increment:
 * the n-th ban of an entry within `rememberFor` lasts banTime × factor^(n-1),
 * capped at maxBanTime.
 */
export interface EscalationRules {
  readonly factor: number;
  readonly maxBanTime: number;
  readonly rememberFor: number;
}

/** How many of `times` (ban times of one entry) fall within `rememberFor` before `now`. */
export function recentBans(times: readonly number[] | undefined, rememberFor: number, now: number): number {
  if (!times) return 0;
  let n = 0;
  for (const t of times) if (t > now - rememberFor && t <= now) n++;
  return n;
}

/** The duration of ban number `n` (1 for a first offence). */
export function banDuration(banTime: number, rules: EscalationRules | undefined, n: number): number {
  if (!rules || n <= 1) return banTime;
  const grown = banTime * Math.pow(rules.factor, n - 1);
  // A factor of 1 or a cap below banTime both mean "no growth", never a shorter ban.
  return Math.max(banTime, Math.min(grown, rules.maxBanTime));
}
