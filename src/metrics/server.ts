import { createServer, type Server } from 'node:http';
import { UserError } from '../errors.js';
import { parseListen } from './listen.js';
import type { Registry } from './registry.js';

export interface MetricsServer {
  /** Where it listens, e.g. `127.0.0.1:9477` (the real port when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Serves `GET /metrics` (and `/`, which points there) on `listen`. Anything
 * else is 404, anything but GET/HEAD 405. Scrapes are rendered on demand and
 * never touch the daemon's decisions.
 */
export async function startMetricsServer(listen: string, registry: Registry): Promise<MetricsServer> {
  const addr = parseListen(listen);
  if (typeof addr === 'string') throw new UserError(`config key metrics.listen: ${addr}`, 2);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('handshake-blocker: metrics are at /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    let body: string;
    try {
      body = registry.render();
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`cannot render metrics: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // A scraper that opens connections and sends nothing must not pile them up.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint =
        err.code === 'EADDRINUSE'
          ? 'another program uses that port: change metrics.listen or stop it'
          : err.code === 'EADDRNOTAVAIL'
            ? 'no interface here has that address: change metrics.listen'
            : err.code === 'EACCES'
              ? 'ports below 1024 need root: pick a higher port'
              : err.message;
      reject(new UserError(`cannot serve metrics on ${listen}: ${hint}`));
    });
    server.listen(addr.port, addr.host, () => resolve());
  });
  const bound = server.address();
  const port = bound && typeof bound === 'object' ? bound.port : addr.port;
  return {
    address: addr.host.includes(':') ? `[${addr.host}]:${port}` : `${addr.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
