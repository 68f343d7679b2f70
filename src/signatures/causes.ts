/**
 * Why a handshake failed, as a small fixed set, so that policy can weigh causes
 * differently and `blocker check` can tell scanners from misconfiguration.
 */
export const CAUSES = ['eof', 'bad-key-share', 'protocol-mismatch', 'version-or-cipher', 'cert-rejected', 'sni', 'other'] as const;
export type Cause = (typeof CAUSES)[number];

/**
 * Each cause's place in CAUSES, for tables that count per cause. A switch:
 * looking the cause up as a key of an object was a megamorphic load for
 * every failure (perf: 1% of a worker's and of the reading thread's time).
 */
export function causeIndex(cause: Cause): number {
  switch (cause) {
    case 'eof':
      return 0;
    case 'bad-key-share':
      return 1;
    case 'protocol-mismatch':
      return 2;
    case 'version-or-cipher':
      return 3;
    case 'cert-rejected':
      return 4;
    case 'sni':
      return 5;
    case 'other':
      return 6;
  }
}

/** One line each, for `blocker check` and the README. */
export const CAUSE_HELP: Record<Cause, string> = {
  eof: 'client went away mid-handshake (connect-and-close, reset, timeout): typical of scanners and CDN probes',
  'bad-key-share': 'malformed ClientHello (bad key share, bad EC point)',
  'protocol-mismatch': 'not TLS at all: plain HTTP, a PROXY-protocol header or random bytes on a TLS port',
  'version-or-cipher': 'no common protocol version, cipher, group or signature algorithm',
  'cert-rejected': 'the client refused our certificate: a server-side problem, not an attack',
  sni: 'unknown or unsupported server name (SNI)',
  other: 'any other handshake failure',
};

/*
 * Ordered rules over the lower-cased reason text. The first that matches wins,
 * so the specific ones (a certificate alert) come before the generic ones.
 */
const RULES: readonly (readonly [RegExp, Cause])[] = [
  [/bad certificate|unknown ca\b|unknown certificate|certificate unknown|certificate expired|certificate revoked|unsupported certificate|certificate authority/, 'cert-rejected'],
  [/unrecognized name|no certificate available for|no certificates configured|missing server name|callback failed|unknown sni|handshake rejected/, 'sni'],
  [/bad key share|bad ecpoint|invalid client key share|invalid key share|bad key_share/, 'bad-key-share'],
  [/wrong version number|http request|https proxy request|unknown protocol|packet length too long|first record does not look like a tls handshake|plain http|http spoken on https port|bad record type|record layer failure|oversized record|proxy protocol|invalid request|length too long|record length/, 'protocol-mismatch'],
  [/unsupported protocol|version too low|version too high|protocol version|no shared cipher|no suitable signature algorithm|no shared signature algorithms|no shared groups|no suitable key share|only unsupported versions|no cipher suite supported|legacy version field|sslv2|inappropriate fallback|insufficient security|no protocols available|no ecdhe curve|unsupported elliptic curve|no mutually supported|handshake failure alert|alert handshake failure/, 'version-or-cipher'],
  [/^eof$|unexpected eof|\beof\b|connection reset|reset by peer|broken pipe|timed out|timeout|i\/o timeout|closed connection|connection closed|connection was closed|lost connection|interrupted by system|disconnected|connection aborted|connection error during ssl handshake/, 'eof'],
];

/** TLS alert numbers (RFC 8446 §6) as OpenSSL reports them: "SSL alert number 42". */
const ALERTS: Readonly<Record<number, Cause>> = {
  40: 'version-or-cipher', // handshake_failure
  42: 'cert-rejected', // bad_certificate
  43: 'cert-rejected', // unsupported_certificate
  44: 'cert-rejected', // certificate_revoked
  45: 'cert-rejected', // certificate_expired
  46: 'cert-rejected', // certificate_unknown
  48: 'cert-rejected', // unknown_ca
  70: 'version-or-cipher', // protocol_version
  71: 'version-or-cipher', // insufficient_security
  86: 'version-or-cipher', // inappropriate_fallback
  112: 'sni', // unrecognized_name
};

const cache = new Map<string, Cause>();

/**
 * The cause of one server-written reason ("bad key share", "EOF",
 * "remote error: tls: bad certificate", "sslv3 alert bad certificate:SSL alert number 42").
 * Reasons repeat endlessly in a log, so answers are cached (bounded).
 */
export function causeOf(reason: string): Cause {
  const hit = cache.get(reason);
  if (hit !== undefined) return hit;
  const cause = classify(reason.toLowerCase());
  if (cache.size >= 4096) cache.clear();
  cache.set(reason, cause);
  return cause;
}

function classify(text: string): Cause {
  for (const [re, cause] of RULES) if (re.test(text)) return cause;
  const alert = /alert number (\d{1,3})/.exec(text);
  if (alert) return ALERTS[Number(alert[1])] ?? 'other';
  return 'other';
}

/** The first cause in `reasons` that says more than `other`. */
export function causeOfAll(reasons: readonly string[]): Cause {
  for (const r of reasons) {
    const c = causeOf(r);
    if (c !== 'other') return c;
  }
  return 'other';
}

export function isCause(v: string): v is Cause {
  return (CAUSES as readonly string[]).includes(v);
}
