import type { Config } from '../config/schema.js';
import { loadBundledRanges } from '../policy/cdn-ranges.js';
import type { ProtectedRanges } from '../policy/protected.js';
import type { PolicyRules } from '../policy/thresholds.js';

/** Never-ban groups from the config: the allow list, then each selected CDN's bundled ranges. */
export function protectedGroups(cfg: Config): ProtectedRanges[] {
  return [
    { label: 'allow', ranges: cfg.policy.allow },
    ...cfg.policy.cdn.map((p) => ({ label: `cdn:${p}`, ranges: loadBundledRanges(p).ranges })),
  ];
}

export function policyRules(cfg: Config): PolicyRules {
  return {
    maxRetry: cfg.policy.maxRetry,
    findTime: cfg.policy.findTime,
    banTime: cfg.policy.banTime,
    protect: protectedGroups(cfg),
  };
}
