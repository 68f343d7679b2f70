/**
 * Reasons out of OpenSSL error strings as servers print them:
 *   error:141CF06C:SSL routines:tls_parse_ctos_key_share:bad key share        (1.1)
 *   error:0A00006C:SSL routines::bad key share                                (3.x)
 *   error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42
 *   error:0A000076:SSL routines::no suitable signature algorithm:ssl/statem/statem_srvr.c:2234:   (postfix)
 * and several of them in a row, separated by spaces (nginx puts every queued
 * error inside one pair of parentheses).
 */
const ERROR_HEAD = /(?:^|\s)error:[0-9A-Fa-f]{1,16}:/g;

export function opensslReasons(text: string): string[] {
  const heads = [...text.matchAll(ERROR_HEAD)];
  const out: string[] = [];
  for (let i = 0; i < heads.length; i++) {
    const from = heads[i]!.index! + heads[i]![0].length;
    const to = i + 1 < heads.length ? heads[i + 1]!.index! : text.length;
    const parts = text.slice(from, to).trim().split(':');
    // lib : func : reason [: extra data]
    const reason = (parts[2] ?? '').trim();
    if (!reason) continue;
    const extra = parts.slice(3).join(':').trim();
    out.push(/^SSL alert number \d+$/.test(extra) ? `${reason} (${extra})` : reason);
  }
  return out;
}
