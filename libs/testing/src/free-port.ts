import { createServer } from 'node:net';

/*
 * Ports come from below the kernel's ephemeral range (32768+ on Linux): a port the OS hands out for
 * `listen(0)` is free only until some outgoing connection (to Redis, Postgres, a child service) is
 * given it as its local port, and a spawned service then fails with EADDRINUSE. Each jest worker
 * gets its own block so two workers never pick the same port; inside a worker a cursor walks the
 * block and skips ports something is still listening on.
 */
const FIRST_PORT = 10_000;
const BLOCK_SIZE = 1_000;
const BLOCKS = 22; // 10000..31999, below the ephemeral range

const block = (() => {
  const worker = Number(process.env.JEST_WORKER_ID);
  const index = Number.isInteger(worker) && worker > 0 ? worker - 1 : process.pid;
  return FIRST_PORT + (index % BLOCKS) * BLOCK_SIZE;
})();
let cursor = Math.floor(Math.random() * BLOCK_SIZE);

/** A TCP port on 127.0.0.1 that is free now and that no other jest worker will be given. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < BLOCK_SIZE; attempt++) {
    const port = block + (cursor++ % BLOCK_SIZE);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${block}..${block + BLOCK_SIZE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
