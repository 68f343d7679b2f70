/** The orders `blocker list --sort` offers; apart so that defining the option loads nothing else. */
export const LIST_SORTS = ['banned', 'remaining', 'failures', 'ip', 'cause'] as const;
export type ListSort = (typeof LIST_SORTS)[number];
