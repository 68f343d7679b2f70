/** What a signature may be given by the program that runs it (the only way anything outside the line reaches it). */
export interface SignatureOptions {
  /**
   * The current time, used only to give a year to syslog stamps that have
   * none (`Nov 22 01:02:03`); a stamp more than a day after it is taken as
   * last year's.
   */
  readonly now: number;
  /**
   * nginx only: true when `pid` is a running nginx process. When given, a
   * record naming any other pid is not trusted (see README, "log injection").
   */
  readonly isNginxWorker?: (pid: number) => boolean;
}

/** "YYYY/MM/DD HH:MM:SS" at the very start of the line (nginx, Go's log package). */
export function startsWithSlashedStamp(line: string): boolean {
  return (
    line.length >= 19 &&
    line.charCodeAt(4) === 47 &&
    line.charCodeAt(7) === 47 &&
    line.charCodeAt(10) === 32 &&
    line.charCodeAt(13) === 58 &&
    line.charCodeAt(16) === 58 &&
    isDigit(line.charCodeAt(0)) &&
    isDigit(line.charCodeAt(3)) &&
    isDigit(line.charCodeAt(18))
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The part of a reason that the server wrote itself: Go servers quote or
 * bracket client-chosen values (an SNI name, ALPN protocols) inside their
 * messages, and a cause must never be read from text the client chose.
 */
export function serverWrittenPart(reason: string): string {
  const closed = reason.replace(/'[^']*'|"[^"]*"|\([^()]*\)|\[[^\][]*\]/g, ' ');
  // An opening mark left without its closing one starts client text that runs to the end.
  const open = closed.search(/['"(\[]/);
  return open < 0 ? closed : closed.slice(0, open);
}
